package exchange

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

func ident(s string) string { return s }

func newCH(t testing.TB, args amqp.Table) *ConsistentHash[string] {
	t.Helper()
	x, err := NewConsistentHash(args, ident)
	if err != nil {
		t.Fatalf("NewConsistentHash(%v): %v", args, err)
	}
	return x
}

// chBind binds dest with weight (a binding key) and fails if it was not
// added.
func chBind(t testing.TB, x *ConsistentHash[string], dest, weight string) {
	t.Helper()
	if !x.Bind(Binding[string]{Key: weight, Dest: dest}) {
		t.Fatalf("Bind(%s, %s) = false", dest, weight)
	}
}

// routeKeys routes key-0 .. key-(n-1) and returns the destination of each.
func routeKeys(x *ConsistentHash[string], n int) []string {
	out := make([]string, n)
	var dst []string
	for i := range n {
		dst = x.Route(fmt.Sprintf("key-%d", i), nil, dst[:0])
		if len(dst) == 1 {
			out[i] = dst[0]
		}
	}
	return out
}

func counts(dests []string) map[string]int {
	c := map[string]int{}
	for _, d := range dests {
		c[d]++
	}
	return c
}

func TestNewConsistentHashArgs(t *testing.T) {
	tests := []struct {
		name       string
		args       amqp.Table
		wantErr    string // "" = accepted
		header     string
		property   string
		ignoresArg bool
	}{
		{"no arguments", nil, "", "", "", false},
		{"hash-header", amqp.Table{{Key: "hash-header", Value: "hash-me"}}, "", "hash-me", "", false},
		{"hash-property message_id", amqp.Table{{Key: "hash-property", Value: "message_id"}}, "", "", "message_id", false},
		{"hash-property correlation_id", amqp.Table{{Key: "hash-property", Value: "correlation_id"}}, "", "", "correlation_id", false},
		{"hash-property timestamp", amqp.Table{{Key: "hash-property", Value: "timestamp"}}, "", "", "timestamp", false},
		{"unsupported property", amqp.Table{{Key: "hash-property", Value: "app_id"}}, "Unsupported property: app_id", "", "", false},
		{"both", amqp.Table{{Key: "hash-header", Value: "h"}, {Key: "hash-property", Value: "message_id"}},
			"hash-header and hash-property are mutually exclusive", "", "", false},
		{"header not a string", amqp.Table{{Key: "hash-header", Value: int32(5)}},
			"Invalid hash-header field type signedint (value 5); expected longstr", "", "", false},
		{"unrelated arguments are ignored", amqp.Table{{Key: "alternate-exchange", Value: "ae"}}, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := NewConsistentHash(tt.args, ident)
			if tt.wantErr != "" {
				var ie *InvalidArgumentError
				if !errors.As(err, &ie) || ie.Text != tt.wantErr {
					t.Fatalf("err = %v, want InvalidArgumentError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if x.HashHeader() != tt.header || x.HashProperty() != tt.property {
				t.Fatalf("HashHeader %q HashProperty %q", x.HashHeader(), x.HashProperty())
			}
		})
	}
	if _, err := NewConsistentHash[string](nil, nil); err == nil {
		t.Fatal("NewConsistentHash without a name function")
	}
}

// TestValidateBindingKey: the plugin's validate_binding, with its texts.
func TestValidateBindingKey(t *testing.T) {
	tests := []struct {
		kind, key string
		args      amqp.Table
		want      string // "" = valid
	}{
		{KindConsistentHash, "1", nil, ""},
		{KindConsistentHash, "20", nil, ""},
		{KindConsistentHash, "+5", nil, ""},  // list_to_integer("+5") = 5
		{KindConsistentHash, "007", nil, ""}, // leading zeros are fine
		{KindConsistentHash, "0", nil, "The binding key must be greater than 0"},
		{KindConsistentHash, "-3", nil, "The binding key must be greater than 0"},
		{KindConsistentHash, "abc", nil, `The binding key must be an integer: <<"abc">>`},
		{KindConsistentHash, "", nil, `The binding key must be an integer: <<>>`},
		{KindConsistentHash, `a"b\c`, nil, `The binding key must be an integer: <<"a\"b\\c">>`},
		{KindConsistentHash, "\x01é", nil, `The binding key must be an integer: <<1,195,169>>`},
		{KindConsistentHash, " 5", nil, `The binding key must be an integer: <<" 5">>`},
		{KindConsistentHash, "1.5", nil, `The binding key must be an integer: <<"1.5">>`},
		{KindConsistentHash, "1_000", nil, `The binding key must be an integer: <<"1_000">>`},
		{KindDirect, "anything", nil, ""},
		{KindHeaders, "", amqp.Table{{Key: "x-match", Value: "some"}},
			`Invalid x-match field value "some"; expected all, any, all-with-x, or any-with-x`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.key, func(t *testing.T) {
			err := ValidateBindingKey(tt.kind, tt.key, tt.args)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var be *InvalidBindingError
			if !errors.As(err, &be) || be.Text != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestConsistentHashDistribution: shares follow the weights. The hash is
// fixed, so the counts are the same on every run; the tolerance only
// states what "proportional" means.
func TestConsistentHashDistribution(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]string
	}{
		{"1:2:3", map[string]string{"q1": "1", "q2": "2", "q3": "3"}},
		{"README: 10 10 20 20", map[string]string{"q0": "10", "q1": "10", "q2": "20", "q3": "20"}},
		{"equal", map[string]string{"a": "1", "b": "1", "c": "1", "d": "1", "e": "1"}},
		{"1:100", map[string]string{"small": "1", "big": "100"}},
	}
	const keys = 10_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newCH(t, nil)
			total := 0
			for d, w := range tt.weights {
				chBind(t, x, d, w)
				var n int
				fmt.Sscan(w, &n)
				total += n
			}
			got := counts(routeKeys(x, keys))
			for d, w := range tt.weights {
				var n int
				fmt.Sscan(w, &n)
				want := float64(keys) * float64(n) / float64(total)
				// Within 5% of the expected share, and never less than a
				// binomial 4 sigma for small shares.
				tol := math.Max(0.05*want, 4*math.Sqrt(want))
				if math.Abs(float64(got[d])-want) > tol {
					t.Errorf("%s (weight %s): %d keys, want %.0f ± %.0f", d, w, got[d], want, tol)
				}
			}
			t.Logf("counts: %v", got)
		})
	}
}

