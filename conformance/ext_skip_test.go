package conformance

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Cases with a RabbitMQ reason run against Warren only; these check the
// runner's side of it with fake cases and a fake target.

func TestRunSkipsRabbitMQReasonUnlessWarren(t *testing.T) {
	ran := false
	c := Case{Section: "extensions", Name: "warren-only", RabbitMQ: "no such plugin", Run: func(T, *Env) { ran = true }}

	r := Run(c, &Env{URL: fakeEnv.URL, Product: "RabbitMQ"}, generous)
	if ran || !r.Skipped || !r.Passed || len(r.Failures) != 0 {
		t.Fatalf("against RabbitMQ: ran=%v result %+v, want a skip", ran, r)
	}
	if len(r.Log) != 1 || !strings.Contains(r.Log[0], "not run against RabbitMQ: no such plugin") {
		t.Errorf("log %q, want the reason", r.Log)
	}

	r = Run(c, &Env{URL: fakeEnv.URL, Product: WarrenProduct}, generous)
	if !ran || r.Skipped || !r.Passed {
		t.Fatalf("against Warren: ran=%v result %+v, want a run", ran, r)
	}

	// A case without a reason runs everywhere.
	ran = false
	c.RabbitMQ = ""
	if r := Run(c, &Env{URL: fakeEnv.URL, Product: "RabbitMQ"}, generous); !ran || r.Skipped {
		t.Fatalf("case without a reason: ran=%v result %+v", ran, r)
	}
}

func TestRunSuiteReportsSkips(t *testing.T) {
	cases := []Case{
		{Section: "extensions", Name: "a", Run: func(T, *Env) {}},
		{Section: "extensions", Name: "b", RabbitMQ: "why", Run: func(t T, _ *Env) { t.Fatalf("must not run") }},
	}
	// The fake target cannot be reached, so the product stays unknown:
	// that is not Warren either.
	env := &Env{URL: fakeEnv.URL}
	var out bytes.Buffer
	rep := &Reporter{W: &out, ASCII: true}
	res := RunSuite(cases, env, Options{}, rep.Case)
	rep.Summary(time.Second)
	if len(res) != 2 || res[1].Skipped != true || !res[1].Passed || res[0].Skipped {
		t.Fatalf("results %+v", res)
	}
	s := out.String()
	for _, want := range []string{"SKIP 9.2 extensions/b: skipped: not run against an unidentified broker: why", "1 passed, 0 failed\n1 skipped\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	if p, f := rep.Counts(); p != 1 || f != 0 {
		t.Errorf("counts %d passed %d failed, want 1 and 0", p, f)
	}
}
