package exchange

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/warrenmq/warren/amqp"
)

func BenchmarkDirectRoute(b *testing.B) {
	for _, n := range []int{1, 10000} {
		b.Run(fmt.Sprintf("bindings=%d", n), func(b *testing.B) {
			var x Direct[int]
			for i := range n {
				x.Bind(Binding[int]{Key: fmt.Sprint("key.", i), Dest: i})
			}
			key := fmt.Sprint("key.", n/2)
			dst := make([]int, 0, 8)
			b.ReportAllocs()
			for b.Loop() {
				dst = x.Route(key, nil, dst[:0])
			}
		})
	}
}

func BenchmarkFanoutRoute(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("dests=%d", n), func(b *testing.B) {
			var x Fanout[int]
			for i := range n {
				x.Bind(Binding[int]{Dest: i})
			}
			dst := make([]int, 0, n)
			b.ReportAllocs()
			for b.Loop() {
				dst = x.Route("", nil, dst[:0])
			}
		})
	}
}

// topicBench builds a topic exchange of n patterns of k words drawn from a
// vocabulary of 10 words, one word in 10 a '*' and one in 20 a '#', and 64
// routing keys of k words. The seed is fixed so runs compare.
func topicBench(k, n int) (*Topic[int], []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string { return fmt.Sprint("w", rng.IntN(10)) }
	var x Topic[int]
	for i := range n {
		w := make([]string, k)
		for j := range w {
			switch r := rng.IntN(20); {
			case r == 0:
				w[j] = "#"
			case r < 3:
				w[j] = "*"
			default:
				w[j] = word()
			}
		}
		x.Bind(Binding[int]{Key: strings.Join(w, "."), Dest: i})
	}
	keys := make([]string, 64)
	for i := range keys {
		w := make([]string, k)
		for j := range w {
			w[j] = word()
		}
		keys[i] = strings.Join(w, ".")
	}
	return &x, keys
}

// BenchmarkTopicRoute is routing by key length (words) and binding count,
// answered from the cache (hit), by walking the trie (miss; the cache is
// bypassed), and from the cache by all CPUs at once (hit-parallel).
func BenchmarkTopicRoute(b *testing.B) {
	for _, k := range []int{1, 4, 8} {
		for _, n := range []int{10, 10000} {
			x, keys := topicBench(k, n)
			name := fmt.Sprintf("keys=%d/bindings=%d", k, n)
			b.Run(name+"/cache=hit", func(b *testing.B) {
				dst := make([]int, 0, n)
				for _, key := range keys {
					dst = x.Route(key, nil, dst[:0])
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					dst = x.Route(keys[i%len(keys)], nil, dst[:0])
					i++
				}
			})
			b.Run(name+"/cache=miss", func(b *testing.B) {
				dst := make([]int, 0, n)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					x.mu.RLock()
					dst = x.match(keys[i%len(keys)], dst[:0])
					x.mu.RUnlock()
					i++
				}
			})
			b.Run(name+"/cache=hit-parallel", func(b *testing.B) {
				for _, key := range keys {
					x.Route(key, nil, nil)
				}
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					dst := make([]int, 0, n)
					i := 0
					for pb.Next() {
						dst = x.Route(keys[i%len(keys)], nil, dst[:0])
						i++
					}
				})
			})
		}
	}
}

// BenchmarkHeadersRoute routes a message with a 10-field header table
// through bindings of two or three fields each, alternately "all" and "any".
func BenchmarkHeadersRoute(b *testing.B) {
	headers := manyHeaders(10)
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("headers=10/bindings=%d", n), func(b *testing.B) {
			var x Headers[int]
			for i := range n {
				args := amqp.Table{
					{Key: "x-match", Value: []string{"all", "any"}[i%2]},
					{Key: fmt.Sprintf("h%02d", i%12), Value: fmt.Sprintf("v%02d", i%12)},
					{Key: fmt.Sprintf("h%02d", (i+3)%10), Value: fmt.Sprintf("v%02d", (i+3)%10)},
				}
				x.Bind(Binding[int]{Dest: i, Args: args})
			}
			dst := make([]int, 0, n)
			b.ReportAllocs()
			for b.Loop() {
				dst = x.Route("", headers, dst[:0])
			}
		})
	}
}
