package amqp

// Method is one AMQP method's arguments. The generated types in
// spec_gen.go implement it.
type Method interface {
	// ID is class-id<<16 | method-id; compare with the Method* constants.
	ID() uint32
	// Name is "class.method", e.g. "basic.publish".
	Name() string
	// HasContent reports whether a content header and body follow.
	HasContent() bool
	// Synchronous reports whether the method expects a reply.
	Synchronous() bool
	// Append appends the arguments (not the class/method ids) to b.
	Append(b []byte) []byte
	// Decode reads the arguments from b, which must hold exactly them.
	Decode(b []byte) error
}

// ClassOf and MethodOf split a method id.
func ClassOf(id uint32) uint16  { return uint16(id >> 16) }
func MethodOf(id uint32) uint16 { return uint16(id) }
