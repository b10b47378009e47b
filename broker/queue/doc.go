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
// does). Entry.Seq orders the queue: the ready list is always sorted by Seq,
// which is what lets Requeue put entries back at their original positions.
//
// # Not yet here
//
// Per-message and per-queue TTL, length limits (x-max-length, overflow
// policies), priority queues, single-active-consumer, consumer priorities and
// paging bodies out to the store are later work. The places they plug in are
// marked "hook:" in the code: push/pop of the ready list (TTL, length limits,
// paging) and the consumer pick in dispatch (priorities).
package queue
