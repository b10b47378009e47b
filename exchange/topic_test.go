package exchange

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// rabbitTopicBindings and the two tables below are RabbitMQ's own topic
// routing test (test_topic_matching in rabbit_tests.erl): queue tN bound
// with the pattern shown, then some keys routed, then bindings t1, t5,
// t11, t19 and t21 removed and the keys routed again.
var rabbitTopicBindings = []struct{ pattern, dest string }{
	{"a.b.c", "t1"}, {"a.*.c", "t2"}, {"a.#.b", "t3"}, {"a.b.b.c", "t4"},
	{"#", "t5"}, {"#.#", "t6"}, {"#.b", "t7"}, {"*.*", "t8"},
	{"a.*", "t9"}, {"*.b.c", "t10"}, {"a.#", "t11"}, {"a.#.#", "t12"},
	{"b.b.c", "t13"}, {"a.b.b", "t14"}, {"a.b", "t15"}, {"b.c", "t16"},
	{"", "t17"}, {"*.*.*", "t18"}, {"vodka.martini", "t19"}, {"a.b.c", "t20"},
	{"*.#", "t21"}, {"#.*.#", "t22"}, {"*.#.#", "t23"}, {"#.#.#", "t24"},
	{"*", "t25"}, {"#.b.#", "t26"},
}

var rabbitTopicBefore = map[string][]string{
	"a.b.c":               {"t1", "t2", "t5", "t6", "t10", "t11", "t12", "t18", "t20", "t21", "t22", "t23", "t24", "t26"},
	"a.b":                 {"t3", "t5", "t6", "t7", "t8", "t9", "t11", "t12", "t15", "t21", "t22", "t23", "t24", "t26"},
	"a.b.b":               {"t3", "t5", "t6", "t7", "t11", "t12", "t14", "t18", "t21", "t22", "t23", "t24", "t26"},
	"":                    {"t5", "t6", "t17", "t24"},
	"b.c.c":               {"t5", "t6", "t18", "t21", "t22", "t23", "t24", "t26"},
	"a.a.a.a.a":           {"t5", "t6", "t11", "t12", "t21", "t22", "t23", "t24"},
	"vodka.gin":           {"t5", "t6", "t8", "t21", "t22", "t23", "t24"},
	"vodka.martini":       {"t5", "t6", "t8", "t19", "t21", "t22", "t23", "t24"},
	"b.b.c":               {"t5", "t6", "t10", "t13", "t18", "t21", "t22", "t23", "t24", "t26"},
	"nothing.here.at.all": {"t5", "t6", "t21", "t22", "t23", "t24"},
	"oneword":             {"t5", "t6", "t21", "t22", "t23", "t24", "t25"},
}

var rabbitTopicAfter = map[string][]string{
	"a.b.c":               {"t2", "t6", "t10", "t12", "t18", "t20", "t22", "t23", "t24", "t26"},
	"a.b":                 {"t3", "t6", "t7", "t8", "t9", "t12", "t15", "t22", "t23", "t24", "t26"},
	"a.b.b":               {"t3", "t6", "t7", "t12", "t14", "t18", "t22", "t23", "t24", "t26"},
	"":                    {"t6", "t17", "t24"},
	"b.c.c":               {"t6", "t18", "t22", "t23", "t24", "t26"},
	"a.a.a.a.a":           {"t6", "t12", "t22", "t23", "t24"},
	"vodka.gin":           {"t6", "t8", "t22", "t23", "t24"},
	"vodka.martini":       {"t6", "t8", "t22", "t23", "t24"},
	"b.b.c":               {"t6", "t10", "t13", "t18", "t22", "t23", "t24", "t26"},
	"nothing.here.at.all": {"t6", "t22", "t23", "t24"},
	"oneword":             {"t6", "t22", "t23", "t24", "t25"},
}

func TestTopicRabbitMQTable(t *testing.T) {
	var x Topic[string]
	for _, b := range rabbitTopicBindings {
		bind(t, &x, b.dest, b.pattern, nil)
	}
	check := func(stage string, table map[string][]string) {
		t.Helper()
		for key, want := range table {
			for pass := range 2 { // the second pass is answered from the cache
				if got := route(t, &x, key, nil); !slices.Equal(got, sorted(want...)) {
					t.Errorf("%s, pass %d: Route(%q) = %q; want %q", stage, pass, key, got, sorted(want...))
				}
			}
		}
	}
	check("all bound", rabbitTopicBefore)
	for _, i := range []int{1, 5, 11, 19, 21} { // lists:nth is 1-based
		b := rabbitTopicBindings[i-1]
		if !x.Unbind(Binding[string]{Key: b.pattern, Dest: b.dest}) {
			t.Fatalf("Unbind(%v) = false", b)
		}
	}
	check("some removed", rabbitTopicAfter)
	for _, b := range rabbitTopicBindings {
		x.UnbindDest(b.dest)
	}
	for _, key := range []string{"a.b.c", "b.b.c", ""} {
		if got := route(t, &x, key, nil); len(got) != 0 {
			t.Errorf("all removed: Route(%q) = %q", key, got)
		}
	}
}

