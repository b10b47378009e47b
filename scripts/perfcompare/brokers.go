package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// broker is one side of the comparison. Start always gives a freshly
// started broker with an empty data directory.
type broker interface {
	Name() string
	URL() string
	Start(ctx context.Context, label string) error
	Stop() error
	// PID is the process that holds the broker's memory (warren, or the
	// node's beam.smp); 0 when not running.
	PID() int
	// Crashed reports an exit that was not ours, with the log's tail.
	Crashed() (bool, string)
}

// ---- Warren ----------------------------------------------------------------

type warrenBroker struct {
	bin      string
	dir      string // data directories and logs go under it
	port     int
	pprof    string // --pprof address; empty is off
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	stopping bool
	logPath  string
	dataDir  string
}

func (w *warrenBroker) Name() string { return "Warren" }

func (w *warrenBroker) URL() string { return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", w.port) }

func (w *warrenBroker) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(w.port)) }

func (w *warrenBroker) Start(ctx context.Context, label string) error {
	if w.cmd != nil {
		if err := w.Stop(); err != nil {
			return err
		}
	}
	if portOpen(w.addr()) {
		return fmt.Errorf("port %d is taken by another process; pick --warren-port", w.port)
	}
	w.dataDir = filepath.Join(w.dir, "warren-data-"+label)
	if err := os.RemoveAll(w.dataDir); err != nil {
		return err
	}
	w.logPath = filepath.Join(w.dir, "warren-"+label+".log")
	logf, err := os.Create(w.logPath)
	if err != nil {
		return err
	}
	args := []string{"--listen", w.addr(), "--data-dir", w.dataDir, "--log-level", "warn"}
	if w.pprof != "" {
		args = append(args, "--pprof", w.pprof)
	}
	cmd := exec.Command(w.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return err
	}
	w.cmd, w.done, w.waitErr, w.stopping = cmd, make(chan struct{}), nil, false
	go func() {
		w.waitErr = cmd.Wait()
		_ = logf.Close()
		close(w.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !portOpen(w.addr()) {
		select {
		case <-w.done:
			return fmt.Errorf("warren exited at start-up (%v):\n%s", w.waitErr, tail(w.logPath, 30))
		case <-ctx.Done():
			_ = w.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = w.Stop()
			return fmt.Errorf("warren did not listen on %s within 30s", w.addr())
		}
	}
	return nil
}

func (w *warrenBroker) Stop() error {
	if w.cmd == nil {
		return nil
	}
	defer func() { w.cmd = nil; _ = os.RemoveAll(w.dataDir) }()
	w.stopping = true
	select {
	case <-w.done:
		return nil // already gone; Crashed says how
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		return nil
	case <-time.After(20 * time.Second):
	}
	_ = w.cmd.Process.Kill()
	<-w.done
	return fmt.Errorf("warren (pid %d) ignored SIGTERM for 20s; killed", w.cmd.Process.Pid)
}

func (w *warrenBroker) PID() int {
	if w.cmd == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

func (w *warrenBroker) Crashed() (bool, string) {
	if w.cmd == nil || w.done == nil {
		return false, ""
	}
	select {
	case <-w.done:
		return true, fmt.Sprintf("warren exited during the run (%v); log %s:\n%s", w.waitErr, w.logPath, tail(w.logPath, 40))
	default:
		return false, ""
	}
}

// ---- RabbitMQ --------------------------------------------------------------

// rabbitBroker drives scripts/rabbitmq-node.sh for a node of its own (own
// port, node name and data directory under .rabbitmq/<port>/).
type rabbitBroker struct {
	repo    string
	port    int
	node    string
	pid     int
	Version string // the node's, once it has run
}

func (r *rabbitBroker) Name() string { return "RabbitMQ" }

func (r *rabbitBroker) URL() string { return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", r.port) }

func (r *rabbitBroker) base() string {
	return filepath.Join(r.repo, ".rabbitmq", strconv.Itoa(r.port))
}

// script runs rabbitmq-node.sh with this node's environment.
func (r *rabbitBroker) script(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.repo, "scripts", "rabbitmq-node.sh"), args...)
	cmd.Env = append(os.Environ(),
		"RABBITMQ_PORT="+strconv.Itoa(r.port),
		"WARREN_RABBITMQ_NODE="+r.node,
	)
	// The output goes to a file, not a pipe: the node started in the
	// background inherits the script's descriptors, and a pipe held open
	// by it would never reach EOF.
	out, err := os.CreateTemp("", "rabbitmq-node-*.out")
	if err != nil {
		return "", err
	}
	defer func() { _ = out.Close(); _ = os.Remove(out.Name()) }()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	b, _ := os.ReadFile(out.Name())
	return string(b), err
}

func (r *rabbitBroker) Start(ctx context.Context, _ string) error {
	if err := r.Stop(); err != nil {
		return err
	}
	// A fresh data directory: no definitions, no message store left by
	// the previous run (the disk backlog of a persistent scenario).
	mnesia := filepath.Join(r.base(), "mnesia")
	if err := os.RemoveAll(mnesia); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if out, err := r.script(sctx, "start"); err != nil {
		return fmt.Errorf("rabbitmq-node.sh start: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(r.base(), "node.pid"))
	if err != nil {
		return fmt.Errorf("the node's pid file: %w", err)
	}
	r.pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("the node's pid file: %w", err)
	}
	if comm := procComm(r.pid); comm != "beam.smp" {
		return fmt.Errorf("the node's pid %d is %q, not beam.smp", r.pid, comm)
	}
	if r.Version == "" {
		r.Version = r.version(ctx)
	}
	return nil
}

func (r *rabbitBroker) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := r.script(ctx, "stop")
	r.pid = 0
	if err != nil {
		return fmt.Errorf("rabbitmq-node.sh stop: %v\n%s", err, out)
	}
	return nil
}

func (r *rabbitBroker) PID() int { return r.pid }

func (r *rabbitBroker) Crashed() (bool, string) {
	if r.pid == 0 || syscall.Kill(r.pid, 0) == nil {
		return false, ""
	}
	logf := filepath.Join(r.base(), "log", r.node+".log")
	return true, fmt.Sprintf("the RabbitMQ node (pid %d) exited during the run; log %s:\n%s", r.pid, logf, tail(logf, 40))
}

// version asks the running node for its version.
func (r *rabbitBroker) version(ctx context.Context) string {
	out, err := r.script(ctx, "ctl", "-q", "version")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(out)
}

// ---- /proc -----------------------------------------------------------------

// rssKiB is a process's resident set size in KiB.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// socketFDs counts a process's open sockets.
func socketFDs(pid int) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// cpuSeconds is a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// busyCPUSeconds is the CPU time the whole machine has spent busy
// (everything but idle and iowait) since boot.
func busyCPUSeconds() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return busy / 100
}

// openFileLimit is a process's soft limit of open files.
func openFileLimit(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			if len(f) >= 4 {
				n, _ := strconv.Atoi(f[3])
				return n
			}
		}
	}
	return -1
}

func procComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
