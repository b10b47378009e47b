package queue_test

import (
	"testing"
	"time"

	"github.com/warrenmq/warren/broker/queue"
)

// Benchmarks of RabbitMQ's extensions, next to BenchmarkPublishDeliver and
// BenchmarkPublishGet, whose plain FIFO path they must not slow down.

// benchDeliver publishes msgs in turn into q, whose one consumer acks on
// delivery, so that each message is delivered inline.
func benchDeliver(b *testing.B, q *queue.Queue, msgs []*queue.Message) {
	l := queue.NewLimiter(100)
	if err := q.AddConsumer(&queue.Consumer{Tag: "c", Sink: ackingSink{l}, Limits: []*queue.Limiter{l}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q.Publish(msgs[i%len(msgs)])
		i++
	}
	if q.Len() != 0 {
		b.Fatalf("Len() = %d: messages were not delivered", q.Len())
	}
}

// benchGet publishes depth messages (msgs in turn) with no consumer, then
// drains them with Get. One op is one message in and out.
func benchGet(b *testing.B, q *queue.Queue, msgs []*queue.Message, depth int) {
	b.ReportAllocs()
	for i := 0; i < b.N; i += depth {
		n := min(depth, b.N-i)
		for j := range n {
			q.Publish(msgs[j%len(msgs)])
		}
		for range n {
			if _, ok := q.Get(); !ok {
				b.Fatal("Get: empty")
			}
		}
	}
}

func prioMsgs() []*queue.Message {
	ms := make([]*queue.Message, 10)
	for i := range ms {
		ms[i] = &queue.Message{Exchange: "x", RoutingKey: "k", Body: make([]byte, 64), Priority: uint8(i * 7 % 10)}
	}
	return ms
}

// BenchmarkPriority: a priority queue (x-max-priority 9) fed priorities
// 0-9 in a scrambled order: inline delivery, and a backlog drained by Get.
func BenchmarkPriority(b *testing.B) {
	b.Run("publish-deliver", func(b *testing.B) {
		benchDeliver(b, queue.New(queue.Options{Name: "q", MaxPriority: 9}), prioMsgs())
	})
	for _, depth := range []int{1000} {
		b.Run(benchName("publish-get/depth", depth), func(b *testing.B) {
			benchGet(b, queue.New(queue.Options{Name: "q", MaxPriority: 9}), prioMsgs(), depth)
		})
	}
}

// BenchmarkTTL: a queue with x-message-ttl on the real clock, and messages
// with a per-message deadline: each delivered head is checked against the
// clock.
func BenchmarkTTL(b *testing.B) {
	minute := time.Minute
	m := &queue.Message{Exchange: "x", RoutingKey: "k", Body: make([]byte, 64)}
	b.Run("queue-ttl/publish-deliver", func(b *testing.B) {
		benchDeliver(b, queue.New(queue.Options{Name: "q", MessageTTL: &minute}), []*queue.Message{m})
	})
	b.Run("queue-ttl/publish-get/depth=1k", func(b *testing.B) {
		benchGet(b, queue.New(queue.Options{Name: "q", MessageTTL: &minute}), []*queue.Message{m}, 1000)
	})
	pm := &queue.Message{Exchange: "x", RoutingKey: "k", Body: make([]byte, 64),
		ExpiresAt: time.Now().Add(time.Hour).UnixNano()}
	b.Run("message-ttl/publish-get/depth=1k", func(b *testing.B) {
		benchGet(b, queue.New(queue.Options{Name: "q"}), []*queue.Message{pm}, 1000)
	})
}

// BenchmarkConsumerPriority: four consumers in two priorities, the high
// ones without credit most of the time, so that pick walks both levels.
func BenchmarkConsumerPriority(b *testing.B) {
	q := queue.New(queue.Options{Name: "q"})
	for i, p := range []int32{10, 10, 0, 0} {
		l := queue.NewLimiter(0)
		if p == 10 {
			l = queue.NewLimiter(1)
			l.TryAcquire() // blocked for the whole run
		}
		if err := q.AddConsumer(&queue.Consumer{Tag: benchName("c", i), Priority: p,
			Sink: ackingSink{l}, Limits: []*queue.Limiter{l}}); err != nil {
			b.Fatal(err)
		}
	}
	m := &queue.Message{Exchange: "x", RoutingKey: "k", Body: make([]byte, 64)}
	b.ReportAllocs()
	for b.Loop() {
		q.Publish(m)
	}
}