// TestTopicPatterns pins the corners of the word rules: '#' matching zero
// words at either end and in the middle, '*' against empty words, and the
// empty routing key, which RabbitMQ splits into no words at all.
func TestTopicPatterns(t *testing.T) {
	cases := []struct {
		pattern string
		yes, no []string
	}{
		{"#", []string{"", "a", "a.b.c", ".", "a..b"}, nil},
		{"#.#", []string{"", "a", "a.b.c"}, nil},
		{"#.#.#", []string{"", "a.b"}, nil},
		{"*", []string{"a", "*", "#"}, []string{"", ".", "a.b"}},
		{"*.*", []string{".", "a.b", "a."}, []string{"", "a", "a.b.c"}},
		{"", []string{""}, []string{"a", "."}},
		{".", []string{"."}, []string{"", "a", "a.", ".."}},
		{"a.#", []string{"a", "a.b", "a.b.c", "a."}, []string{"", "b", "b.a"}},
		{"#.b", []string{"b", "a.b", "x.y.b", ".b"}, []string{"", "b.a", "a"}},
		{"a.#.b", []string{"a.b", "a.x.b", "a.x.y.b", "a.b.b"}, []string{"a", "b", "a.b.x", "x.a.b"}},
		{"a.#.#.b", []string{"a.b", "a.x.y.b"}, []string{"a", "a.b.c"}},
		{"#.a.#", []string{"a", "x.a", "a.x", "x.a.y", "a.a"}, []string{"", "b", "x.y"}},
		{"*.#", []string{"a", "a.b", "."}, []string{""}},
		{"#.*", []string{"a", "a.b"}, []string{""}},
		{"#.*.#", []string{"a", "a.b.c"}, []string{""}},
		{"a.*.#", []string{"a.b", "a.b.c", "a."}, []string{"a"}},
		{"a.*", []string{"a.b", "a.", "a.*"}, []string{"a", "a.b.c"}},
		{"a.*.b", []string{"a..b", "a.x.b"}, []string{"a.b", "a.x.y.b"}},
		{"a..b", []string{"a..b"}, []string{"a.b", "a.x.b"}},
		{"a", []string{"a"}, []string{"*", "#", "a.", "A", ""}},
		{"#.b", []string{"#.b"}, nil},
	}
	for _, c := range cases {
		var x Topic[string]
		bind(t, &x, "q", c.pattern, nil)
		for _, key := range c.yes {
			if got := route(t, &x, key, nil); !slices.Equal(got, []string{"q"}) {
				t.Errorf("pattern %q: key %q not matched", c.pattern, key)
			}
			if !naiveMatch(naiveSplit(c.pattern), naiveSplit(key)) {
				t.Errorf("test table disagrees with the naive matcher: %q %q", c.pattern, key)
			}
		}
		for _, key := range c.no {
			if got := route(t, &x, key, nil); len(got) != 0 {
				t.Errorf("pattern %q: key %q matched", c.pattern, key)
			}
		}
	}
}

func TestTopicDedupe(t *testing.T) {
	var x Topic[string]
	bind(t, &x, "q", "a.*", nil)
	bind(t, &x, "q", "*.b", nil)
	bind(t, &x, "q", "#", nil)
	bind(t, &x, "q", "a.b", nil)
	bind(t, &x, "r", "a.b", nil)
	bind(t, &x, "r", "a.b", tbl("x-other", "args"))
	for pass := range 2 {
		if got := route(t, &x, "a.b", nil); !slices.Equal(got, []string{"q", "r"}) {
			t.Fatalf("pass %d: Route(a.b) = %q; want [q r]", pass, got)
		}
	}
}

// TestTopicDedupeLarge has more matches than dedupe's pairwise limit.
func TestTopicDedupeLarge(t *testing.T) {
	var x Topic[int]
	for i := range 100 {
		x.Bind(Binding[int]{Key: "a.*", Dest: i})
		x.Bind(Binding[int]{Key: "*.b", Dest: i})
		x.Bind(Binding[int]{Key: "#.b", Dest: i + 50})
	}
	got := x.Route("a.b", nil, nil)
	slices.Sort(got)
	if len(got) != 150 || got[0] != 0 || got[149] != 149 {
		t.Fatalf("Route(a.b) = %d destinations %v", len(got), got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("duplicate %d", got[i])
		}
	}
}

