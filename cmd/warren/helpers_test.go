package main_test

// Helpers for the tests of the real daemon binary: TestMain builds it once
// per run of the package (without -race, whatever the tests use), and
// startDaemon runs it on a free port of 127.0.0.1 with a given data
// directory, waits until it accepts AMQP connections, and kills it in
// t.Cleanup if the test has not stopped it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// warrenBin is the daemon binary built by TestMain.
var warrenBin string

// Generous limits for a busy 2-core machine: they only bound how long a
// broken test hangs, they assert nothing about speed.
const (
	startTimeout = 60 * time.Second // until the daemon accepts connections
	exitTimeout  = 60 * time.Second // a daemon that must exit on its own
	stopTimeout  = 10 * time.Second // graceful shutdown after a signal (the brief's bound)
	rpcTimeout   = 30 * time.Second // one client wait
)

// acceptingMsg is the log message of the daemon once it accepts AMQP
// connections.
const acceptingMsg = "accepting AMQP connections"

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "warren-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "warren tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := findGo()
	if err != nil {
		fmt.Fprintln(os.Stderr, "warren tests: no go command:", err)
		return 1
	}
	bin := filepath.Join(dir, "warren")
	// The test runs in the package directory, so "." is the daemon.
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "warren tests: go build: %v\n%s", err, out)
		return 1
	}
	warrenBin = bin
	return m.Run()
}

// findGo returns the go command of the toolchain running the tests if
// GOROOT names one, else the one on PATH.
func findGo() (string, error) {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("go")
}

// daemon is one running warren process.
type daemon struct {
	t      testing.TB
	dir    string // --data-dir
	addr   string // --listen
	cmd    *exec.Cmd
	log    *logBuffer
	exited chan struct{} // closed once the process has exited and is reaped
	state  *os.ProcessState
}

// startDaemon starts warren on dir and returns once it accepts AMQP
// connections. A port taken between choosing it and the daemon binding it
// is retried with another.
func startDaemon(t testing.TB, dir string, args ...string) *daemon {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d := spawn(t, dir, freeAddr(t), args...)
		select {
		case <-d.log.ready:
			d.waitAMQP()
			return d
		case <-d.exited:
			if attempt < 5 && strings.Contains(d.log.String(), "address already in use") {
				t.Logf("warren could not bind %s, retrying on another port", d.addr)
				continue
			}
			t.Fatalf("warren exited (%v) before accepting connections:\n%s", d.state, d.log)
		case <-time.After(startTimeout):
			t.Fatalf("warren not accepting connections after %v:\n%s", startTimeout, d.log)
		}
	}
}

// spawn starts the process and registers its cleanup: kill it if it still
// runs, reap it, and show its log if the test failed.
func spawn(t testing.TB, dir, addr string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, dir: dir, addr: addr, log: newLogBuffer(), exited: make(chan struct{})}
	argv := append([]string{"--listen", addr, "--data-dir", dir, "--log-level", "info", "--log-format", "json"}, args...)
	d.cmd = exec.Command(warrenBin, argv...)
	d.cmd.Stdout = d.log
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start warren: %v", err)
	}
	go func() {
		_ = d.cmd.Wait() // the exit status is in ProcessState
		d.state = d.cmd.ProcessState
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("log of warren pid %d (--listen %s --data-dir %s):\n%s", d.cmd.Process.Pid, addr, dir, d.log)
		}
	})
	return d
}

// freeAddr returns 127.0.0.1 with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return addr
}

// waitAMQP returns once an AMQP handshake with the daemon succeeds.
func (d *daemon) waitAMQP() {
	d.t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := amqp091.DialConfig(d.url(), amqp091.Config{Dial: amqp091.DefaultDial(rpcTimeout)})
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-d.exited:
			d.t.Fatalf("warren exited (%v) while waiting for AMQP: %v\n%s", d.state, err, d.log)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no AMQP handshake with warren on %s: %v\n%s", d.addr, err, d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) url() string { return "amqp://guest:guest@" + d.addr + "/" }

// signal sends sig to the daemon.
func (d *daemon) signal(sig os.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitExit waits at most timeout for the process to exit and returns its
// state.
func (d *daemon) waitExit(timeout time.Duration) *os.ProcessState {
	d.t.Helper()
	select {
	case <-d.exited:
		return d.state
	case <-time.After(timeout):
		d.t.Fatalf("warren (pid %d) has not exited %v after being told to:\n%s", d.cmd.Process.Pid, timeout, d.log)
		return nil
	}
}

// stop shuts the daemon down with SIGTERM and checks that it exits with
// status 0.
func (d *daemon) stop() {
	d.t.Helper()
	d.signal(syscall.SIGTERM)
	if st := d.waitExit(stopTimeout); st.ExitCode() != 0 {
		d.t.Fatalf("warren exited with %v after SIGTERM, want status 0%s:\n%s", st, diagnoseExit(st), d.log)
	}
}

// diagnoseExit explains an exit by the default action of SIGTERM or
// SIGINT: the signal arrived before the daemon asked for it.
func diagnoseExit(st *os.ProcessState) string {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || (ws.Signal() != syscall.SIGTERM && ws.Signal() != syscall.SIGINT) {
		return ""
	}
	return " (killed by the signal's default action: no handler was installed yet, although the daemon " +
		"already accepted connections; main.go calls signal.Notify only after starting Serve)"
}

// kill sends SIGKILL and waits until the process is gone.
func (d *daemon) kill() {
	d.t.Helper()
	d.signal(syscall.SIGKILL)
	st := d.waitExit(exitTimeout)
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		d.t.Fatalf("warren exited with %v, want killed by SIGKILL", st)
	}
}

// logBuffer collects the daemon's output and notices the line that says
// it accepts connections.
type logBuffer struct {
	mu      sync.Mutex
	buf     []byte
	scanned int // bytes of buf looked at for complete lines
	ready   chan struct{}
	once    sync.Once
}

func newLogBuffer() *logBuffer { return &logBuffer{ready: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := bytes.IndexByte(b.buf[b.scanned:], '\n')
		if i < 0 {
			break
		}
		line := b.buf[b.scanned : b.scanned+i]
		b.scanned += i + 1
		if e, ok := parseLogLine(line); ok && e["message"] == acceptingMsg {
			b.once.Do(func() { close(b.ready) })
		}
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// entries returns the JSON log entries with the given message.
func (b *logBuffer) entries(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(b.String(), "\n") {
		if e, ok := parseLogLine([]byte(line)); ok && e["message"] == msg {
			out = append(out, e)
		}
	}
	return out
}

func parseLogLine(line []byte) (map[string]any, bool) {
	var e map[string]any
	if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &e) != nil {
		return nil, false
	}
	return e, true
}

// dial opens a client connection, closed at cleanup.
func dial(t testing.TB, d *daemon) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.DialConfig(d.url(), amqp091.Config{Dial: amqp091.DefaultDial(rpcTimeout)})
	if err != nil {
		t.Fatalf("dial %s: %v", d.addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// channel opens a channel on a new connection.
func channel(t testing.TB, d *daemon) *amqp091.Channel {
	t.Helper()
	ch, err := dial(t, d).Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	return ch
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isCode(err error, code int) bool {
	var ae *amqp091.Error
	return errors.As(err, &ae) && ae.Code == code
}
