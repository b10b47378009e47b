package conformance

// The runner lets cmd/warren-conformance run the cases outside `go test`.
// It gives each case a T with testing.T's semantics: Fatalf ends the case
// with runtime.Goexit, cleanups run LIFO once the case is over (also after
// Fatalf or a panic), a panic is a failure with its stack rather than a
// crash, and a case that outlives its timeout is reported as failed while
// the runner moves on.

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultCaseTimeout bounds one case, cleanups included, when
// Options.Timeout is zero.
const DefaultCaseTimeout = 30 * time.Second

// Result is the outcome of one case. Its JSON form is the element of
// `warren-conformance --json`'s "results" list.
type Result struct {
	// ID numbers the case in report order, "section.case", both 1-based;
	// the section number is its index in Sections. Set by RunSuite (Run
	// leaves it empty). Numbers are computed before filtering, so a case
	// keeps its number under --run.
	ID       string `json:"id,omitempty"`
	Section  string `json:"section"`
	Name     string `json:"name"`
	Passed   bool   `json:"passed"`
	TimedOut bool   `json:"timed_out,omitempty"`
	// Skipped means the case did not run (see Case.SkipReason); Passed
	// is set too, since a skip is no failure, and Log holds the reason.
	Skipped bool `json:"skipped,omitempty"`
	// Duration is wall time up to the end of the cleanups, or the timeout.
	Duration time.Duration `json:"duration_ns"`
	// Failures holds the Errorf and Fatalf messages, panics (with their
	// stacks) and the timeout, in order.
	Failures []string `json:"failures,omitempty"`
	// Log holds every message in order: Logf output and the failures.
	Log []string `json:"log,omitempty"`
}

// FullName is "section/name", the string --run matches.
func (r Result) FullName() string { return r.Section + "/" + r.Name }

// FullName is "section/name", the string --run matches.
func (c Case) FullName() string { return c.Section + "/" + c.Name }

// Run runs one case against env on its own goroutine and waits for it, its
// cleanups included, for at most timeout (DefaultCaseTimeout if zero).
//
// If the case does not finish in time, Run returns a failed Result with
// TimedOut set. The case's goroutine is left running: Go cannot stop it.
// Its cleanups run if and when it returns, and whatever it reports after
// the timeout is discarded.
func Run(c Case, env *Env, timeout time.Duration) Result {
	if timeout <= 0 {
		timeout = DefaultCaseTimeout
	}
	if c.RabbitMQ != "" && env.Product == "" {
		// Not filled by RunSuite: find out here, without writing to
		// env, which other cases may be reading.
		if p, err := DetectProduct(env.URL); err == nil {
			e := *env
			e.Product = p
			env = &e
		}
	}
	if r := c.SkipReason(env); r != "" {
		return Result{Section: c.Section, Name: c.Name, Passed: true, Skipped: true, Log: []string{"skipped: " + r}}
	}
	t := &caseT{helpers: map[string]bool{}}
	done := make(chan struct{})
	start := time.Now()
	go t.run(c, env, done)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := false
	select {
	case <-done:
	case <-timer.C:
		timedOut = true
		t.mu.Lock()
		where := "in the case"
		if t.inCleanup {
			where = "in its cleanups"
		}
		t.mu.Unlock()
		t.fail(fmt.Sprintf("timed out after %v %s; its goroutine was left running", timeout, where))
	}
	d := time.Since(start)

	t.mu.Lock()
	defer t.mu.Unlock()
	t.detached = true
	return Result{
		Section:  c.Section,
		Name:     c.Name,
		Passed:   !t.failed,
		TimedOut: timedOut,
		Duration: d,
		Failures: append([]string(nil), t.failures...),
		Log:      append([]string(nil), t.log...),
	}
}

// caseT is the runner's T. Every method may be called from any goroutine,
// except that Fatalf, like testing.T's, only stops the case when called
// from the case's own goroutine.
type caseT struct {
	mu        sync.Mutex
	failed    bool
	failures  []string
	log       []string
	cleanups  []func()
	helpers   map[string]bool // function names marked by Helper
	inCleanup bool
	detached  bool // Run has returned: ignore further reports
}

var _ T = (*caseT)(nil)

func (t *caseT) run(c Case, env *Env, done chan<- struct{}) {
	defer close(done)
	defer func() {
		// A panic is recovered here; after Fatalf (runtime.Goexit)
		// recover returns nil and the cleanups run all the same.
		if r := recover(); r != nil {
			t.fail(fmt.Sprintf("panic: %v\n%s", r, debug.Stack()))
		}
		t.runCleanups()
	}()
	if c.Run == nil {
		t.Fatalf("case %s has no Run function", c.FullName())
	}
	c.Run(t, env)
}

