// Command perfcompare runs the Warren/RabbitMQ performance comparison: each
// scenario of docs/PERFORMANCE.md with warren-perf against Warren and
// against a private RabbitMQ node (scripts/rabbitmq-node.sh on its own
// port, node name and data directory), alternating Warren, RabbitMQ,
// Warren, RabbitMQ… for --pairs pairs. Every run gets a freshly started
// broker with an empty data directory, so no backlog, in memory or on disk,
// carries over. It prints the medians and the ratios Warren/RabbitMQ and
// writes them as JSON and Markdown.
//
//	go run ./scripts/perfcompare [--pairs 3] [--time 10s] [--scenarios 1,2,…]
//	make perf-compare PERF_COMPARE_FLAGS='--pairs 1 --time 3s'
//
// With --profile, it then runs Warren once more (unmeasured) for each of
// --profile-scenarios with --pprof and saves a CPU profile and its
// `go tool pprof -top`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	pairs         int
	runTime       time.Duration
	idleTime      time.Duration
	latencyTime   time.Duration
	scenarios     string
	client        string
	warrenPort    int
	rabbitPort    int
	rabbitNode    string
	outDir        string
	settle        time.Duration
	idleSettle    time.Duration
	profile       bool
	profileSpec   string
	profileTime   time.Duration
	pprofAddr     string
	markdownPath  string
	jsonPath      string
	repo          string
	sharedRabbitP int
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "perfcompare:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("perfcompare", flag.ContinueOnError)
	fs.IntVar(&o.pairs, "pairs", 3, "runs per broker and scenario, alternating Warren, RabbitMQ, Warren, RabbitMQ…")
	fs.DurationVar(&o.runTime, "time", 10*time.Second, "length of each run (warren-perf -z)")
	fs.DurationVar(&o.idleTime, "idle-time", 30*time.Second, "length of the idle-connection run (scenario 7)")
	fs.DurationVar(&o.latencyTime, "latency-time", 30*time.Second, "length of the latency runs (scenario 6): a p99 over 30,000 samples rather than 10,000")
	fs.StringVar(&o.scenarios, "scenarios", "all", "scenarios to run, e.g. 1,2,4")
	fs.StringVar(&o.client, "client", "pipelined", "warren-perf client mode, the same for both brokers: pipelined or amqp091")
	fs.IntVar(&o.warrenPort, "warren-port", 5690, "AMQP port of the Warren under test")
	fs.IntVar(&o.rabbitPort, "rabbitmq-port", 5674, "AMQP port of the private RabbitMQ node (its data is under .rabbitmq/<port>/)")
	fs.StringVar(&o.rabbitNode, "rabbitmq-node", "", "RabbitMQ node name (default warren-perf-<port>@localhost)")
	fs.StringVar(&o.outDir, "out", "", "directory for raw results, logs, profiles and the summary (default a new one under $TMPDIR)")
	fs.StringVar(&o.markdownPath, "markdown", "", "also write the Markdown tables to this file")
	fs.StringVar(&o.jsonPath, "json", "", "also write the JSON summary to this file")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "pause between a broker's start and a run")
	fs.DurationVar(&o.idleSettle, "idle-settle", 5*time.Second, "scenario 7: pause after the broker's start, and after the connections are open, before each RSS sample")
	fs.BoolVar(&o.profile, "profile", false, "after the comparison, profile Warren (CPU, unmeasured runs) in --profile-scenarios")
	fs.StringVar(&o.profileSpec, "profile-scenarios", "1,2,4", "scenarios to profile with --profile")
	fs.DurationVar(&o.profileTime, "profile-seconds", 6*time.Second, "length of each CPU profile")
	fs.StringVar(&o.pprofAddr, "pprof", "127.0.0.1:6090", "Warren's --pprof address in the profiling runs")
	fs.StringVar(&o.repo, "repo", "", "the Warren checkout (default: the module around the working directory)")
	fs.IntVar(&o.sharedRabbitP, "shared-rabbitmq-port", 5673, "port of a node others use, never to be touched: --rabbitmq-port may not be it")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: go run ./scripts/perfcompare [flags]\n\n"+
			"Compares Warren with a private RabbitMQ node, scenario by scenario, with warren-perf.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.pairs < 1 {
		return errors.New("--pairs must be at least 1")
	}
	if o.rabbitPort == o.sharedRabbitP {
		return fmt.Errorf("--rabbitmq-port %d is the shared node's; pick another", o.rabbitPort)
	}
	if o.rabbitNode == "" {
		o.rabbitNode = fmt.Sprintf("warren-perf-%d@localhost", o.rabbitPort)
	}
	scs, err := pickScenarios(o.scenarios)
	if err != nil {
		return err
	}
	var profScs []scenario
	if o.profile {
		if profScs, err = pickScenarios(o.profileSpec); err != nil {
			return err
		}
	}
	if o.repo == "" {
		if o.repo, err = moduleRoot(); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(o.repo, "scripts", "rabbitmq-node.sh")); err != nil {
		return fmt.Errorf("--repo %s: %w", o.repo, err)
	}
	if o.outDir == "" {
		o.outDir = filepath.Join(os.TempDir(), "warren-perf-compare-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	raiseFileLimit()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "perfcompare: results in %s\n", o.outDir)
	binDir := filepath.Join(o.outDir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", binDir+string(filepath.Separator), "./cmd/warren", "./cmd/warren-perf")
	build.Dir, build.Stdout, build.Stderr = o.repo, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building warren and warren-perf: %w", err)
	}
	perfBin := filepath.Join(binDir, "warren-perf")
	warrenBin := filepath.Join(binDir, "warren")

	rep := &report{
		Started:     time.Now(),
		Machine:     machineInfo(),
		Revision:    gitRevision(o.repo),
		Client:      o.client,
		Pairs:       o.pairs,
		RunTime:     o.runTime.String(),
		IdleTime:    o.idleTime.String(),
		LatencyTime: o.latencyTime.String(),
	}
	w := &warrenBroker{bin: warrenBin, dir: o.outDir, port: o.warrenPort}
	r := &rabbitBroker{repo: o.repo, port: o.rabbitPort, node: o.rabbitNode}
	defer func() {
		if err := w.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "perfcompare:", err)
		}
		if err := r.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "perfcompare:", err)
		}
	}()

	for _, sc := range scs {
		fmt.Fprintf(os.Stderr, "== scenario %d: %s\n", sc.ID, sc.Name)
		for p := 1; p <= o.pairs; p++ {
			for _, b := range []broker{w, r} {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				res := runOne(ctx, o, perfBin, b, sc, p)
				fmt.Fprintf(os.Stderr, "   %s\n", res.line(sc.Metric))
				rep.Runs = append(rep.Runs, res)
			}
		}
	}
	rep.RabbitMQVersion = r.Version
	rep.Finished = time.Now()
	rep.summarize(scs)
	if err := r.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "perfcompare:", err)
	}

	if o.profile {
		pw := &warrenBroker{bin: warrenBin, dir: o.outDir, port: o.warrenPort, pprof: o.pprofAddr}
		for _, sc := range profScs {
			if ctx.Err() != nil {
				break
			}
			top, err := profileWarren(ctx, o, pw, perfBin, sc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "perfcompare: profiling scenario %d: %v\n", sc.ID, err)
				continue
			}
			rep.Profiles = append(rep.Profiles, top)
		}
	}

	md := rep.markdown()
	fmt.Println(rep.text())
	files := map[string][]byte{filepath.Join(o.outDir, "summary.md"): []byte(md)}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	files[filepath.Join(o.outDir, "summary.json")] = append(js, '\n')
	if o.markdownPath != "" {
		files[o.markdownPath] = []byte(md)
	}
	if o.jsonPath != "" {
		files[o.jsonPath] = append(js, '\n')
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "perfcompare: summary in %s/summary.{md,json}\n", o.outDir)
	if rep.failedRuns() > 0 {
		return fmt.Errorf("%d runs failed; see above and %s", rep.failedRuns(), o.outDir)
	}
	return nil
}

