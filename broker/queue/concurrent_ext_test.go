package queue_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker/queue"
)

// TestConcurrentExtensions runs publishers, acking and requeueing
// consumers of two priorities and an expiry "timer" against a priority
// queue with a length limit and TTLs, on the real clock. Whatever the
// interleaving, each message must end exactly once: acked, or dead-lettered
// (expired or maxlen), and dead letters must arrive without the queue's
// lock held (the hook calls back into the queue).
func TestConcurrentExtensions(t *testing.T) {
	const publishers, perPublisher = 4, 1500
	const total = publishers * perPublisher
	var (
		ended    [total + 1]atomic.Int32 // by message id (body[0..1])
		nEnded   atomic.Int64
		allEnded = make(chan struct{})
		q        *queue.Queue
		reasons  sync.Map
	)
	end := func(id int) {
		if ended[id].Add(1) != 1 {
			t.Errorf("message %d ended twice", id)
		}
		if nEnded.Add(1) == total {
			close(allEnded)
		}
	}
	idOf := func(m *queue.Message) int { return int(m.Body[0])<<8 | int(m.Body[1]) }
	msgTTL := 200 * time.Microsecond
	q = queue.New(queue.Options{Name: "q", MaxPriority: 3,
		MessageTTL: &msgTTL,
		Limits:     &queue.Limits{MaxLength: 50, MaxBytes: -1},
		OnDeadLetter: func(dl []queue.DeadLetter) {
			q.Len() // the lock must be free
			for _, d := range dl {
				reasons.Store(d.Reason.String(), true)
				end(idOf(d.Entry.Msg))
			}
		}})

	sinks := []*ackSink{newAckSink(), newAckSink()}
	limits := []*queue.Limiter{queue.NewLimiter(5), queue.NewLimiter(5)}
	for i, s := range sinks {
		c := consumer("c", s, limits[i])
		c.Priority = int32(i * 10)
		mustAdd(t, q, c)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i, s := range sinks {
		wg.Go(func() {
			for batch := 0; ; batch++ {
				es := s.take()
				if es == nil {
					return
				}
				limits[i].Release(len(es))
				if batch%4 == 0 {
					q.Requeue(es)
					continue
				}
				for _, e := range es {
					end(idOf(e.Msg))
				}
				q.Dispatch()
			}
		})
	}
	wg.Go(func() { // the broker's timer, firing as often as it can
		for {
			select {
			case <-done:
				return
			default:
				q.ExpireHead(time.Now())
			}
		}
	})
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for i := range perPublisher {
				id := p*perPublisher + i + 1
				q.Publish(&queue.Message{Body: []byte{byte(id >> 8), byte(id)}, Priority: uint8(i % 5)})
			}
		})
	}
	pubs.Wait()
	// Whatever is left is acked or expires (the timer goroutine drops
	// it); the test's own timeout catches a message that never ends.
	<-allEnded
	close(done)
	for _, s := range sinks {
		s.finish()
	}
	wg.Wait()
	for id := 1; id <= total; id++ {
		if ended[id].Load() != 1 {
			t.Fatalf("message %d ended %d times", id, ended[id].Load())
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len() = %d", q.Len())
	}
	_, expired := reasons.Load("expired")
	t.Logf("dead-letter reasons seen: expired=%v", expired)
}
