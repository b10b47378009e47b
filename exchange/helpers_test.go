package exchange

import (
	"slices"
	"testing"

	"github.com/warrenmq/warren/amqp"
)

// kinds is every exchange type, for tests that hold for all of them.
var kinds = []string{KindDirect, KindFanout, KindTopic, KindHeaders}

func newRouter(t testing.TB, kind string) Router[string] {
	t.Helper()
	r, ok := New[string](kind)
	if !ok {
		t.Fatalf("New(%q): not ok", kind)
	}
	return r
}

// route routes and returns the destinations sorted, failing on duplicates.
func route(t testing.TB, r Router[string], key string, headers amqp.Table) []string {
	t.Helper()
	got := r.Route(key, headers, nil)
	slices.Sort(got)
	if c := slices.Compact(slices.Clone(got)); len(c) != len(got) {
		t.Fatalf("Route(%q) returned duplicates: %q", key, got)
	}
	if got == nil {
		got = []string{}
	}
	return got
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func bind(t testing.TB, r Router[string], dest, key string, args amqp.Table) {
	t.Helper()
	if !r.Bind(Binding[string]{Key: key, Dest: dest, Args: args}) {
		t.Fatalf("Bind(%s, %q, %v): already bound", dest, key, args)
	}
}

// tbl builds a table from key, value pairs, in order.
func tbl(kv ...any) amqp.Table {
	t := make(amqp.Table, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		t = append(t, amqp.Field{Key: kv[i].(string), Value: kv[i+1]})
	}
	return t
}
