package queue

// Sink receives a consumer's deliveries. The broker implements it on its
// channel.
//
// Deliver is called with the queue's lock held, so that a consumer sees
// deliveries in the queue's order. It must not block and must not call back
// into the Queue (that would deadlock). The broker's implementation assigns
// a delivery tag, records the unacked entry and appends the frames to the
// connection's outbound buffer. Lock order: queue.mu → channel.mu →
// conn.outMu.
//
// The entry now belongs to the consumer: it is no longer ready, and it comes
// back only through Requeue (nack, reject, recover, or a closed channel).
type Sink interface {
	Deliver(q *Queue, c *Consumer, e *Entry)
}

// Via returns the via argument of the OfferWith whose delivery is being
// made, or nil when the delivery comes from anything else (an ack, a new
// consumer, a timer). It may only be called from Sink.Deliver. The broker
// passes the publishing connection, whose reader then writes the delivery
// out at the end of its read batch instead of waking another goroutine.
func (q *Queue) Via() any { return q.via }

// Consumer is one basic.consume on a queue. The broker fills it in before
// AddConsumer and must not change it afterwards: the queue reads it under
// its own lock, not the broker's.
type Consumer struct {
	// Tag is the consumer tag. Tags are unique per channel, not per queue,
	// so the queue identifies consumers by pointer, never by tag.
	Tag string
	// NoAck consumers take no credit: RabbitMQ ignores prefetch for them,
	// because their deliveries are acknowledged on sending.
	NoAck bool
	// Exclusive is basic.consume's exclusive flag: no other consumer may
	// share the queue while it exists.
	Exclusive bool
	// Priority is the x-priority argument (default 0, may be negative):
	// consumers of a higher priority receive first (see Queue.pick).
	Priority int32
	// Limits are the limiters that must all grant credit for a delivery:
	// the per-consumer basic.qos limiter and/or the channel-wide one
	// (global=true). Nil or empty means unlimited.
	Limits []*Limiter
	// Sink receives the deliveries.
	Sink Sink
	// OnAdd, if set, is called once AddConsumer has accepted the consumer
	// and before its first delivery, with the queue's lock held and under
	// the same rules as Sink.Deliver.
	//
	// This is where the broker appends basic.consume-ok to the outbound
	// buffer. RabbitMQ sends consume-ok before any basic.deliver for the
	// consumer, and clients rely on it: one that left the tag to the server
	// learns it only from consume-ok. Appending consume-ok before
	// AddConsumer would be wrong when AddConsumer refuses; appending it
	// afterwards would let a delivery (made inside AddConsumer, or by a
	// concurrent Publish) overtake it.
	OnAdd func()
	// Owner is opaque to the queue: the broker's channel, so that the broker
	// can find its way back from a consumer that Close returned.
	Owner any
}

// acquire takes one unit of credit from every limiter, or none at all: if a
// later limiter refuses, the units already taken are given back.
func (c *Consumer) acquire() bool {
	if c.NoAck {
		return true
	}
	for i, l := range c.Limits {
		if !l.TryAcquire() {
			for _, taken := range c.Limits[:i] {
				taken.Release(1)
			}
			return false
		}
	}
	return true
}