// perfResult is the part of warren-perf's --json output the comparison
// reads.
type perfResult struct {
	Seconds   float64 `json:"seconds"`
	EndReason string  `json:"end_reason"`
	Published struct {
		Messages    uint64  `json:"messages"`
		Rate        float64 `json:"rate"`
		Confirmed   uint64  `json:"confirmed"`
		ConfirmRate float64 `json:"confirm_rate"`
	} `json:"published"`
	Consumed struct {
		Messages uint64  `json:"messages"`
		Rate     float64 `json:"rate"`
		Total    uint64  `json:"total"`
	} `json:"consumed"`
	Latency struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_us"`
	Integrity struct {
		Verdict string `json:"verdict"`
	} `json:"integrity"`
	Idle *struct {
		Opened int `json:"opened"`
	} `json:"idle_connections"`
	Blocked  int      `json:"blocked"`
	Warnings []string `json:"warnings"`
	Errors   []string `json:"errors"`
	ExitCode int      `json:"exit_code"`
	Samples  []struct {
		T           float64 `json:"t"`
		PublishRate float64 `json:"publish_rate"`
		ConsumeRate float64 `json:"consume_rate"`
		Draining    bool    `json:"draining"`
	} `json:"samples"`
}

// timeFor is the length of sc's measured runs.
func (o options) timeFor(sc scenario) time.Duration {
	if sc.Metric == metricLatency {
		return o.latencyTime
	}
	return o.runTime
}

