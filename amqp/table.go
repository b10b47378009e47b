package amqp

// Table is an AMQP field table. It is an ordered list rather than a map so
// that a table decoded from the wire re-encodes to the same bytes: a header
// table a publisher sends reaches consumers byte-identical, key order and
// duplicate keys included.
//
// Values use RabbitMQ's field types (see the errata of the 0-9-1 spec):
//
//	't' bool        'b' int8     'B' uint8    's' int16   'u' uint16
//	'I' int32       'i' uint32   'l' int64    'f' float32 'd' float64
//	'D' Decimal     'S' string   'x' []byte   'A' []any   'T' time.Time
//	'F' Table       'V' nil
//
// On encode, int is written as 'l' and uint32 as 'i'; any other Go type is
// an error.
type Table []Field

// Field is one key/value pair of a Table.
type Field struct {
	Key   string
	Value any
}

// Decimal is the AMQP decimal-value: Value × 10^-Scale.
type Decimal struct {
	Scale uint8
	Value int32
}

// Get returns the value of the first field named key.
func (t Table) Get(key string) (any, bool) {
	for i := range t {
		if t[i].Key == key {
			return t[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether a field named key exists.
func (t Table) Has(key string) bool {
	_, ok := t.Get(key)
	return ok
}

// Set replaces the first field named key, or appends one.
func (t Table) Set(key string, v any) Table {
	for i := range t {
		if t[i].Key == key {
			t[i].Value = v
			return t
		}
	}
	return append(t, Field{Key: key, Value: v})
}

// Delete removes every field named key.
func (t Table) Delete(key string) Table {
	out := t[:0]
	for _, f := range t {
		if f.Key != key {
			out = append(out, f)
		}
	}
	return out
}
