package exchange

import (
	"slices"
	"testing"
)

func TestFanoutRoute(t *testing.T) {
	var x Fanout[string]
	if got := route(t, &x, "k", nil); len(got) != 0 {
		t.Fatalf("empty fanout routed to %q", got)
	}
	bind(t, &x, "q1", "", nil)
	bind(t, &x, "q1", "other", nil) // bound twice: receives once
	bind(t, &x, "q1", "", tbl("x-a", "b"))
	bind(t, &x, "q2", "anything", nil)
	for _, key := range []string{"", "k", "a.b.c", "#"} {
		if got := route(t, &x, key, nil); !slices.Equal(got, []string{"q1", "q2"}) {
			t.Fatalf("Route(%q) = %q; want [q1 q2]", key, got)
		}
	}
	x.Unbind(Binding[string]{"other", "q1", nil})
	x.Unbind(Binding[string]{"", "q1", nil})
	if got := route(t, &x, "k", nil); !slices.Equal(got, []string{"q1", "q2"}) {
		t.Fatalf("q1 still has one binding: Route = %q", got)
	}
	x.Unbind(Binding[string]{"", "q1", tbl("x-a", "b")})
	if got := route(t, &x, "k", nil); !slices.Equal(got, []string{"q2"}) {
		t.Fatalf("q1 unbound: Route = %q", got)
	}
}

// TestFanoutMany crosses destSet's index threshold in both directions.
func TestFanoutMany(t *testing.T) {
	var x Fanout[int]
	for i := range 100 {
		x.Bind(Binding[int]{Dest: i})
	}
	for i := 0; i < 100; i += 2 {
		x.UnbindDest(i)
	}
	got := x.Route("", nil, nil)
	slices.Sort(got)
	if len(got) != 50 || got[0] != 1 || got[49] != 99 {
		t.Fatalf("Route = %v", got)
	}
	for i := 1; i < 100; i += 2 {
		x.UnbindDest(i)
	}
	if got := x.Route("", nil, nil); len(got) != 0 || x.Len() != 0 {
		t.Fatalf("Route = %v, Len = %d", got, x.Len())
	}
}