// TestConsistentHashStable: the mapping depends on the set of bindings
// only: not on the order they were made in, not on the instance (a
// restart rebuilds the exchange from the stored bindings), and a weight
// split over two bindings equals one binding of the sum.
func TestConsistentHashStable(t *testing.T) {
	build := func(binds [][2]string) []string {
		x := newCH(t, nil)
		for _, b := range binds {
			chBind(t, x, b[0], b[1])
		}
		return routeKeys(x, 2000)
	}
	ref := build([][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}})
	for name, binds := range map[string][][2]string{
		"same order again": {{"a", "1"}, {"b", "2"}, {"c", "3"}},
		"reversed":         {{"c", "3"}, {"b", "2"}, {"a", "1"}},
		"shuffled":         {{"b", "2"}, {"a", "1"}, {"c", "3"}},
		"c split in two":   {{"a", "1"}, {"c", "1"}, {"b", "2"}, {"c", "2"}},
	} {
		if got := build(binds); !slices.Equal(got, ref) {
			t.Errorf("%s: mapping differs", name)
		}
	}
	// A bind and unbind in between leaves no trace.
	x := newCH(t, nil)
	chBind(t, x, "a", "1")
	chBind(t, x, "z", "7")
	chBind(t, x, "b", "2")
	x.Unbind(Binding[string]{Key: "7", Dest: "z"})
	chBind(t, x, "c", "3")
	if !slices.Equal(routeKeys(x, 2000), ref) {
		t.Error("after bind+unbind: mapping differs")
	}
}