// runCleanups calls the registered cleanups last-first, each on its own
// goroutine so that a Fatalf or a panic in one does not skip the others.
// A cleanup may register more cleanups; they run too.
func (t *caseT) runCleanups() {
	t.mu.Lock()
	t.inCleanup = true
	t.mu.Unlock()
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()

		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() {
				if r := recover(); r != nil {
					t.fail(fmt.Sprintf("panic in cleanup: %v\n%s", r, debug.Stack()))
				}
			}()
			f()
		}()
		<-done
	}
}

// Helper marks the calling function as a helper: messages are attributed
// to its caller's file and line, as with testing.T.
func (t *caseT) Helper() {
	var pc [1]uintptr
	if runtime.Callers(2, pc[:]) == 0 {
		return
	}
	f, _ := runtime.CallersFrames(pc[:]).Next()
	t.mu.Lock()
	t.helpers[f.Function] = true
	t.mu.Unlock()
}

func (t *caseT) Logf(format string, args ...any) {
	t.record(t.where()+fmt.Sprintf(format, args...), false)
}

func (t *caseT) Errorf(format string, args ...any) {
	t.record(t.where()+fmt.Sprintf(format, args...), true)
}

func (t *caseT) Fatalf(format string, args ...any) {
	t.record(t.where()+fmt.Sprintf(format, args...), true)
	runtime.Goexit()
}

func (t *caseT) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

func (t *caseT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *caseT) fail(msg string) { t.record(msg, true) }

func (t *caseT) record(msg string, failure bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.detached {
		return
	}
	t.log = append(t.log, msg)
	if failure {
		t.failed = true
		t.failures = append(t.failures, msg)
	}
}

