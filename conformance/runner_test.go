package conformance

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The runner's tests use fake cases, never the registry or a broker.

// generous bounds waits that should end at once; it only matters when the
// runner is broken.
const generous = 10 * time.Second

var fakeEnv = &Env{URL: "amqp://guest:guest@127.0.0.1:1/"}

func TestRunPass(t *testing.T) {
	c := Case{Section: "basic", Name: "pass", Run: func(t T, env *Env) {
		if env != fakeEnv {
			t.Errorf("wrong env")
		}
		t.Logf("hello %d", 42)
	}}
	r := Run(c, fakeEnv, generous)
	if !r.Passed || r.TimedOut || len(r.Failures) != 0 {
		t.Fatalf("result %+v, want a pass", r)
	}
	if r.Section != "basic" || r.Name != "pass" || r.FullName() != "basic/pass" {
		t.Errorf("section/name = %q", r.FullName())
	}
	if len(r.Log) != 1 || !strings.HasSuffix(r.Log[0], ": hello 42") || !strings.HasPrefix(r.Log[0], "runner_test.go:") {
		t.Errorf("log = %q, want [\"runner_test.go:N: hello 42\"]", r.Log)
	}
}

func TestRunFatalfStopsCase(t *testing.T) {
	reached := false
	c := Case{Section: "queue", Name: "fatal", Run: func(t T, _ *Env) {
		t.Fatalf("boom %s", "here")
		reached = true
	}}
	r := Run(c, fakeEnv, generous)
	if r.Passed || r.TimedOut {
		t.Fatalf("result %+v, want a failure", r)
	}
	// Run returned, so the case goroutine is gone (done is closed after
	// Goexit); reading reached is ordered after it.
	if reached {
		t.Error("code after Fatalf ran")
	}
	if len(r.Failures) != 1 || !strings.HasSuffix(r.Failures[0], ": boom here") {
		t.Errorf("failures = %q", r.Failures)
	}
}

func TestRunErrorfContinues(t *testing.T) {
	var sawFailed bool
	c := Case{Section: "queue", Name: "errorf", Run: func(t T, _ *Env) {
		t.Errorf("first")
		sawFailed = t.Failed()
		t.Errorf("second")
	}}
	r := Run(c, fakeEnv, generous)
	if r.Passed || !sawFailed {
		t.Fatalf("passed=%v, Failed() inside=%v", r.Passed, sawFailed)
	}
	if len(r.Failures) != 2 {
		t.Errorf("failures = %q, want both", r.Failures)
	}
}

func TestRunPanicIsFailure(t *testing.T) {
	cleaned := false
	c := Case{Section: "basic", Name: "panic", Run: func(t T, _ *Env) {
		t.Cleanup(func() { cleaned = true })
		panic("kaboom")
	}}
	r := Run(c, fakeEnv, generous)
	if r.Passed || r.TimedOut {
		t.Fatalf("result %+v, want a failure", r)
	}
	if len(r.Failures) != 1 {
		t.Fatalf("failures = %q", r.Failures)
	}
	f := r.Failures[0]
	if !strings.HasPrefix(f, "panic: kaboom\n") {
		t.Errorf("failure %q does not start with the panic value", f)
	}
	if !strings.Contains(f, "goroutine ") || !strings.Contains(f, "runner_test.go") {
		t.Errorf("failure has no stack pointing at the case:\n%s", f)
	}
	if !cleaned {
		t.Error("cleanup did not run after the panic")
	}
}

func TestRunTimeout(t *testing.T) {
	block := make(chan struct{})
	cleaned := make(chan struct{})
	c := Case{Section: "confirm", Name: "hang", Run: func(t T, _ *Env) {
		t.Cleanup(func() { close(cleaned) })
		<-block
		t.Errorf("reported after the timeout")
	}}
	start := time.Now()
	r := Run(c, fakeEnv, 50*time.Millisecond)
	if elapsed := time.Since(start); elapsed > generous {
		t.Fatalf("Run took %v", elapsed)
	}
	if r.Passed || !r.TimedOut {
		t.Fatalf("result %+v, want a timeout failure", r)
	}
	if len(r.Failures) != 1 || !strings.Contains(r.Failures[0], "timed out after 50ms") ||
		!strings.Contains(r.Failures[0], "left running") {
		t.Errorf("failures = %q", r.Failures)
	}

	// Release the case: its cleanups run when it returns, and what it
	// reports late does not change the result already returned.
	close(block)
	select {
	case <-cleaned:
	case <-time.After(generous):
		t.Fatal("cleanup of the timed-out case never ran")
	}
	if len(r.Failures) != 1 {
		t.Errorf("late Errorf leaked into the result: %q", r.Failures)
	}
}

