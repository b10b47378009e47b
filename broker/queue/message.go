package queue

// Message is one published message. It is immutable once published and is
// shared, not copied, by every queue it is routed to; per-queue state lives
// in Entry.
type Message struct {
	// Exchange and RoutingKey are what basic.deliver and basic.get-ok report.
	Exchange   string
	RoutingKey string
	// Props holds the raw encoded content-header properties (property flags
	// followed by the property list). They are forwarded byte-for-byte, so a
	// headers table is never decoded and re-encoded on the way through.
	Props []byte
	// Body is allocated once, at the size the content header declared.
	Body []byte
	// Persistent is delivery-mode 2; the broker stores it when the queue is
	// durable.
	Persistent bool
	// Priority is the priority property; 0 when the property is absent,
	// as RabbitMQ treats it. Only a priority queue (Options.MaxPriority)
	// looks at it; one above the queue's maximum counts as the maximum.
	Priority uint8
	// ExpiresAt is the per-message deadline from the expiration property,
	// in Unix nanoseconds; 0 means none. The broker computes it once at
	// publish (arrival + expiration milliseconds) and stores it with the
	// message, so that a restored or paged-in message keeps its deadline.
	ExpiresAt int64
	// ArrivedAt is when the broker received the message, in Unix
	// nanoseconds, the instant from which a queue's x-message-ttl counts.
	// 0 means unknown: the queue then uses its own clock when the message
	// enters it (or, for a paged tail, when it is read back). Store it with
	// the message, as ExpiresAt.
	ArrivedAt int64
}

// Size is the body length: what the queue's byte count (and later the
// x-max-length-bytes limit) measures. Properties are not counted, as in
// RabbitMQ.
func (m *Message) Size() int { return len(m.Body) }

// Entry is a message's envelope in one queue. Copying the envelope rather
// than the message lets one body sit in many queues, each with its own
// position and redelivery state.
//
// Msg and Seq never change after Publish returns the entry, so they may be
// read without the queue's lock. Redelivered and DeliveryCount are written
// by the queue under its lock: read them in Sink.Deliver, or after Get, and
// not while the entry is ready in the queue.
type Entry struct {
	Msg *Message
	// Seq is the position in this queue, assigned by Publish and strictly
	// increasing from 1. It is also the key of a durable message in the
	// store, and Requeue uses it to put the entry back where it was.
	Seq uint64
	// Redelivered is set by Requeue: basic.deliver's redelivered flag.
	Redelivered bool
	// DeliveryCount counts the times the entry was handed to a consumer or
	// returned by Get (the basis of x-delivery-count on quorum queues, and
	// of a poison-message limit later).
	DeliveryCount uint32
	// ExpiresAt is when the entry expires in this queue, in Unix
	// nanoseconds; 0 means never. It is min(Msg.ExpiresAt, arrival +
	// x-message-ttl), fixed when the entry enters the queue: a requeued
	// entry keeps its original deadline, as in RabbitMQ. Like Seq it is
	// written once and may be read without the lock.
	ExpiresAt int64
}