// runOne starts b fresh, runs one scenario against it and stops it.
func runOne(ctx context.Context, o options, perfBin string, b broker, sc scenario, pair int) runResult {
	res := runResult{Scenario: sc.ID, Broker: b.Name(), Pair: pair, Started: time.Now()}
	label := fmt.Sprintf("s%d-p%d-%s", sc.ID, pair, strings.ToLower(b.Name()))
	if err := b.Start(ctx, label); err != nil {
		res.Failure = "start: " + err.Error()
		return res
	}
	defer func() {
		if err := b.Stop(); err != nil && res.Failure == "" {
			res.Failure = "stop: " + err.Error()
		}
	}()
	settle := o.settle
	if sc.Idle > 0 {
		settle = o.idleSettle
	}
	if !sleep(ctx, settle) {
		res.Failure = "interrupted"
		return res
	}
	pid := b.PID()
	res.BrokerPID = pid
	var baseSockets int
	if sc.Idle > 0 {
		if lim := openFileLimit(pid); lim >= 0 && lim < sc.Idle+100 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the broker's open-file limit is %d", lim))
		}
		rss, err := rssKiB(pid)
		if err != nil {
			res.Failure = "RSS: " + err.Error()
			return res
		}
		res.RSSBeforeKiB = rss
		baseSockets = socketFDs(pid)
	}
	res.Load1 = loadAvg()
	cpu0, busy0 := cpuSeconds(pid), busyCPUSeconds()

	runTime := o.timeFor(sc)
	if sc.Idle > 0 {
		runTime = o.idleTime
	}
	pctx, cancel := context.WithTimeout(ctx, runTime+3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(pctx, perfBin, sc.perfArgs(b.URL(), o.client, o.timeFor(sc), o.idleTime)...)
	// An interrupt ends warren-perf's measured phase and lets it report.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 20 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		res.Failure = "warren-perf: " + err.Error()
		return res
	}
	waitc := make(chan error, 1)
	go func() { waitc <- cmd.Wait() }()
	var waitErr error
	exited := false
	if sc.Idle > 0 {
		// Once every connection is open (the broker holds that many more
		// sockets) and has settled, sample the broker's RSS.
		deadline := time.Now().Add(runTime - o.idleSettle - time.Second)
	poll:
		for socketFDs(pid)-baseSockets < sc.Idle && time.Now().Before(deadline) {
			select {
			case waitErr = <-waitc:
				exited = true
				break poll
			case <-time.After(200 * time.Millisecond):
			}
		}
		res.IdleSockets = socketFDs(pid) - baseSockets
		if !exited {
			select {
			case waitErr = <-waitc:
				exited = true
			case <-time.After(o.idleSettle):
			}
		}
		if !exited {
			if rss, err := rssKiB(pid); err == nil {
				res.RSSAfterKiB = rss
			}
		}
	}
	if !exited {
		waitErr = <-waitc
	}
	res.BrokerCPUSeconds = cpuSeconds(pid) - cpu0
	if ps := cmd.ProcessState; ps != nil {
		res.ClientCPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	// What the rest of the machine used meanwhile: other people's load.
	res.OtherCPUSeconds = max(0, busyCPUSeconds()-busy0-res.BrokerCPUSeconds-res.ClientCPUSeconds)
	raw := filepath.Join(o.outDir, label+".json")
	_ = os.WriteFile(raw, stdout.Bytes(), 0o644)
	if stderr.Len() > 0 {
		_ = os.WriteFile(filepath.Join(o.outDir, label+".stderr"), stderr.Bytes(), 0o644)
	}
	res.Raw = raw
	if crashed, msg := b.Crashed(); crashed {
		res.Failure = msg
		return res
	}
	var pr perfResult
	if err := json.Unmarshal(stdout.Bytes(), &pr); err != nil {
		res.Failure = fmt.Sprintf("warren-perf (%v): %s", waitErr, strings.TrimSpace(stderr.String()))
		return res
	}
	res.fill(pr, sc.Copies)
	if sc.Idle > 0 {
		switch {
		case res.Opened < sc.Idle:
			res.Failure = fmt.Sprintf("only %d of %d idle connections opened", res.Opened, sc.Idle)
		case res.RSSAfterKiB == 0:
			res.Failure = "the run ended before the RSS sample"
		default:
			res.KiBPerConn = float64(res.RSSAfterKiB-res.RSSBeforeKiB) / float64(sc.Idle)
		}
	}
	if res.Failure == "" && pr.ExitCode == 3 {
		res.Failure = "warren-perf: the run failed: " + strings.Join(pr.Errors, "; ")
	}
	return res
}

