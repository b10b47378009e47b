// Package queue is one AMQP queue: the ready messages in order, requeue at
// their original position, and consumers served round-robin under prefetch
// credit.
//
// # Ownership
//
// A Queue is a passive data structure guarded by one mutex. It has no
// goroutine: every method is synchronous, and the code that changed the state
// (a publish, an ack that freed credit, a raised basic.qos) "kicks" dispatch
// by calling the method, in the style of nats' inline delivery. Tests
// therefore need no sleeps.
//
// The queue never writes to a socket and never calls the store. It hands
// deliveries to a Sink, which the broker implements: the Sink assigns the
// delivery tag, records the unacked entry on its channel and appends frames
// to the connection's outbound buffer, all without blocking.
//
// # Lock order
//
//	queue.mu → channel.mu → conn.outMu
//
// Sink.Deliver runs with queue.mu held, so that every consumer sees the
// queue's order. A path holding a later lock (an ack on a channel) releases
// it before it calls into a Queue. Limiter is lock-free because a channel's
// limiter (global basic.qos) is shared by queues that may dispatch at the
// same time.
//
// # Messages and entries
//
// A Message is immutable and shared by every queue it is routed to; each
// queue wraps it in its own Entry (share the body, copy the envelope, as nsq
// does). Entry.Seq orders the queue: the ready list (each priority's list,
// in a priority queue) is always sorted by Seq, which is what lets Requeue
// put entries back at their original positions.
//
// # RabbitMQ's extensions
//
// The queue implements the queue-level parts; the broker parses the
// x-arguments, runs the timers and dead-letters:
//
//   - TTL (Options.MessageTTL, Message.ExpiresAt): an entry's deadline is
//     fixed when it enters the queue and kept across requeues. Expired
//     entries are dropped only at the head, as RabbitMQ does, and never
//     delivered: on delivery, Get, publish, requeue, and when the broker's
//     one timer per queue (armed through OnNextExpiry, or NextExpiry)
//     calls ExpireHead.
//   - x-expires (Options.Expires): Touch, Unused, ExpiresAt and
//     DeleteExpired let the broker delete a queue unused for too long.
//   - Length limits (Options.Limits): drop-head, reject-publish and
//     reject-publish-dlx.
//   - Dead-lettering: entries dropped by expiry or by a length limit are
//     handed to OnDeadLetter after the lock is released, with their Reason.
//   - Priority queues (Options.MaxPriority): one Seq-ordered list per
//     priority, the highest non-empty one first; they do not page.
//   - Consumer priorities (Consumer.Priority) and single active consumer
//     (Options.SingleActiveConsumer) choose the consumer in pick.
//
// All time comes from Options.Now, so tests drive expiry by hand.
package queue
