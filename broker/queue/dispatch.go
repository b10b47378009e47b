package queue

import "slices"

// consumerGroup is the consumers of one x-priority, in registration order,
// with their own round-robin cursor.
type consumerGroup struct {
	priority int32
	cs       []*Consumer
	next     int // the index in cs to try first
}

// AddConsumer is basic.consume: it adds c and dispatches, so c may receive
// deliveries (through c.Sink) before AddConsumer returns. c.OnAdd, if set,
// runs first, in the same critical section.
//
// Exclusive consume (RabbitMQ docs, consumers.md#exclusive-consume): the
// call "succeeds only if there's no consumer already registered to the queue
// at that time", and while it exists no other consumer may join. So it fails
// with ErrExclusiveConsumer when an exclusive consumer exists, or when c is
// exclusive and other consumers exist; with ErrClosed after Delete. On a
// single-active-consumer queue an exclusive consumer is always refused
// (consumers.md#single-active-consumer; RabbitMQ answers 403 "in exclusive
// use"), and the first consumer registered becomes the active one,
// whatever the priorities of those that follow.
func (q *Queue) AddConsumer(c *Consumer) error {
	q.mu.Lock()
	defer q.unlock()
	if q.closed {
		return ErrClosed
	}
	if q.exclusive || (c.Exclusive && (len(q.consumers) > 0 || q.opts.SingleActiveConsumer)) {
		return ErrExclusiveConsumer
	}
	q.consumers = append(q.consumers, c)
	g := q.group(c.Priority)
	g.cs = append(g.cs, c)
	if c.Exclusive {
		q.exclusive = true
	}
	if q.opts.SingleActiveConsumer && q.active == nil {
		q.active = c
	}
	q.use()
	if c.OnAdd != nil {
		c.OnAdd()
	}
	q.dispatch()
	return nil
}

// group returns the group of priority p, creating it in its place (the
// groups are sorted by priority, highest first).
func (q *Queue) group(p int32) *consumerGroup {
	i, found := slices.BinarySearchFunc(q.groups, p, func(g consumerGroup, p int32) int {
		return int(int64(p) - int64(g.priority)) // descending
	})
	if !found {
		q.groups = slices.Insert(q.groups, i, consumerGroup{priority: p})
	}
	return &q.groups[i]
}

// RemoveConsumer is basic.cancel (or the consumer's channel closing). It
// reports whether c was a consumer of the queue and how many remain, which
// is what auto-delete needs. The consumer is identified by pointer, because
// consumer tags are unique per channel only: two channels may consume from
// one queue under the same tag. Its unacked entries stay with the broker,
// which requeues them.
//
// When c was the single active consumer, the next one becomes active and
// receives the ready messages before RemoveConsumer returns: the consumer
// of the highest x-priority, the earliest registered among equals, as
// RabbitMQ's rabbit_queue_consumers:get_consumer picks it (a RabbitMQ
// consumer that is blocked on prefetch at that moment is passed over; here
// credit is not looked at).
func (q *Queue) RemoveConsumer(c *Consumer) (removed bool, remaining int) {
	q.mu.Lock()
	defer q.unlock()
	i := slices.Index(q.consumers, c)
	if i < 0 {
		return false, len(q.consumers)
	}
	q.consumers = slices.Delete(q.consumers, i, i+1)
	q.ungroup(c)
	if c.Exclusive {
		q.exclusive = false
	}
	q.use()
	if c == q.active {
		q.active = q.nextActive()
		q.dispatch()
	}
	return true, len(q.consumers)
}

// ungroup removes c from its priority group.
func (q *Queue) ungroup(c *Consumer) {
	gi := slices.IndexFunc(q.groups, func(g consumerGroup) bool { return g.priority == c.Priority })
	if gi < 0 {
		return
	}
	g := &q.groups[gi]
	i := slices.Index(g.cs, c)
	if i < 0 {
		return
	}
	g.cs = slices.Delete(g.cs, i, i+1)
	if len(g.cs) == 0 {
		q.groups = slices.Delete(q.groups, gi, gi+1)
		return
	}
	// Keep the cursor on the consumer it pointed at, so that removing one
	// consumer does not make another skip its turn.
	if i < g.next {
		g.next--
	}
	if g.next >= len(g.cs) {
		g.next = 0
	}
}

// nextActive picks the next single active consumer: the highest priority,
// then the earliest registered.
func (q *Queue) nextActive() *Consumer {
	if len(q.groups) == 0 {
		return nil
	}
	return q.groups[0].cs[0]
}

// ActiveConsumer returns the single active consumer of a
// x-single-active-consumer queue (what RabbitMQ's management shows as
// "single active"), or nil for another queue or when there is none.
func (q *Queue) ActiveConsumer() *Consumer {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active
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
	defer q.unlock()
	q.dispatch()
}

// dispatch delivers ready entries while a consumer has credit, dropping
// expired heads on the way. Called with q.mu held.
func (q *Queue) dispatch() {
	for len(q.consumers) > 0 {
		plain := q.plain()
		if plain {
			if q.ready.n == 0 && !q.refill() {
				return
			}
		} else if q.liveHead() == nil {
			return
		}
		c := q.pick()
		if c == nil {
			return
		}
		var e *Entry
		if plain {
			e = q.pop()
		} else {
			e = q.popHead()
		}
		e.DeliveryCount++
		c.Sink.Deliver(q, c, e)
	}
}

// pick returns the consumer for the next delivery, with its credit already
// taken, or nil when none has credit.
//
// Consumer priorities (consumer-priority.md): the consumers of the highest
// x-priority receive while any of them has credit, round-robin among them;
// a lower priority receives only when every higher one is blocked. Within
// a priority the cursor moves past the consumer served, so that consumers
// take turns. On a single-active-consumer queue only the active consumer
// is asked, and a busy active consumer leaves messages ready: "the other
// consumers are ignored and messages are enqueued" (consumers.md).
//
// It may try every consumer for one delivery; with many consumers mostly out
// of credit, a list of consumers with credit would be cheaper.
func (q *Queue) pick() *Consumer {
	if q.opts.SingleActiveConsumer {
		if a := q.active; a != nil && a.acquire() {
			return a
		}
		return nil
	}
	for gi := range q.groups {
		g := &q.groups[gi]
		n := len(g.cs)
		for i := range n {
			idx := g.next + i
			if idx >= n {
				idx -= n
			}
			c := g.cs[idx]
			if c.acquire() {
				g.next = idx + 1
				if g.next == n {
					g.next = 0
				}
				return c
			}
		}
	}
	return nil
}
