package queue_test

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// ackingSink acknowledges on delivery: it gives the credit straight back,
// the cheapest consumer there is, so that the benchmark measures the queue.
type ackingSink struct{ l *queue.Limiter }

func (s ackingSink) Deliver(*queue.Queue, *queue.Consumer, *queue.Entry) { s.l.Release(1) }

// BenchmarkPublishDeliver: publish into a queue whose one consumer has
// credit, so that each message is delivered inline.
func BenchmarkPublishDeliver(b *testing.B) {
	q := queue.New(queue.Options{Name: "q"})
	l := queue.NewLimiter(100)
	if err := q.AddConsumer(&queue.Consumer{Tag: "c", Sink: ackingSink{l}, Limits: []*queue.Limiter{l}}); err != nil {
		b.Fatal(err)
	}
	m := &queue.Message{Exchange: "x", RoutingKey: "k", Body: make([]byte, 64)}
	b.ReportAllocs()
	for b.Loop() {
		q.Publish(m)
	}
	if q.Len() != 0 {
		b.Fatalf("Len() = %d: messages were not delivered", q.Len())
	}
}

// BenchmarkPublishGet: publish with no consumer, then drain with basic.get,
// depth messages at a time. One op is one message in and out.
func BenchmarkPublishGet(b *testing.B) {
	for _, depth := range []int{1, 1000, 100_000} {
		b.Run(benchName("depth", depth), func(b *testing.B) {
			q := queue.New(queue.Options{Name: "q"})
			m := &queue.Message{Body: make([]byte, 64)}
			b.ReportAllocs()
			for i := 0; i < b.N; i += depth {
				n := min(depth, b.N-i)
				for range n {
					q.Publish(m)
				}
				for range n {
					if _, ok := q.Get(); !ok {
						b.Fatal("Get: empty")
					}
				}
			}
		})
	}
}

// BenchmarkRequeue1000 times one Requeue of 1000 entries (the Gets that
// take them out are not timed).
//
//   - front: the usual case, the 1000 oldest entries go back in front of
//     1000 ready ones, in ascending order (basic.nack multiple).
//   - front-shuffled: the same in random order, as a channel closing with an
//     unacked map might hand them over; adds the sort.
//   - interleaved: 1000 entries whose seqs alternate with 1000 of the 3000
//     ready ones, so that the merge has to move entries.
func BenchmarkRequeue1000(b *testing.B) {
	const k = 1000
	b.Run("front", func(b *testing.B) { benchRequeue(b, 2*k, k, false, false) })
	b.Run("front-shuffled", func(b *testing.B) { benchRequeue(b, 2*k, k, true, false) })
	b.Run("interleaved", func(b *testing.B) { benchRequeue(b, 4*k, 2*k, false, true) })
}

// benchRequeue keeps depth messages in a queue. Each iteration takes the
// first take entries; with interleave, every other one is requeued untimed
// first, and the timed Requeue puts back the other half.
func benchRequeue(b *testing.B, depth, take int, shuffle, interleave bool) {
	q := queue.New(queue.Options{Name: "q"})
	publishN(b, q, depth)
	r := rand.New(rand.NewPCG(1, 2))
	es := make([]*queue.Entry, 0, take)
	half := make([]*queue.Entry, 0, take/2)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		es = es[:0]
		for range take {
			e, _ := q.Get()
			es = append(es, e)
		}
		timed := es
		if interleave {
			half, timed = half[:0], timed[:0]
			for i, e := range es {
				if i%2 == 0 {
					half = append(half, e)
				} else {
					timed = append(timed, e)
				}
			}
			q.Requeue(half)
		}
		if shuffle {
			r.Shuffle(len(timed), func(i, j int) { timed[i], timed[j] = timed[j], timed[i] })
		}
		b.StartTimer()
		q.Requeue(timed)
	}
	if q.Len() != depth {
		b.Fatalf("Len() = %d, want %d", q.Len(), depth)
	}
}

func benchName(key string, n int) string {
	if n >= 1000 && n%1000 == 0 {
		return key + "=" + strconv.Itoa(n/1000) + "k"
	}
	return key + "=" + strconv.Itoa(n)
}