func TestRunCleanupOrder(t *testing.T) {
	var order []string
	add := func(s string) func() { return func() { order = append(order, s) } }
	c := Case{Section: "tx", Name: "cleanup", Run: func(t T, _ *Env) {
		t.Cleanup(add("first"))
		t.Cleanup(func() {
			add("second")()
			t.Cleanup(add("added-by-second"))
		})
		t.Cleanup(func() {
			add("third")()
			t.Fatalf("fatal in cleanup") // must not skip the others
		})
		t.Cleanup(func() {
			add("fourth")()
			panic("panic in cleanup") // must not skip the others
		})
		t.Fatalf("stop")
	}}
	r := Run(c, fakeEnv, generous)
	want := []string{"fourth", "third", "second", "added-by-second", "first"}
	if !slices.Equal(order, want) {
		t.Errorf("cleanup order %q, want %q", order, want)
	}
	if r.Passed || len(r.Failures) != 3 {
		t.Fatalf("failures = %q, want stop, the cleanup panic and the cleanup fatal", r.Failures)
	}
	if !strings.HasSuffix(r.Failures[0], ": stop") ||
		!strings.HasPrefix(r.Failures[1], "panic in cleanup: panic in cleanup") ||
		!strings.HasSuffix(r.Failures[2], ": fatal in cleanup") {
		t.Errorf("failures = %q", r.Failures)
	}
}

func TestRunCleanupAfterPass(t *testing.T) {
	var order []int
	c := Case{Section: "tx", Name: "cleanup-pass", Run: func(t T, _ *Env) {
		for i := range 3 {
			t.Cleanup(func() { order = append(order, i) })
		}
	}}
	if r := Run(c, fakeEnv, generous); !r.Passed {
		t.Fatalf("failures = %q", r.Failures)
	}
	if !slices.Equal(order, []int{2, 1, 0}) {
		t.Errorf("cleanup order %v, want [2 1 0]", order)
	}
}

// helperFails is a helper: its Fatalf is attributed to its caller.
func helperFails(t T) {
	t.Helper()
	t.Fatalf("from helper")
}

func TestRunHelperAttribution(t *testing.T) {
	var line int
	c := Case{Section: "basic", Name: "helper", Run: func(t T, _ *Env) {
		_, _, line, _ = runtime.Caller(0)
		helperFails(t) // line+1: the line the message must name
	}}
	r := Run(c, fakeEnv, generous)
	if want := fmt.Sprintf("runner_test.go:%d: from helper", line+1); !slices.Equal(r.Failures, []string{want}) {
		t.Fatalf("failures = %q, want [%q]", r.Failures, want)
	}
}

func TestRunNilRun(t *testing.T) {
	r := Run(Case{Section: "basic", Name: "nil"}, fakeEnv, generous)
	if r.Passed {
		t.Fatal("a case without Run passed")
	}
}

func fakeSuite() []Case {
	pass := func(T, *Env) {}
	fail := func(t T, _ *Env) { t.Errorf("nope") }
	return []Case{
		{Section: "connection", Name: "a", Run: pass},
		{Section: "connection", Name: "b", Run: fail},
		{Section: "exchange", Name: "a", Run: pass},
		{Section: "exchange", Name: "b", Run: pass},
		{Section: "custom", Name: "a", Run: pass},
	}
}

func TestSelectNumbersBeforeFiltering(t *testing.T) {
	cases := fakeSuite()
	_, ids := Select(cases, nil)
	// A section missing from Sections numbers after the known ones.
	want := []string{"1.1", "1.2", "3.1", "3.2", fmt.Sprintf("%d.1", len(Sections)+1)}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
	sel, ids := Select(cases, regexp.MustCompile(`/b$`))
	if len(sel) != 2 || !slices.Equal(ids, []string{"1.2", "3.2"}) {
		t.Errorf("filtered: %d cases, ids %q", len(sel), ids)
	}
}

func TestRunSuiteParallelReportsInOrder(t *testing.T) {
	// Case 0 waits for case 3, so results finish out of order; the
	// report must still come in case order.
	last := make(chan struct{})
	var cases []Case
	cases = append(cases, Case{Section: "queue", Name: "0", Run: func(t T, _ *Env) {
		select {
		case <-last:
		case <-time.After(generous):
			t.Errorf("case 3 did not run alongside case 0")
		}
	}})
	for _, n := range []string{"1", "2"} {
		cases = append(cases, Case{Section: "queue", Name: n, Run: func(T, *Env) {}})
	}
	cases = append(cases, Case{Section: "queue", Name: "3", Run: func(T, *Env) { close(last) }})

	var reported []string
	results := RunSuite(cases, fakeEnv, Options{Parallel: 4, Timeout: 2 * generous}, func(r Result) {
		reported = append(reported, r.Name)
	})
	if want := []string{"0", "1", "2", "3"}; !slices.Equal(reported, want) {
		t.Errorf("reported %q, want %q", reported, want)
	}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("%s: %q", r.Name, r.Failures)
		}
	}
}

