package exchange

import (
	"fmt"
	"testing"
)

// TestRouteDoesNotAllocate holds the steady-state promise of Route: with a
// reused destination slice, direct, fanout, a topic cache hit and headers
// (ten fields) allocate nothing.
func TestRouteDoesNotAllocate(t *testing.T) {
	cases := []struct {
		kind, key string
	}{
		{KindDirect, "a.b"},
		{KindFanout, "a.b"},
		{KindTopic, "a.b"}, // a cache hit after the first route
		{KindHeaders, ""},
	}
	headers := manyHeaders(10)
	for _, c := range cases {
		r := newRouter(t, c.kind)
		for i := range 10 {
			r.Bind(Binding[string]{Key: []string{"a.b", "a.*", "#"}[i%3], Dest: fmt.Sprint("q", i), Args: tbl("h03", "v03")})
		}
		dst := r.Route(c.key, headers, nil)
		if len(dst) == 0 {
			t.Fatalf("%s: no destinations", c.kind)
		}
		allocs := testing.AllocsPerRun(100, func() {
			dst = r.Route(c.key, headers, dst[:0])
		})
		if allocs != 0 {
			t.Errorf("%s: Route allocates %v times", c.kind, allocs)
		}
	}
}
