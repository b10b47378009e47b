// Command warren-conformance runs the conformance suite against any AMQP
// 0-9-1 broker and prints a report by section, as h2spec does for HTTP/2.
//
//	warren-conformance [--url URL] [--run REGEXP] [--timeout 30s] [--parallel N] [--json] [-v]
//
// The cases are those of `go test ./conformance` (package conformance).
// Exit status: 0 if every selected case passed, 1 if any failed, 2 if the
// suite could not run (bad flags, no case selected, broker unreachable).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"time"

	"github.com/warrenmq/warren/conformance"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stdout)))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer, tty bool) int {
	fs := flag.NewFlagSet("warren-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "amqp://guest:guest@127.0.0.1:5672/", "AMQP URL of the broker under test")
	filter := fs.String("run", "", "run only the cases whose \"section/name\" matches this regular expression")
	timeout := fs.Duration("timeout", conformance.DefaultCaseTimeout, "time limit per case, cleanups included")
	parallel := fs.Int("parallel", 1, "number of cases run at once")
	asJSON := fs.Bool("json", false, "print the results as JSON instead of the report")
	verbose := fs.Bool("v", false, "print the logs of passing cases too")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: warren-conformance [flags]\n\n"+
			"Runs the Warren conformance suite against a broker and reports by section.\n"+
			"Exit status: 0 all passed, 1 some failed, 2 the suite could not run.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "warren-conformance: unexpected arguments %q\n", fs.Args())
		return 2
	}
	opts := conformance.Options{Timeout: *timeout, Parallel: *parallel}
	if *filter != "" {
		re, err := regexp.Compile(*filter)
		if err != nil {
			fmt.Fprintf(stderr, "warren-conformance: --run: %v\n", err)
			return 2
		}
		opts.Filter = re
	}
	cases := conformance.Cases()
	if sel, _ := conformance.Select(cases, opts.Filter); len(sel) == 0 {
		fmt.Fprintf(stderr, "warren-conformance: no case matches --run %q\n", *filter)
		return 2
	}

	env := &conformance.Env{URL: *url}
	// Fail fast on a broker that is not listening, rather than once per
	// case. Only TCP is checked: a broken handshake is for the cases to
	// report.
	conn, err := net.DialTimeout("tcp", env.Addr(), conformance.Timeout)
	if err != nil {
		fmt.Fprintf(stderr, "warren-conformance: cannot reach %s: %v\n", conformance.Redact(*url), err)
		return 2
	}
	_ = conn.Close()

	start := time.Now()
	if *asJSON {
		results := conformance.RunSuite(cases, env, opts, nil)
		return writeJSON(stdout, stderr, *url, results, time.Since(start))
	}
	rep := &conformance.Reporter{W: stdout, ASCII: !tty, Verbose: *verbose}
	fmt.Fprintf(stdout, "warren-conformance: %s\n\n", conformance.Redact(*url))
	conformance.RunSuite(cases, env, opts, rep.Case)
	rep.Summary(time.Since(start))
	if _, failed := rep.Counts(); failed > 0 {
		return 1
	}
	return 0
}

func writeJSON(stdout, stderr io.Writer, url string, results []conformance.Result, elapsed time.Duration) int {
	out := struct {
		URL      string               `json:"url"`
		Passed   int                  `json:"passed"`
		Failed   int                  `json:"failed"`
		Duration time.Duration        `json:"duration_ns"`
		Results  []conformance.Result `json:"results"`
	}{URL: conformance.Redact(url), Duration: elapsed, Results: results}
	for _, r := range results {
		if r.Passed {
			out.Passed++
		} else {
			out.Failed++
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "warren-conformance: %v\n", err)
		return 2
	}
	if out.Failed > 0 {
		return 1
	}
	return 0
}

// isTerminal reports whether f is a character device, so the report can
// use ✔ and ✘ there and plain ASCII in logs and pipes.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