func TestRunSuiteSequentialByDefault(t *testing.T) {
	running := make(chan struct{}, 1)
	var cases []Case
	for _, n := range []string{"a", "b", "c"} {
		cases = append(cases, Case{Section: "tx", Name: n, Run: func(t T, _ *Env) {
			select {
			case running <- struct{}{}:
			default:
				t.Errorf("another case is running")
				return
			}
			time.Sleep(time.Millisecond)
			<-running
		}})
	}
	for _, r := range RunSuite(cases, fakeEnv, Options{}, nil) {
		if !r.Passed {
			t.Errorf("%s: %q", r.Name, r.Failures)
		}
	}
}

func TestReporter(t *testing.T) {
	var buf bytes.Buffer
	rep := &Reporter{W: &buf, ASCII: true}
	RunSuite(fakeSuite(), fakeEnv, Options{Filter: regexp.MustCompile(`^(connection|exchange)/`)}, rep.Case)
	rep.Summary(1500 * time.Millisecond)
	out := buf.String()
	for _, want := range []string{
		"1. connection\n",
		"  PASS 1.1 connection/a (",
		"  FAIL 1.2 connection/b (",
		"): runner_test.go:",
		"3. exchange\n",
		"  PASS 3.2 exchange/b (",
		"Failures:\n  FAIL 1.2 connection/b: runner_test.go:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^3 passed, 1 failed$`).MatchString(out) {
		t.Errorf("report lacks the summary line \"3 passed, 1 failed\":\n%s", out)
	}
	if !strings.Contains(out, "finished in 1.5s\n") {
		t.Errorf("report lacks the duration:\n%s", out)
	}
	if strings.ContainsAny(out, "✔✘") {
		t.Errorf("ASCII report has non-ASCII markers:\n%s", out)
	}
	if p, f := rep.Counts(); p != 3 || f != 1 {
		t.Errorf("counts %d/%d", p, f)
	}

	buf.Reset()
	rep = &Reporter{W: &buf}
	rep.Case(Result{ID: "1.1", Section: "connection", Name: "x", Passed: true, Log: []string{"quiet"}})
	if out := buf.String(); !strings.Contains(out, "  ✔ 1.1 connection/x") || strings.Contains(out, "quiet") {
		t.Errorf("terminal report, not verbose:\n%s", out)
	}
	buf.Reset()
	rep = &Reporter{W: &buf, Verbose: true}
	rep.Case(Result{ID: "1.1", Section: "connection", Name: "x", Passed: true, Log: []string{"loud"}})
	if out := buf.String(); !strings.Contains(out, "      loud\n") {
		t.Errorf("verbose report lacks the log of a passing case:\n%s", out)
	}
}

func TestReporterTimeoutNote(t *testing.T) {
	var buf bytes.Buffer
	rep := &Reporter{W: &buf, ASCII: true}
	rep.Case(Result{ID: "6.1", Section: "confirm", Name: "hang", TimedOut: true,
		Failures: []string{"timed out after 50ms in the case; its goroutine was left running"}})
	rep.Summary(time.Second)
	out := buf.String()
	if !strings.Contains(out, "0 passed, 1 failed\n") || !strings.Contains(out, "1 case(s) timed out") {
		t.Errorf("report:\n%s", out)
	}
}

func TestReporterFailureLog(t *testing.T) {
	var buf bytes.Buffer
	rep := &Reporter{W: &buf, ASCII: true}
	rep.Case(Result{ID: "5.1", Section: "basic", Name: "two",
		Log:      []string{"x.go:1: note", "x.go:2: bad\nsecond line"},
		Failures: []string{"x.go:2: bad\nsecond line"}})
	rep.Case(Result{ID: "5.2", Section: "basic", Name: "one",
		Log: []string{"x.go:3: alone"}, Failures: []string{"x.go:3: alone"}})
	want := "5. basic\n" +
		"  FAIL 5.1 basic/two (0s): x.go:2: bad\n" +
		"      x.go:1: note\n" +
		"      x.go:2: bad\n" +
		"      second line\n" +
		"  FAIL 5.2 basic/one (0s): x.go:3: alone\n"
	if got := buf.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}
