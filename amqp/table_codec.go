package amqp

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Field table wire format (spec 4.2.5.5, RabbitMQ errata §3):
//
//	table = long-uint size, then size bytes of: shortstr name, octet type, value
//	array = long-uint size, then size bytes of: octet type, value

func (r *reader) table() Table {
	n := r.long()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("field table of %d bytes exceeds its frame", n)
		return nil
	}
	sub := reader{b: r.b[r.off : r.off+int(n)], depth: r.depth + 1}
	r.off += int(n)
	if sub.depth > maxNesting {
		r.fail("field tables nested deeper than %d", maxNesting)
		return nil
	}
	t := Table{}
	for sub.err == nil && sub.off < len(sub.b) {
		key := sub.shortstr("")
		v := sub.fieldValue()
		if sub.err == nil {
			t = append(t, Field{Key: key, Value: v})
		}
	}
	if sub.err != nil {
		r.err = sub.err
		return nil
	}
	return t
}

func (r *reader) array() []any {
	n := r.long()
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("field array of %d bytes exceeds its frame", n)
		return nil
	}
	sub := reader{b: r.b[r.off : r.off+int(n)], depth: r.depth + 1}
	r.off += int(n)
	if sub.depth > maxNesting {
		r.fail("field arrays nested deeper than %d", maxNesting)
		return nil
	}
	a := []any{}
	for sub.err == nil && sub.off < len(sub.b) {
		v := sub.fieldValue()
		if sub.err == nil {
			a = append(a, v)
		}
	}
	if sub.err != nil {
		r.err = sub.err
		return nil
	}
	return a
}

func (r *reader) fieldValue() any {
	typ := r.octet()
	if r.err != nil {
		return nil
	}
	switch typ {
	case 't':
		return r.octet() != 0
	case 'b':
		return int8(r.octet())
	case 'B':
		return r.octet()
	case 's':
		return int16(r.short())
	case 'u':
		return r.short()
	case 'I':
		return int32(r.long())
	case 'i':
		return r.long()
	case 'l':
		return int64(r.longlong())
	case 'f':
		return math.Float32frombits(r.long())
	case 'd':
		return math.Float64frombits(r.longlong())
	case 'D':
		scale := r.octet()
		return Decimal{Scale: scale, Value: int32(r.long())}
	case 'S':
		return r.longstr("")
	case 'x':
		n := r.long()
		if uint64(n) > uint64(len(r.b)) {
			r.fail("byte array of %d bytes exceeds its frame", n)
			return nil
		}
		raw := r.bytesN(int(n))
		if raw == nil {
			return nil
		}
		return append([]byte{}, raw...)
	case 'A':
		return r.array()
	case 'T':
		return r.timestamp()
	case 'F':
		return r.table()
	case 'V':
		return nil
	}
	r.fail("unknown field table type '%c' (0x%02x)", printable(typ), typ)
	return nil
}

// skiptable checks a field table as table does without building it. The
// two must accept exactly the same input (FuzzDecodeTable checks this).
func (r *reader) skiptable() { r.skipComposite(false) }

func (r *reader) skipComposite(array bool) {
	what := "table"
	if array {
		what = "array"
	}
	n := r.long()
	if r.err != nil {
		return
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail("field %s of %d bytes exceeds its frame", what, n)
		return
	}
	sub := reader{b: r.b[r.off : r.off+int(n)], depth: r.depth + 1}
	r.off += int(n)
	if sub.depth > maxNesting {
		r.fail("field %ss nested deeper than %d", what, maxNesting)
		return
	}
	for sub.err == nil && sub.off < len(sub.b) {
		if !array {
			sub.skipshortstr()
		}
		sub.skipFieldValue()
	}
	if sub.err != nil {
		r.err = sub.err
	}
}

func (r *reader) skipFieldValue() {
	typ := r.octet()
	if r.err != nil {
		return
	}
	switch typ {
	case 't', 'b', 'B':
		r.skipoctet()
	case 's', 'u':
		r.skipshort()
	case 'I', 'i', 'f':
		r.skiplong()
	case 'l', 'd', 'T':
		r.skiplonglong()
	case 'D':
		r.bytesN(5)
	case 'S', 'x':
		r.skiplongstr()
	case 'A':
		r.skipComposite(true)
	case 'F':
		r.skipComposite(false)
	case 'V':
	default:
		r.fail("unknown field table type '%c' (0x%02x)", printable(typ), typ)
	}
}

func printable(c byte) byte {
	if c < 0x20 || c > 0x7e {
		return '?'
	}
	return c
}

// DecodeTable decodes a field table including its size prefix, as found in
// method arguments. It returns the number of bytes read.
func DecodeTable(b []byte) (Table, int, error) {
	r := reader{b: b}
	t := r.table()
	return t, r.off, r.err
}

// appendtable appends t with its size prefix. It panics on a value type
// that has no AMQP encoding: tables that came off the wire never hold one,
// so only a programming error in the broker can produce it.
func appendtable(b []byte, t Table) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for _, f := range t {
		b = appendshortstr(b, f.Key)
		b = appendFieldValue(b, f.Value)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// AppendTable is appendtable for callers outside the generated code.
func AppendTable(b []byte, t Table) []byte { return appendtable(b, t) }

func appendArray(b []byte, a []any) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for _, v := range a {
		b = appendFieldValue(b, v)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

func appendFieldValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case bool:
		if v {
			return append(b, 't', 1)
		}
		return append(b, 't', 0)
	case int8:
		return append(b, 'b', byte(v))
	case uint8:
		return append(b, 'B', v)
	case int16:
		return appendshort(append(b, 's'), uint16(v))
	case uint16:
		return appendshort(append(b, 'u'), v)
	case int32:
		return appendlong(append(b, 'I'), uint32(v))
	case uint32:
		return appendlong(append(b, 'i'), v)
	case int64:
		return appendlonglong(append(b, 'l'), uint64(v))
	case int:
		return appendlonglong(append(b, 'l'), uint64(v))
	case float32:
		return appendlong(append(b, 'f'), math.Float32bits(v))
	case float64:
		return appendlonglong(append(b, 'd'), math.Float64bits(v))
	case Decimal:
		return appendlong(append(b, 'D', v.Scale), uint32(v.Value))
	case string:
		return appendlongstr(append(b, 'S'), v)
	case []byte:
		b = appendlong(append(b, 'x'), uint32(len(v)))
		return append(b, v...)
	case []any:
		return appendArray(append(b, 'A'), v)
	case time.Time:
		return appendtimestamp(append(b, 'T'), v)
	case Table:
		return appendtable(append(b, 'F'), v)
	case nil:
		return append(b, 'V')
	}
	panic(fmt.Sprintf("amqp: no field table encoding for %T", v))
}

// ValidateValue reports whether v (recursively) has an AMQP encoding.
func ValidateValue(v any) error {
	switch v := v.(type) {
	case bool, int8, uint8, int16, uint16, int32, uint32, int64, int, float32, float64,
		Decimal, string, []byte, time.Time, nil:
		return nil
	case []any:
		for _, e := range v {
			if err := ValidateValue(e); err != nil {
				return err
			}
		}
		return nil
	case Table:
		for _, f := range v {
			if err := ValidateValue(f.Value); err != nil {
				return fmt.Errorf("field %q: %w", f.Key, err)
			}
		}
		return nil
	}
	return fmt.Errorf("amqp: no field table encoding for %T", v)
}
