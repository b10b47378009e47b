package queue_test

import (
	"slices"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// delivery is what a recorder saw in one Sink.Deliver call.
type delivery struct {
	tag         string
	seq         uint64
	redelivered bool
	count       uint32
}

// recorder is a Sink that records deliveries in the order the queue made
// them, across every consumer that shares it. The queue calls it with its
// lock held and the tests read it from the same goroutine afterwards.
type recorder struct {
	got []delivery
	cs  []*queue.Consumer // who got each delivery, for consumers sharing a tag
}

func (r *recorder) Deliver(_ *queue.Queue, c *queue.Consumer, e *queue.Entry) {
	r.got = append(r.got, delivery{c.Tag, e.Seq, e.Redelivered, e.DeliveryCount})
	r.cs = append(r.cs, c)
}

func (r *recorder) tags() []string {
	var ts []string
	for _, d := range r.got {
		ts = append(ts, d.tag)
	}
	return ts
}

func (r *recorder) seqs() []uint64 {
	var ss []uint64
	for _, d := range r.got {
		ss = append(ss, d.seq)
	}
	return ss
}

func msg(body string) *queue.Message {
	return &queue.Message{Exchange: "x", RoutingKey: "k", Body: []byte(body)}
}

// publishN publishes n messages with bodies of 1, 2, ... n bytes, so that a
// wrong byte count shows.
func publishN(t testing.TB, q *queue.Queue, n int) []*queue.Entry {
	t.Helper()
	es := make([]*queue.Entry, n)
	for i := range n {
		es[i] = q.Publish(&queue.Message{Body: make([]byte, i+1)})
		if es[i] == nil {
			t.Fatalf("Publish %d returned nil", i)
		}
	}
	return es
}

// drain pops every ready entry with Get.
func drain(q *queue.Queue) []*queue.Entry {
	var es []*queue.Entry
	for {
		e, ok := q.Get()
		if !ok {
			return es
		}
		es = append(es, e)
	}
}

func seqsOf(es []*queue.Entry) []uint64 {
	ss := make([]uint64, len(es))
	for i, e := range es {
		ss[i] = e.Seq
	}
	return ss
}

func seqRange(from, to uint64) []uint64 {
	var ss []uint64
	for s := from; s <= to; s++ {
		ss = append(ss, s)
	}
	return ss
}

func mustEqual[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func consumer(tag string, sink queue.Sink, limits ...*queue.Limiter) *queue.Consumer {
	return &queue.Consumer{Tag: tag, Sink: sink, Limits: limits}
}

func mustAdd(t *testing.T, q *queue.Queue, cs ...*queue.Consumer) {
	t.Helper()
	for _, c := range cs {
		if err := q.AddConsumer(c); err != nil {
			t.Fatalf("AddConsumer(%q): %v", c.Tag, err)
		}
	}
}
