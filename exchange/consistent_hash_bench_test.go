package exchange

import (
	"fmt"
	"testing"

	"github.com/warrenmq/warren/amqp"
)

// BenchmarkConsistentHashRoute: one route by routing key (or by a header)
// among dests destinations; 64 keys in turn so that no branch predictor
// learns one answer.
func BenchmarkConsistentHashRoute(b *testing.B) {
	keys := make([]string, 64)
	hdrs := make([]amqp.Table, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("order.%d.created", i*7919)
		hdrs[i] = amqp.Table{{Key: "content-type", Value: "json"}, {Key: "shard", Value: keys[i]}}
	}
	for _, by := range []string{"key", "header"} {
		for _, weights := range []string{"equal", "1-3"} {
			for _, n := range []int{4, 16, 256} {
				benchCH(b, by, weights, n, keys, hdrs)
			}
		}
	}
}

func benchCH(b *testing.B, by, weights string, n int, keys []string, hdrs []amqp.Table) {
	b.Run(fmt.Sprintf("by=%s/weights=%s/dests=%d", by, weights, n), func(b *testing.B) {
		var args amqp.Table
		if by == "header" {
			args = amqp.Table{{Key: ArgHashHeader, Value: "shard"}}
		}
		x, err := NewConsistentHash(args, func(i int) string { return fmt.Sprint("queue-", i) })
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			w := 1 + i%3
			if weights == "equal" {
				w = 2
			}
			x.Bind(Binding[int]{Key: fmt.Sprint(w), Dest: i})
		}
		dst := make([]int, 0, 1)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			dst = x.Route(keys[i&63], hdrs[i&63], dst[:0])
			i++
		}
	})
}