// TestTopicCacheInvalidation routes a key (filling the cache), changes the
// bindings and routes again: every change must be visible at once.
func TestTopicCacheInvalidation(t *testing.T) {
	var x Topic[string]
	bind(t, &x, "q1", "a.*", nil)
	g0 := x.Generation()
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"initial", func() {}, []string{"q1"}},
		{"bind wildcard", func() { bind(t, &x, "q2", "#.b", nil) }, []string{"q1", "q2"}},
		{"bind exact", func() { bind(t, &x, "q3", "a.b", nil) }, []string{"q1", "q2", "q3"}},
		{"bind non-matching", func() { bind(t, &x, "q4", "c.*", nil) }, []string{"q1", "q2", "q3"}},
		{"unbind", func() { x.Unbind(Binding[string]{Key: "a.*", Dest: "q1"}) }, []string{"q2", "q3"}},
		{"unbind dest", func() { x.UnbindDest("q2") }, []string{"q3"}},
		{"rebind", func() { bind(t, &x, "q1", "a.*", nil) }, []string{"q1", "q3"}},
		{"extra args, same route", func() { bind(t, &x, "q1", "a.*", tbl("x-a", 1)) }, []string{"q1", "q3"}},
		{"remove one of two", func() { x.Unbind(Binding[string]{Key: "a.*", Dest: "q1"}) }, []string{"q1", "q3"}},
	}
	for _, s := range steps {
		s.change()
		for pass := range 2 {
			if got := route(t, &x, "a.b", nil); !slices.Equal(got, s.want) {
				t.Fatalf("%s, pass %d: Route(a.b) = %q; want %q", s.name, pass, got, s.want)
			}
		}
	}
	if x.Generation() == g0 {
		t.Fatal("Generation did not move")
	}
	g1 := x.Generation()
	x.Bind(Binding[string]{Key: "a.b", Dest: "q3"})  // duplicate: no change
	x.Unbind(Binding[string]{Key: "zz", Dest: "q3"}) // absent: no change
	if x.Generation() != g1 {
		t.Fatal("Generation moved without a change")
	}
}

func TestTopicCacheBounded(t *testing.T) {
	var x Topic[int]
	x.cache.maxKeys, x.cache.maxSlots = 8, 160
	for i := range 100 {
		x.Bind(Binding[int]{Key: "k.*", Dest: i % 10})          // ten destinations for k.N
		x.Bind(Binding[int]{Key: fmt.Sprint("w.", i), Dest: i}) // one for w.N
	}
	x.Bind(Binding[int]{Key: "big.#", Dest: 1000})
	for i := range 20 {
		x.Bind(Binding[int]{Key: "big.#", Dest: i})
	}
	for i := range 100 {
		for _, key := range []string{fmt.Sprint("k.", i), fmt.Sprint("w.", i), "big.x"} {
			x.Route(key, nil, nil)
			keys, slots := x.cache.size()
			if keys > 8 || slots > 160 {
				t.Fatalf("after Route(%q): cache holds %d keys, %d destinations; max 8, 160", key, keys, slots)
			}
		}
	}
	if got := x.Route("w.7", nil, nil); !slices.Equal(got, []int{7}) {
		t.Fatalf("Route(w.7) = %v", got)
	}
	if got := x.Route("big.x", nil, nil); len(got) != 21 { // too big to cache: still routed
		t.Fatalf("Route(big.x) = %v", got)
	}
}

// TestTopicManyHashes would take minutes without memoising the walk: nine
// '#' against forty words has C(49, 9) ways to split the key.
func TestTopicManyHashes(t *testing.T) {
	var x Topic[string]
	bind(t, &x, "q", strings.Repeat("#.", 9)+"a", nil)
	bind(t, &x, "r", strings.Repeat("#.", 9)+"b", nil)
	key := strings.Repeat("b.", 39) + "a"
	start := time.Now()
	if got := route(t, &x, key, nil); !slices.Equal(got, []string{"q"}) {
		t.Fatalf("Route = %q; want [q]", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("walk took %v", d)
	}
}

// naiveSplit is strings.Split, except that "" has no words (RabbitMQ's
// split_topic_key_binary).
func naiveSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// naiveMatch is the specification as a recursive definition, for the
// differential tests: '*' is one word, '#' zero or more, others literal.
func naiveMatch(p, k []string) bool {
	if len(p) == 0 {
		return len(k) == 0
	}
	switch p[0] {
	case "#":
		return naiveMatch(p[1:], k) || (len(k) > 0 && naiveMatch(p, k[1:]))
	case "*":
		return len(k) > 0 && naiveMatch(p[1:], k[1:])
	}
	return len(k) > 0 && k[0] == p[0] && naiveMatch(p[1:], k[1:])
}