// profileWarren runs sc against a Warren with --pprof (not measured) and
// saves a CPU profile taken in the middle of the run, and its top.
func profileWarren(ctx context.Context, o options, w *warrenBroker, perfBin string, sc scenario) (profile, error) {
	p := profile{Scenario: sc.ID}
	label := fmt.Sprintf("profile-s%d", sc.ID)
	if err := w.Start(ctx, label); err != nil {
		return p, err
	}
	defer func() { _ = w.Stop() }()
	runTime := max(o.runTime, o.profileTime+4*time.Second)
	cmd := exec.CommandContext(ctx, perfBin, sc.perfArgs(w.URL(), o.client, runTime, o.idleTime)...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return p, err
	}
	waitc := make(chan error, 1)
	go func() { waitc <- cmd.Wait() }()
	sleep(ctx, 2*time.Second)
	p.Path = filepath.Join(o.outDir, label+".pprof")
	perr := fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", o.pprofAddr, int(o.profileTime.Seconds())), p.Path)
	werr := <-waitc
	if perr != nil {
		return p, perr
	}
	var pr perfResult
	if err := json.Unmarshal(stdout.Bytes(), &pr); err == nil {
		p.ConsumeRate, p.PublishRate = pr.Consumed.Rate, pr.Published.Rate
	} else {
		return p, fmt.Errorf("warren-perf: %v", werr)
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=30", w.bin, p.Path).Output()
	if err != nil {
		return p, fmt.Errorf("go tool pprof: %w", err)
	}
	p.Top = string(top)
	p.TopPath = filepath.Join(o.outDir, label+".top.txt")
	return p, os.WriteFile(p.TopPath, top, 0o644)
}

func fetch(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// sleep waits d or until ctx is done; false means interrupted.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one, for the
// client's connections and for the brokers, which inherit it (the
// RabbitMQ script raises it again as far as it may).
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// moduleRoot is the directory of the go.mod around the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; pass --repo")
		}
		dir = parent
	}
}

func gitRevision(repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " (with uncommitted changes)"
	}
	return rev
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if vs, _ := filepath.Glob("/usr/lib/erlang/releases/*/OTP_VERSION"); len(vs) > 0 {
		if b, err := os.ReadFile(vs[0]); err == nil {
			m.Erlang = strings.TrimSpace(string(b))
		}
	}
	return m
}
