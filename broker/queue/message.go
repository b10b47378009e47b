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
	// Priority is the priority property (0-9 in practice). Stored for
	// priority queues, which are later work; dispatch ignores it today.
	Priority uint8

	// hook: Expiration (per-message TTL) and the publish timestamp go here
	// with the TTL work.
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
	// Stored is set on entries read back from the store-only tail: their
	// stored copy must be deleted when they are settled, even if the
	// message is transient.
	Stored bool
	// DeliveryCount counts the times the entry was handed to a consumer or
	// returned by Get (the basis of x-delivery-count on quorum queues, and
	// of a poison-message limit later).
	DeliveryCount uint32
}
