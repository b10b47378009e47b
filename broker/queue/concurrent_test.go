package queue_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// ackSink stands in for a broker channel: Deliver (under the queue's lock)
// records the entry as unacked under the sink's own lock, the order
// queue.mu → channel.mu; an acker goroutine takes the unacked entries
// without the queue's lock, releases their credit and kicks the queue, as
// the broker's ack path does.
type ackSink struct {
	mu      sync.Mutex
	cond    sync.Cond
	unacked []*queue.Entry
	first   []uint64 // seqs of first deliveries, in delivery order
	done    bool
}

func newAckSink() *ackSink {
	s := &ackSink{}
	s.cond.L = &s.mu
	return s
}

func (s *ackSink) Deliver(_ *queue.Queue, _ *queue.Consumer, e *queue.Entry) {
	s.mu.Lock()
	s.unacked = append(s.unacked, e)
	if !e.Redelivered {
		s.first = append(s.first, e.Seq)
	}
	s.mu.Unlock()
	s.cond.Signal()
}

// take waits for unacked entries; nil means the test is over.
func (s *ackSink) take() []*queue.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.unacked) == 0 && !s.done {
		s.cond.Wait()
	}
	batch := s.unacked
	s.unacked = nil
	return batch
}

func (s *ackSink) finish() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// TestConcurrentPublishAckRequeue publishes from many goroutines while
// consumers with prefetch credit ack (and, in one mode, requeue) from their
// own goroutines. Every message must be acked exactly once, and each
// consumer must see first deliveries in strictly increasing Seq order.
func TestConcurrentPublishAckRequeue(t *testing.T) {
	const publishers, perPublisher, consumers = 8, 1000, 3
	const total = publishers * perPublisher
	for _, requeue := range []bool{false, true} {
		name := "ack"
		if requeue {
			name = "ack+requeue"
		}
		t.Run(name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			channel := queue.NewLimiter(25) // global qos shared by all consumers
			sinks := make([]*ackSink, consumers)
			limits := make([]*queue.Limiter, consumers)
			for i := range sinks {
				sinks[i], limits[i] = newAckSink(), queue.NewLimiter(10)
				mustAdd(t, q, consumer("c", sinks[i], limits[i], channel))
			}

			var acked [total + 1]atomic.Int32
			var ackedTotal atomic.Int64
			var wg sync.WaitGroup
			for i, s := range sinks {
				wg.Go(func() {
					for batch := 0; ; batch++ {
						es := s.take()
						if es == nil {
							return
						}
						// Release before the kick: the kick must see the
						// freed credit, or a delivery could be lost.
						limits[i].Release(len(es))
						channel.Release(len(es))
						if requeue && batch%3 == 0 && !es[0].Redelivered {
							q.Requeue(es) // basic.nack requeue=true
							continue
						}
						for _, e := range es {
							acked[e.Seq].Add(1)
						}
						if ackedTotal.Add(int64(len(es))) == total {
							for _, s := range sinks {
								s.finish()
							}
						}
						q.Dispatch()
					}
				})
			}
			for range publishers {
				wg.Go(func() {
					var last uint64
					for range perPublisher {
						e := q.Publish(msg("m"))
						if e.Seq <= last {
							t.Errorf("Publish returned Seq %d after %d", e.Seq, last)
						}
						last = e.Seq
					}
				})
			}
			wg.Wait()

			for seq := 1; seq <= total; seq++ {
				if n := acked[seq].Load(); n != 1 {
					t.Fatalf("seq %d acked %d times", seq, n)
				}
			}
			firsts := 0
			for i, s := range sinks {
				for j := 1; j < len(s.first); j++ {
					if s.first[j] <= s.first[j-1] {
						t.Fatalf("consumer %d: seq %d after %d", i, s.first[j], s.first[j-1])
					}
				}
				firsts += len(s.first)
			}
			if firsts != total {
				t.Fatalf("%d first deliveries, want %d", firsts, total)
			}
			if q.Len() != 0 || channel.InFlight() != 0 {
				t.Fatalf("Len=%d channel InFlight=%d, want 0, 0", q.Len(), channel.InFlight())
			}
		})
	}
}
