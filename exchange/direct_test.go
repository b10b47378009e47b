package exchange

import (
	"slices"
	"testing"
)

func TestDirectRoute(t *testing.T) {
	type b = Binding[string]
	cases := []struct {
		name     string
		bindings []b
		key      string
		want     []string
	}{
		{"no bindings", nil, "k", nil},
		{"exact key", []b{{"k", "q1", nil}}, "k", []string{"q1"}},
		{"other key", []b{{"k", "q1", nil}}, "k2", nil},
		{"no prefix match", []b{{"k", "q1", nil}}, "k.x", nil},
		{"no wildcard", []b{{"*", "q1", nil}, {"#", "q2", nil}}, "k", nil},
		{"two queues one key", []b{{"k", "q1", nil}, {"k", "q2", nil}}, "k", []string{"q1", "q2"}},
		{"empty key", []b{{"", "q1", nil}, {"k", "q2", nil}}, "", []string{"q1"}},
		{"same dest two args once", []b{{"k", "q1", nil}, {"k", "q1", tbl("x-a", "1")}}, "k", []string{"q1"}},
		{"keys differ by case", []b{{"K", "q1", nil}}, "k", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x Direct[string]
			for _, bb := range c.bindings {
				x.Bind(bb)
			}
			if got := route(t, &x, c.key, nil); !slices.Equal(got, sorted(c.want...)) {
				t.Fatalf("Route(%q) = %q; want %q", c.key, got, c.want)
			}
		})
	}
}

func TestDirectUnbindRestores(t *testing.T) {
	var x Direct[string]
	bind(t, &x, "q1", "k", nil)
	bind(t, &x, "q2", "k", nil)
	bind(t, &x, "q2", "k", tbl("x-tag", "2"))
	steps := []struct {
		unbind Binding[string]
		want   []string
	}{
		{Binding[string]{"k", "q2", nil}, []string{"q1", "q2"}}, // q2 still bound by its second binding
		{Binding[string]{"k", "q2", tbl("x-tag", "2")}, []string{"q1"}},
		{Binding[string]{"k", "q1", nil}, nil},
	}
	for _, s := range steps {
		if !x.Unbind(s.unbind) {
			t.Fatalf("Unbind(%v) = false", s.unbind)
		}
		if got := route(t, &x, "k", nil); !slices.Equal(got, sorted(s.want...)) {
			t.Fatalf("after Unbind(%v): Route = %q; want %q", s.unbind, got, s.want)
		}
	}
	bind(t, &x, "q3", "k", nil)
	if got := route(t, &x, "k", nil); !slices.Equal(got, []string{"q3"}) {
		t.Fatalf("rebind: Route = %q", got)
	}
}

func TestRouteAppends(t *testing.T) {
	for _, kind := range []string{KindDirect, KindFanout, KindTopic} {
		r := newRouter(t, kind)
		bind(t, r, "q1", "k", nil)
		dst := r.Route("k", nil, []string{"earlier"})
		if !slices.Equal(dst, []string{"earlier", "q1"}) {
			t.Errorf("%s: Route appended to [earlier] = %q", kind, dst)
		}
	}
}
