package exchange

import "github.com/warrenmq/warren/amqp"

// Exchange type names, as a client declares them in exchange.declare.
const (
	KindDirect  = "direct"
	KindFanout  = "fanout"
	KindTopic   = "topic"
	KindHeaders = "headers"
)

// Binding is one binding of an exchange to a destination D (a queue or
// another exchange; the broker decides). RabbitMQ identifies a binding by
// (destination, routing key, arguments): the same key and destination with
// different arguments are two bindings.
type Binding[D comparable] struct {
	// Key is the binding key: an exact key for direct, a pattern for
	// topic, ignored by fanout and headers (but still part of the
	// binding's identity).
	Key string
	// Dest is where matching messages go.
	Dest D
	// Args are the binding arguments: the match specification of a
	// headers binding, and part of the identity of every binding.
	Args amqp.Table
}

// Router routes a message to the destinations of one exchange.
type Router[D comparable] interface {
	// Bind adds b; it reports false if an equal binding (Dest, Key, Args
	// equal, args compared as RabbitMQ does: order-insensitive by key, by
	// type and value) already exists. The router keeps a deep copy of
	// b.Args, because decoded tables may alias a frame buffer.
	Bind(b Binding[D]) bool
	// Unbind removes b; false if no equal binding existed.
	Unbind(b Binding[D]) bool
	// UnbindDest removes every binding to d (queue or exchange deleted)
	// and returns how many there were.
	UnbindDest(d D) int
	// Route appends the destinations of a message to dst, each at most
	// once, and returns it. Entries already in dst are not looked at.
	// headers is only read by the headers exchange (the others ignore it;
	// it may be nil) and is not retained. Route does not allocate in the
	// steady state when dst has room (direct, fanout, and topic on a
	// cache hit).
	Route(key string, headers amqp.Table, dst []D) []D
	// Bindings lists all bindings, in no particular order, for listing,
	// persistence and equality checks. Args are the router's sorted
	// copies and must not be modified.
	Bindings() []Binding[D]
	// Len is the number of bindings.
	Len() int
	// HasDest reports whether any binding targets d.
	HasDest(d D) bool
}

// Compile-time checks that every exchange type is a Router.
var (
	_ Router[int] = (*Direct[int])(nil)
	_ Router[int] = (*Fanout[int])(nil)
	_ Router[int] = (*Topic[int])(nil)
	_ Router[int] = (*Headers[int])(nil)
	_ Router[int] = (*ConsistentHash[int])(nil)
)

// New returns an empty router for an exchange type: "direct", "fanout",
// "topic" or "headers". ok is false for an unknown type, which the broker
// answers with 503 COMMAND_INVALID, as RabbitMQ does. "x-consistent-hash"
// depends on its exchange arguments and on destination names, so New
// does not make it: use NewConsistentHash.
func New[D comparable](kind string) (r Router[D], ok bool) {
	switch kind {
	case KindDirect:
		return new(Direct[D]), true
	case KindFanout:
		return new(Fanout[D]), true
	case KindTopic:
		return new(Topic[D]), true
	case KindHeaders:
		return new(Headers[D]), true
	}
	return nil, false
}
