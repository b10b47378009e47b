package exchange

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/warrenmq/warren/amqp"
)

func TestNewUnknownKind(t *testing.T) {
	for _, kind := range []string{"", "x-consistent-hash", "Direct", "match"} {
		if r, ok := New[string](kind); ok || r != nil {
			t.Errorf("New(%q) = %v, %v; want nil, false", kind, r, ok)
		}
	}
}

// TestBindingIdentity checks, for every exchange type, that a binding is
// identified by (dest, key, args) with args compared as RabbitMQ does.
func TestBindingIdentity(t *testing.T) {
	cases := []struct {
		name       string
		first, dup Binding[string]
		same       bool
	}{
		{"identical", Binding[string]{"k", "q", nil}, Binding[string]{"k", "q", nil}, true},
		{"nil and empty args", Binding[string]{"k", "q", nil}, Binding[string]{"k", "q", amqp.Table{}}, true},
		{"other key", Binding[string]{"k", "q", nil}, Binding[string]{"k2", "q", nil}, false},
		{"other dest", Binding[string]{"k", "q", nil}, Binding[string]{"k", "q2", nil}, false},
		{"args order", Binding[string]{"k", "q", tbl("a", int32(1), "b", "x")},
			Binding[string]{"k", "q", tbl("b", "x", "a", int32(1))}, true},
		{"args value", Binding[string]{"k", "q", tbl("a", int32(1))},
			Binding[string]{"k", "q", tbl("a", int32(2))}, false},
		{"args type", Binding[string]{"k", "q", tbl("a", int32(1))},
			Binding[string]{"k", "q", tbl("a", int64(1))}, false},
		{"int is int64", Binding[string]{"k", "q", tbl("a", int(1))},
			Binding[string]{"k", "q", tbl("a", int64(1))}, true},
		{"string vs bytes", Binding[string]{"k", "q", tbl("a", "x")},
			Binding[string]{"k", "q", tbl("a", []byte("x"))}, false},
		{"bytes by content", Binding[string]{"k", "q", tbl("a", []byte("x"))},
			Binding[string]{"k", "q", tbl("a", []byte("x"))}, true},
		{"extra arg", Binding[string]{"k", "q", tbl("a", "x")},
			Binding[string]{"k", "q", tbl("a", "x", "b", "y")}, false},
		{"nested table", Binding[string]{"k", "q", tbl("t", tbl("a", true))},
			Binding[string]{"k", "q", tbl("t", tbl("a", true))}, true},
		{"nested array", Binding[string]{"k", "q", tbl("l", []any{int8(1), "x"})},
			Binding[string]{"k", "q", tbl("l", []any{int8(1), "y"})}, false},
	}
	for _, kind := range kinds {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				r := newRouter(t, kind)
				if !r.Bind(c.first) {
					t.Fatal("first Bind reported a duplicate")
				}
				if got := r.Bind(c.dup); got == c.same {
					t.Fatalf("second Bind = %v; want %v", got, !c.same)
				}
				wantLen := 2
				if c.same {
					wantLen = 1
				}
				if r.Len() != wantLen {
					t.Fatalf("Len = %d; want %d", r.Len(), wantLen)
				}
				// Unbind by the second form removes the first when they are equal.
				if !r.Unbind(c.dup) {
					t.Fatal("Unbind(dup) = false")
				}
				if r.Len() != wantLen-1 {
					t.Fatalf("Len after Unbind = %d; want %d", r.Len(), wantLen-1)
				}
				if r.Unbind(c.dup) {
					t.Fatal("second Unbind(dup) = true")
				}
			})
		}
	}
}

func TestBindKeepsACopyOfArgs(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			r := newRouter(t, kind)
			raw := []byte("abc")
			args := tbl("b", raw, "a", "x")
			bind(t, r, "q", "k", args)
			raw[0] = 'X'              // a reused frame buffer
			args[1].Value = "mutated" // a caller reusing its table
			if !r.Unbind(Binding[string]{"k", "q", tbl("a", "x", "b", []byte("abc"))}) {
				t.Fatal("the stored binding changed with the caller's table")
			}
		})
	}
}

func TestUnbindDestAndListing(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			r := newRouter(t, kind)
			bind(t, r, "q1", "a", nil)
			bind(t, r, "q1", "b", nil)
			bind(t, r, "q1", "b", tbl("x-k", "v"))
			bind(t, r, "q2", "a", nil)
			if r.Len() != 4 || !r.HasDest("q1") || !r.HasDest("q2") || r.HasDest("q3") {
				t.Fatalf("Len=%d HasDest q1=%v q2=%v q3=%v", r.Len(), r.HasDest("q1"), r.HasDest("q2"), r.HasDest("q3"))
			}
			got := listing(r)
			want := []string{"q1|a|", "q1|b|", "q1|b|x-k", "q2|a|"}
			if !slices.Equal(got, want) {
				t.Fatalf("Bindings = %q; want %q", got, want)
			}
			if n := r.UnbindDest("q1"); n != 3 {
				t.Fatalf("UnbindDest(q1) = %d; want 3", n)
			}
			if n := r.UnbindDest("q1"); n != 0 {
				t.Fatalf("second UnbindDest(q1) = %d; want 0", n)
			}
			if r.HasDest("q1") || r.Len() != 1 {
				t.Fatalf("after UnbindDest: HasDest(q1)=%v Len=%d", r.HasDest("q1"), r.Len())
			}
			if got := listing(r); !slices.Equal(got, []string{"q2|a|"}) {
				t.Fatalf("Bindings = %q", got)
			}
			if kind != KindHeaders { // headers ignores the key; q2's binding has no pattern
				if got := route(t, r, "a", nil); !slices.Equal(got, []string{"q2"}) {
					t.Fatalf("Route(a) = %q; want [q2]", got)
				}
			}
		})
	}
}

// listing renders Bindings as sorted "dest|key|argkeys" strings.
func listing(r Router[string]) []string {
	var out []string
	for _, b := range r.Bindings() {
		var keys []string
		for _, f := range b.Args {
			keys = append(keys, f.Key)
		}
		out = append(out, b.Dest+"|"+b.Key+"|"+strings.Join(keys, ","))
	}
	slices.Sort(out)
	return out
}

func TestValidateBinding(t *testing.T) {
	cases := []struct {
		kind string
		args amqp.Table
		ok   bool
	}{
		{KindHeaders, nil, true},
		{KindHeaders, tbl("x-match", "all"), true},
		{KindHeaders, tbl("x-match", "any"), true},
		{KindHeaders, tbl("x-match", "all-with-x"), true},
		{KindHeaders, tbl("x-match", "any-with-x"), true},
		{KindHeaders, tbl("x-match", "ANY"), false},
		{KindHeaders, tbl("x-match", []byte("any")), false},
		{KindHeaders, tbl("x-match", int32(1)), false},
		{KindTopic, tbl("x-match", "nonsense"), true},
	}
	for _, c := range cases {
		err := ValidateBinding(c.kind, c.args)
		if (err == nil) != c.ok {
			t.Errorf("ValidateBinding(%s, %v) = %v; want ok=%v", c.kind, c.args, err, c.ok)
		}
		var ibe *InvalidBindingError
		if err != nil && !errors.As(err, &ibe) {
			t.Errorf("error %v is not an *InvalidBindingError", err)
		}
		if err != nil && !strings.HasPrefix(ibe.Text, "Invalid x-match field") {
			t.Errorf("reply text %q is not RabbitMQ's wording", ibe.Text)
		}
	}
}
