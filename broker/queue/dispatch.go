package queue

import "slices"

// AddConsumer is basic.consume: it adds c and dispatches, so c may receive
// deliveries (through c.Sink) before AddConsumer returns. c.OnAdd, if set,
// runs first, in the same critical section.
//
// Exclusive consume (RabbitMQ docs, consumers.md#exclusive-consume): the
// call "succeeds only if there's no consumer already registered to the queue
// at that time", and while it exists no other consumer may join. So it fails
// with ErrExclusiveConsumer when an exclusive consumer exists, or when c is
// exclusive and other consumers exist; with ErrClosed after Delete.
func (q *Queue) AddConsumer(c *Consumer) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if q.exclusive || (c.Exclusive && len(q.consumers) > 0) {
		return ErrExclusiveConsumer
	}
	q.consumers = append(q.consumers, c)
	if c.Exclusive {
		q.exclusive = true
	}
	if c.OnAdd != nil {
		c.OnAdd()
	}
	q.dispatch()
	return nil
}

// RemoveConsumer is basic.cancel (or the consumer's channel closing). It
// reports whether c was a consumer of the queue and how many remain, which
// is what auto-delete needs. The consumer is identified by pointer, because
// consumer tags are unique per channel only: two channels may consume from
// one queue under the same tag. Its unacked entries stay with the broker,
// which requeues them.
func (q *Queue) RemoveConsumer(c *Consumer) (removed bool, remaining int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.consumers, c)
	if i < 0 {
		return false, len(q.consumers)
	}
	q.consumers = slices.Delete(q.consumers, i, i+1)
	// Keep the cursor on the consumer it pointed at, so that removing one
	// consumer does not make another skip its turn.
	if i < q.next {
		q.next--
	}
	if q.next >= len(q.consumers) {
		q.next = 0
	}
	if c.Exclusive {
		q.exclusive = false
	}
	return true, len(q.consumers)
}

// ConsumerCount is the number of consumers: consumer-count in
// queue.declare-ok.
func (q *Queue) ConsumerCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.consumers)
}

// Dispatch is the "kick": the broker calls it after credit was released (an
// ack, nack or reject freed prefetch) or raised (basic.qos), and after a
// consumer's connection can take more. It hands ready messages to consumers
// with credit until either runs out.
func (q *Queue) Dispatch() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dispatch()
}

// dispatch delivers ready entries round-robin while a consumer has credit.
// Called with q.mu held.
func (q *Queue) dispatch() {
	for len(q.consumers) > 0 {
		if q.ready.len() == 0 && !q.refill() {
			return
		}
		c := q.pick()
		if c == nil {
			return
		}
		e := q.pop()
		e.DeliveryCount++
		c.Sink.Deliver(q, c, e)
	}
}

// pick returns the next consumer, in round-robin order from the cursor, that
// has credit, with the credit already taken, and moves the cursor past it so
// that consumers take turns. It returns nil when no consumer has credit.
//
// It may try every consumer for one delivery; with many consumers mostly out
// of credit, a list of consumers with credit would be cheaper. hook:
// consumer priorities (x-priority) choose among consumers here.
func (q *Queue) pick() *Consumer {
	n := len(q.consumers)
	for i := range n {
		idx := q.next + i
		if idx >= n {
			idx -= n
		}
		c := q.consumers[idx]
		if c.acquire() {
			q.next = idx + 1
			if q.next == n {
				q.next = 0
			}
			return c
		}
	}
	return nil
}
