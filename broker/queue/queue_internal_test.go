package queue

import "testing"

// Internal tests of Queue: what the public API cannot show, namely the
// buffer's capacity after a drain and the lock held around Sink.Deliver.

// TestMemoryReclaimed: a queue that held 1e5 messages and drained must not
// pin 1e5 slots, whether it drains through Get or through a consumer.
func TestMemoryReclaimed(t *testing.T) {
	const n = 100_000
	drains := map[string]func(q *Queue){
		"get": func(q *Queue) {
			for {
				if _, ok := q.Get(); !ok {
					return
				}
			}
		},
		"consumer": func(q *Queue) {
			if err := q.AddConsumer(&Consumer{Tag: "c", Sink: discard{}}); err != nil {
				t.Fatal(err)
			}
		},
		"purge": func(q *Queue) { q.Purge() },
	}
	for name, drainQ := range drains {
		t.Run(name, func(t *testing.T) {
			q := New(Options{Name: "q"})
			m := &Message{Body: []byte("x")}
			for range n {
				q.Publish(m)
			}
			if c := q.readyCap(); c < n {
				t.Fatalf("capacity %d holding %d messages", c, n)
			}
			drainQ(q)
			if q.Len() != 0 || q.Bytes() != 0 {
				t.Fatalf("not drained: Len=%d Bytes=%d", q.Len(), q.Bytes())
			}
			if c := q.readyCap(); c > minCap {
				t.Fatalf("capacity %d after draining, want <= %d", c, minCap)
			}
		})
	}
}

func (q *Queue) readyCap() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready.buf)
}

type discard struct{}

func (discard) Deliver(*Queue, *Consumer, *Entry) {}

// lockCheck asserts the Sink contract: Deliver runs with the queue's lock
// held, which is what keeps deliveries in the queue's order.
type lockCheck struct {
	t     *testing.T
	calls int
}

func (s *lockCheck) Deliver(q *Queue, _ *Consumer, _ *Entry) {
	s.calls++
	if q.mu.TryLock() {
		q.mu.Unlock()
		s.t.Error("Deliver called without the queue's lock")
	}
}

func TestDeliverHoldsQueueLock(t *testing.T) {
	q := New(Options{Name: "q"})
	l := NewLimiter(1)
	s := &lockCheck{t: t}
	if err := q.AddConsumer(&Consumer{Tag: "c", Sink: s, Limits: []*Limiter{l}}); err != nil {
		t.Fatal(err)
	}
	es := []*Entry{q.Publish(&Message{}), q.Publish(&Message{})} // via Publish
	l.Release(1)
	q.Dispatch() // via Dispatch
	l.Release(2)
	l.SetLimit(2)
	q.Requeue(es) // via Requeue: both redelivered
	if s.calls != 4 {
		t.Fatalf("%d deliveries, want 4", s.calls)
	}
}
