package exchange

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentRouteAndBind routes from several goroutines while others
// bind and unbind. A binding that never changes must be in every result,
// and no result may hold a destination twice. Run it with -race.
func TestConcurrentRouteAndBind(t *testing.T) {
	stable := map[string]Binding[string]{
		KindDirect:  {Key: "a.b", Dest: "stable"},
		KindFanout:  {Key: "", Dest: "stable"},
		KindTopic:   {Key: "a.#", Dest: "stable"},
		KindHeaders: {Dest: "stable", Args: tbl("h", "v")},
	}
	churn := map[string][]string{ // keys the churning bindings use
		KindDirect:  {"a.b", "x"},
		KindFanout:  {"", "x"},
		KindTopic:   {"a.*", "#", "*.b", "a.#.b", "#.#", "x.*"},
		KindHeaders: {""},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := newRouter(t, kind)
			r.Bind(stable[kind])
			const routers, writers, rounds = 4, 2, 300
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range rounds {
						d := fmt.Sprintf("c%d", (w*rounds+i)%8)
						for j, key := range churn[kind] {
							args := tbl("h", "v", "x-match", []string{"all", "any"}[j%2])
							r.Bind(Binding[string]{Key: key, Dest: d, Args: args})
						}
						if i%3 == 0 {
							r.UnbindDest(d)
						} else {
							for _, key := range churn[kind] {
								r.Unbind(Binding[string]{Key: key, Dest: d, Args: tbl("x-match", "all", "h", "v")})
							}
						}
						_ = r.Bindings()
						_ = r.Len()
						_ = r.HasDest(d)
					}
				})
			}
			for range routers {
				wg.Go(func() {
					var dst []string
					for i := range rounds * 4 {
						dst = r.Route([]string{"a.b", "a.b", "a.x.b"}[i%3], tbl("h", "v"), dst[:0])
						if kind == KindDirect && i%3 == 2 {
							continue // a.x.b is not the stable direct key
						}
						if !slices.Contains(dst, "stable") {
							t.Errorf("route %d: %q lacks the stable binding", i, dst)
							return
						}
						s := slices.Clone(dst)
						slices.Sort(s)
						if len(slices.Compact(s)) != len(dst) {
							t.Errorf("route %d: duplicates in %q", i, dst)
							return
						}
					}
				})
			}
			wg.Wait()
			if !r.HasDest("stable") {
				t.Fatal("the stable binding is gone")
			}
		})
	}
}