// where returns "file.go:line: " for the first caller of Logf, Errorf or
// Fatalf that is not marked as a helper, as testing.T decorates messages.
func (t *caseT) where() string {
	var pcs [32]uintptr
	// Skip runtime.Callers, where, and the Logf/Errorf/Fatalf method.
	n := runtime.Callers(3, pcs[:])
	if n == 0 {
		return ""
	}
	frames := runtime.CallersFrames(pcs[:n])
	t.mu.Lock()
	defer t.mu.Unlock()
	var first runtime.Frame
	for i := 0; ; i++ {
		f, more := frames.Next()
		if i == 0 {
			first = f
		}
		if !t.helpers[f.Function] {
			return fmt.Sprintf("%s:%d: ", baseName(f.File), f.Line)
		}
		if !more {
			break
		}
	}
	// Helpers all the way up: attribute to the direct caller.
	return fmt.Sprintf("%s:%d: ", baseName(first.File), first.Line)
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// Options configure RunSuite.
type Options struct {
	// Timeout bounds each case; zero means DefaultCaseTimeout.
	Timeout time.Duration
	// Parallel is how many cases run at once; below 1 means 1. Cases
	// use unique names and are independent, but sequential runs are
	// easier to read in a broker's log.
	Parallel int
	// Filter, if set, selects the cases whose "section/name" it matches.
	Filter *regexp.Regexp
}

// Select numbers cases (see Result.ID) and returns those that filter
// matches (all of them if filter is nil), with their IDs.
func Select(cases []Case, filter *regexp.Regexp) ([]Case, []string) {
	rank := map[string]int{}
	for i, s := range Sections {
		rank[s] = i + 1
	}
	next := len(Sections) + 1
	count := map[string]int{}
	var sel []Case
	var ids []string
	for _, c := range cases {
		if rank[c.Section] == 0 { // a section missing from Sections
			rank[c.Section] = next
			next++
		}
		count[c.Section]++
		if filter != nil && !filter.MatchString(c.FullName()) {
			continue
		}
		sel = append(sel, c)
		ids = append(ids, fmt.Sprintf("%d.%d", rank[c.Section], count[c.Section]))
	}
	return sel, ids
}

// RunSuite runs the cases that opts.Filter selects and returns their
// results in the order of cases. If report is not nil, it is called with
// each result in that same order as soon as the result and all earlier
// ones are known, from the calling goroutine, so a report can stream.
func RunSuite(cases []Case, env *Env, opts Options, report func(Result)) []Result {
	sel, ids := Select(cases, opts.Filter)
	if env.Product == "" && slices.ContainsFunc(sel, func(c Case) bool { return c.RabbitMQ != "" }) {
		// Some cases run only against Warren: identify the target once,
		// before any case runs.
		if p, err := DetectProduct(env.URL); err == nil {
			env.Product = p
		}
	}
	results := make([]Result, len(sel))
	done := make([]chan struct{}, len(sel))
	for i := range done {
		done[i] = make(chan struct{})
	}
	workers := max(opts.Parallel, 1)
	work := make(chan int)
	go func() {
		defer close(work)
		for i := range sel {
			work <- i
		}
	}()
	for range min(workers, len(sel)) {
		go func() {
			for i := range work {
				r := Run(sel[i], env, opts.Timeout)
				r.ID = ids[i]
				results[i] = r
				close(done[i])
			}
		}()
	}
	for i := range sel {
		<-done[i]
		if report != nil {
			report(results[i])
		}
	}
	return results
}

// Reporter writes the human-readable report: a header per section, one
// line per case, the failures again at the end, then the summary line
// "N passed, M failed" alone on its line (CI log readers grep for it) and
// the durations.
type Reporter struct {
	W io.Writer
	// ASCII replaces ✔ and ✘ with PASS and FAIL, for logs and pipes.
	ASCII bool
	// Verbose prints the log of passing cases too; failing cases always
	// show theirs.
	Verbose bool

	section  string
	passed   int
	failed   int
	skipped  int
	timedOut int
	failures []Result
}

// Case prints one result, preceded by its section header when the section
// changes.
func (r *Reporter) Case(res Result) {
	if res.Section != r.section {
		if r.section != "" {
			fmt.Fprintln(r.W)
		}
		r.section = res.Section
		num, _, _ := strings.Cut(res.ID, ".")
		if num != "" {
			fmt.Fprintf(r.W, "%s. %s\n", num, res.Section)
		} else {
			fmt.Fprintln(r.W, res.Section)
		}
	}
	if res.Skipped {
		r.skipped++
		fmt.Fprintf(r.W, "  %s %s: %s\n", r.skipMark(), r.label(res), strings.Join(res.Log, "; "))
		return
	}
	if res.Passed {
		r.passed++
		fmt.Fprintf(r.W, "  %s %s (%s)\n", r.mark(true), r.label(res), FormatDuration(res.Duration))
		if r.Verbose {
			r.writeLog(res)
		}
		return
	}
	r.failed++
	if res.TimedOut {
		r.timedOut++
	}
	r.failures = append(r.failures, res)
	first := firstLine(res)
	fmt.Fprintf(r.W, "  %s %s (%s): %s\n", r.mark(false), r.label(res), FormatDuration(res.Duration), first)
	if len(res.Log) == 1 && res.Log[0] == first {
		return // the line above said it all
	}
	r.writeLog(res)
}

// Summary prints the failures again, the summary line and the durations.
// elapsed is the wall time of the whole run.
func (r *Reporter) Summary(elapsed time.Duration) {
	fmt.Fprintln(r.W)
	if len(r.failures) > 0 {
		fmt.Fprintln(r.W, "Failures:")
		for _, res := range r.failures {
			fmt.Fprintf(r.W, "  %s %s: %s\n", r.mark(false), r.label(res), firstLine(res))
		}
		fmt.Fprintln(r.W)
	}
	fmt.Fprintf(r.W, "%d passed, %d failed\n", r.passed, r.failed)
	if r.skipped > 0 {
		fmt.Fprintf(r.W, "%d skipped\n", r.skipped)
	}
	fmt.Fprintf(r.W, "finished in %s\n", FormatDuration(elapsed))
	if r.timedOut > 0 {
		fmt.Fprintf(r.W, "note: %d case(s) timed out; their goroutines may still be running\n", r.timedOut)
	}
}

// Counts returns how many cases passed and failed so far.
func (r *Reporter) Counts() (passed, failed int) { return r.passed, r.failed }

func (r *Reporter) mark(ok bool) string {
	switch {
	case r.ASCII && ok:
		return "PASS"
	case r.ASCII:
		return "FAIL"
	case ok:
		return "✔"
	default:
		return "✘"
	}
}

func (r *Reporter) skipMark() string {
	if r.ASCII {
		return "SKIP"
	}
	return "-"
}

func (r *Reporter) label(res Result) string {
	if res.ID == "" {
		return res.FullName()
	}
	return res.ID + " " + res.FullName()
}

func (r *Reporter) writeLog(res Result) {
	for _, m := range res.Log {
		for _, line := range strings.Split(strings.TrimRight(m, "\n"), "\n") {
			fmt.Fprintf(r.W, "      %s\n", line)
		}
	}
}

// firstLine is the first line of the first failure, for the case's line.
func firstLine(res Result) string {
	if len(res.Failures) == 0 {
		return "failed"
	}
	s, _, _ := strings.Cut(res.Failures[0], "\n")
	return s
}

// FormatDuration rounds d for a report: microseconds below 1ms,
// milliseconds below 1s, and 10ms steps above.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// Redact returns u without its password, for printing.
func Redact(u string) string { return redact(u) }
