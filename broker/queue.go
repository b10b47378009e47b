package broker

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// Queue is a queue of a vhost: the AMQP properties around a queue.Queue,
// which holds the messages and consumers.
type Queue struct {
	*queue.Queue
	vhost      *VHost
	name       string
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	Args       amqp.Table

	// id keys the queue's messages in the store; persist says whether
	// its persistent messages go there (durable, not exclusive, and the
	// server has a store).
	id      uint64
	persist bool
	// pager keeps the queue's paged tail; nil without a store.
	pager *storePager

	// dlx is the dead-letter configuration (x-dead-letter-*).
	dlx    dlxConfig
	timers queueTimers
	// consumerTimeout is x-consumer-timeout; 0 uses the server's.
	consumerTimeout time.Duration

	// owner is the connection of an exclusive queue.
	owner *conn
	// consumed is set by the first consumer: an auto-delete queue is
	// deleted when its last consumer goes, never before the first came.
	consumed atomic.Bool
	deleted  atomic.Bool
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// lockedBy reports whether c may not use q because another connection
// holds it exclusively.
func (q *Queue) lockedBy(c *conn) bool { return q.owner != nil && q.owner != c }

// deleteQueue removes q unconditionally and returns the number of ready
// messages dropped.
func (v *VHost) deleteQueue(q *Queue) int {
	n, _ := v.deleteQueueIf(q, false, false)
	return n
}

// deleteQueueIf is queue.delete: the queue checks if-unused and if-empty
// and closes itself in one critical section; then it is unlinked.
func (v *VHost) deleteQueueIf(q *Queue, ifUnused, ifEmpty bool) (int, error) {
	consumers, n, err := q.Delete(ifUnused, ifEmpty)
	if errors.Is(err, queue.ErrClosed) {
		return 0, nil // deleted concurrently: done either way
	}
	if err != nil {
		return 0, err
	}
	v.unlinkQueue(q, consumers)
	return n, nil
}

// unlinkQueue finishes the deletion of a closed queue: it leaves its
// vhost and every binding, its stored state goes, and its consumers get
// basic.cancel (RabbitMQ's consumer cancel notification).
func (v *VHost) unlinkQueue(q *Queue, consumers []*queue.Consumer) {
	q.deleted.Store(true)
	q.stopTimers()
	v.mu.Lock()
	if v.queues[q.name] == q {
		delete(v.queues, q.name)
	}
	var emptied []*Exchange
	for _, x := range v.exchanges {
		if x.router.UnbindDest(dest{q: q}) > 0 && x.AutoDelete && x.router.Len() == 0 {
			emptied = append(emptied, x)
		}
	}
	for _, x := range emptied {
		v.deleteExchangeLocked(x)
	}
	v.forgetQueue(q)
	v.mu.Unlock()
	for _, c := range consumers {
		if owner, ok := c.Owner.(*channel); ok {
			owner.consumerCancelled(c.Tag)
		}
	}
}

// deleteExchangeLocked removes x and every binding to it. v.mu is held.
func (v *VHost) deleteExchangeLocked(x *Exchange) {
	delete(v.exchanges, x.Name)
	x.deleted.Store(true)
	if x.delay != nil {
		x.delay.close()
		if x.delay.id != 0 {
			v.logStoreErr(v.s.store.DeleteQueue(x.delay.id), "delete delayed messages")
		}
	}
	v.forgetExchange(x)
	var emptied []*Exchange
	for _, other := range v.exchanges {
		if other.router.UnbindDest(dest{x: x}) > 0 && other.AutoDelete && other.router.Len() == 0 {
			emptied = append(emptied, other)
		}
	}
	for _, e := range emptied {
		if !e.deleted.Load() {
			v.deleteExchangeLocked(e)
		}
	}
}