// TestConsistentHashMinimalDisruption: adding a destination moves only the
// keys it now wins, about its share; removing one moves only its keys.
func TestConsistentHashMinimalDisruption(t *testing.T) {
	const n = 10_000
	x := newCH(t, nil)
	chBind(t, x, "a", "1")
	chBind(t, x, "b", "1")
	chBind(t, x, "c", "2")
	before := routeKeys(x, n)

	chBind(t, x, "d", "4") // half the total weight
	after := routeKeys(x, n)
	moved := 0
	for i := range before {
		if before[i] != after[i] {
			moved++
			if after[i] != "d" {
				t.Fatalf("key-%d moved from %s to %s, not to the new d", i, before[i], after[i])
			}
		}
	}
	if share := float64(moved) / n; math.Abs(share-0.5) > 0.025 {
		t.Errorf("%.3f of the keys moved to d, want about 0.5", share)
	}

	x.UnbindDest("a")
	removed := routeKeys(x, n)
	for i := range after {
		if after[i] != "a" && removed[i] != after[i] {
			t.Fatalf("key-%d moved from %s to %s though a was removed", i, after[i], removed[i])
		}
		if removed[i] == "a" {
			t.Fatalf("key-%d still routes to the removed a", i)
		}
	}
}

// TestConsistentHashHeader: with hash-header, the header's value decides,
// not the routing key; messages without it all go to one destination.
func TestConsistentHashHeader(t *testing.T) {
	x := newCH(t, amqp.Table{{Key: "hash-header", Value: "hash-me"}})
	for _, d := range []string{"a", "b", "c", "d"} {
		chBind(t, x, d, "1")
	}
	one := func(key string, h amqp.Table) string {
		got := x.Route(key, h, nil)
		if len(got) != 1 {
			t.Fatalf("Route(%q, %v) = %v", key, h, got)
		}
		return got[0]
	}
	seen := map[string]bool{}
	missing := one("rk-0", nil)
	for i := range 200 {
		v := fmt.Sprintf("v%d", i)
		d := one("rk-0", amqp.Table{{Key: "hash-me", Value: v}})
		if other := one(fmt.Sprintf("rk-%d", i), amqp.Table{{Key: "other", Value: 1}, {Key: "hash-me", Value: v}}); other != d {
			t.Fatalf("header %s: %s with one routing key, %s with another", v, d, other)
		}
		seen[d] = true
		if m := one(fmt.Sprintf("rk-%d", i), amqp.Table{{Key: "not-it", Value: v}}); m != missing {
			t.Fatalf("without the header: %s, want always %s", m, missing)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("header values reached %d destinations, want 4", len(seen))
	}
}

// TestHashValue: a value hashes with its type, as the plugin hashes the
// {Type, Value} of the header.
func TestHashValue(t *testing.T) {
	h := func(v any) uint64 { return hashValue(fnvOffset, v) }
	ts := time.Unix(1700000000, 0)
	same := [][2]any{
		{int(5), int64(5)}, // both 'l'
		{ts, ts.Add(300 * time.Millisecond)},
		{[]any{"a", int32(1)}, []any{"a", int32(1)}},
		{amqp.Table{{Key: "k", Value: "v"}}, amqp.Table{{Key: "k", Value: "v"}}},
	}
	for _, p := range same {
		if h(p[0]) != h(p[1]) {
			t.Errorf("%#v and %#v hash differently", p[0], p[1])
		}
	}
	different := [][2]any{
		{int32(5), int64(5)},
		{"5", int64(5)},
		{"ab", []byte("ab")},
		{true, false},
		{[]any{"ab"}, []any{"a", "b"}},
		{amqp.Table{{Key: "ab", Value: "c"}}, amqp.Table{{Key: "a", Value: "bc"}}},
		{amqp.Decimal{Scale: 1, Value: 10}, amqp.Decimal{Scale: 2, Value: 10}},
		{float32(1), float64(1)},
		{nil, ""},
	}
	for _, p := range different {
		if h(p[0]) == h(p[1]) {
			t.Errorf("%#v and %#v hash the same", p[0], p[1])
		}
	}
}

// TestConsistentHashRouter: the Router contract.
func TestConsistentHashRouter(t *testing.T) {
	x := newCH(t, nil)
	if got := x.Route("k", nil, nil); got != nil {
		t.Fatalf("Route with no bindings = %v", got)
	}
	chBind(t, x, "a", "2")
	if x.Bind(Binding[string]{Key: "2", Dest: "a"}) {
		t.Fatal("duplicate Bind reported true")
	}
	chBind(t, x, "a", "3") // a second binding to a
	if !x.Bind(Binding[string]{Key: "3", Dest: "a", Args: amqp.Table{{Key: "x", Value: "y"}}}) {
		t.Fatal("same key, other args: a distinct binding")
	}
	chBind(t, x, "b", "oops") // invalid weight: stored, weighs nothing
	if x.Len() != 4 || !x.HasDest("a") || !x.HasDest("b") || x.HasDest("c") {
		t.Fatalf("Len %d HasDest a %v b %v c %v", x.Len(), x.HasDest("a"), x.HasDest("b"), x.HasDest("c"))
	}
	if w := x.Weights(); w["a"] != 8 || w["b"] != 0 {
		t.Fatalf("Weights() = %v", w)
	}
	for _, d := range routeKeys(x, 100) {
		if d != "a" {
			t.Fatalf("routed to %q: b has no weight", d)
		}
	}
	// Route appends to dst and leaves what was there.
	if got := x.Route("k", nil, []string{"pre"}); !slices.Equal(got, []string{"pre", "a"}) {
		t.Fatalf("Route appended %v", got)
	}
	if len(x.Bindings()) != 4 {
		t.Fatalf("Bindings() = %v", x.Bindings())
	}
	if !x.Unbind(Binding[string]{Key: "3", Dest: "a", Args: amqp.Table{{Key: "x", Value: "y"}}}) ||
		x.Unbind(Binding[string]{Key: "3", Dest: "a", Args: amqp.Table{{Key: "x", Value: "y"}}}) {
		t.Fatal("Unbind: want true, then false")
	}
	if w := x.Weights(); w["a"] != 5 {
		t.Fatalf("after Unbind, Weights() = %v", w)
	}
	if n := x.UnbindDest("a"); n != 2 {
		t.Fatalf("UnbindDest(a) = %d, want 2", n)
	}
	if got := x.Route("k", nil, nil); got != nil {
		t.Fatalf("Route with only a weightless binding = %v", got)
	}
	if n := x.UnbindDest("b"); n != 1 || x.Len() != 0 || len(x.Weights()) != 0 {
		t.Fatalf("UnbindDest(b) = %d, Len %d", n, x.Len())
	}
}

func TestConsistentHashRouteAllocs(t *testing.T) {
	for _, args := range []amqp.Table{nil, {{Key: "hash-header", Value: "h"}}} {
		x := newCH(t, args)
		for i := range 8 {
			chBind(t, x, fmt.Sprintf("q%d", i), "3")
		}
		hdrs := amqp.Table{{Key: "h", Value: amqp.Table{{Key: "n", Value: []any{"a", int64(1)}}}}}
		dst := make([]string, 0, 1)
		if n := testing.AllocsPerRun(100, func() { dst = x.Route("some.routing.key", hdrs, dst[:0]) }); n != 0 {
			t.Errorf("args %v: Route allocates %.1f times", args, n)
		}
	}
}

// TestConsistentHashUniformShortcut: with equal weights Route skips the
// logarithms; the choice must be the one the general path makes.
func TestConsistentHashUniformShortcut(t *testing.T) {
	x := newCH(t, nil)
	for i := range 7 {
		chBind(t, x, fmt.Sprintf("q%d", i), "3")
	}
	if !x.uniform {
		t.Fatal("equal weights not detected")
	}
	fast := routeKeys(x, 5000)
	x.uniform = false
	if slow := routeKeys(x, 5000); !slices.Equal(fast, slow) {
		t.Fatal("uniform shortcut picks differently")
	}
	chBind(t, x, "q0", "1")
	if x.uniform {
		t.Fatal("unequal weights taken as uniform")
	}
}
