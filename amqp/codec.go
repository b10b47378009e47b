package amqp

import (
	"encoding/binary"
	"time"
)

// reader is a cursor over one frame's payload. The first error sticks and
// every later read returns a zero value, so generated decoders need no
// error check per field. Bounds are checked against the payload before
// anything is allocated: a length prefix can never make us allocate more
// than the frame holds.
type reader struct {
	b     []byte
	off   int
	err   error
	depth int // nesting of tables/arrays, bounded against stack exhaustion
}

// maxNesting bounds nested tables and arrays. RabbitMQ has no explicit
// limit, but no real header needs more and a frame of nested 'F' bytes
// must not recurse a hundred thousand levels.
const maxNesting = 64

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = NewError(SyntaxError, 0, 0, format, args...)
	}
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("truncated field at offset %d: need %d bytes, have %d", r.off, n, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *reader) octet() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) short() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) long() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) longlong() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) timestamp() time.Time { return time.Unix(int64(r.longlong()), 0) }

// bytesN returns the next n bytes, aliasing the payload.
func (r *reader) bytesN(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

// str copies raw into a string unless it equals old: comparing string(raw)
// with a string does not allocate, so a reused struct keeps its strings.
func str(raw []byte, old string) string {
	if string(raw) == old {
		return old
	}
	return string(raw)
}

func (r *reader) shortstr(old string) string {
	n := int(r.octet())
	return str(r.bytesN(n), old)
}

func (r *reader) longstr(old string) string {
	n := r.long()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("long string of %d bytes exceeds its frame", n)
		return ""
	}
	return str(r.bytesN(int(n)), old)
}

// The skip functions read a field as its decoder does, with the same
// checks, but keep nothing and so never allocate. They validate property
// lists (skipProperties) that the broker forwards without decoding.
func (r *reader) skipoctet()     { r.bytesN(1) }
func (r *reader) skipshort()     { r.bytesN(2) }
func (r *reader) skiplong()      { r.bytesN(4) }
func (r *reader) skiplonglong()  { r.bytesN(8) }
func (r *reader) skiptimestamp() { r.bytesN(8) }
func (r *reader) skipshortstr()  { r.bytesN(int(r.octet())) }

func (r *reader) skiplongstr() {
	n := r.long()
	if uint64(n) > uint64(len(r.b)) {
		r.fail("long string of %d bytes exceeds its frame", n)
		return
	}
	r.bytesN(int(n))
}

// finish reports the first error, or trailing bytes, which RabbitMQ's
// decoder also refuses.
func (r *reader) finish() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d unexpected trailing bytes in method arguments", len(r.b)-r.off)
	}
	return r.err
}

func appendoctet(b []byte, v uint8) []byte     { return append(b, v) }
func appendshort(b []byte, v uint16) []byte    { return binary.BigEndian.AppendUint16(b, v) }
func appendlong(b []byte, v uint32) []byte     { return binary.BigEndian.AppendUint32(b, v) }
func appendlonglong(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func appendtimestamp(b []byte, t time.Time) []byte {
	return appendlonglong(b, uint64(t.Unix()))
}

// appendshortstr truncates strings longer than 255 bytes: the encoding has
// no room for them, and RabbitMQ truncates long reply texts the same way.
func appendshortstr(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func appendlongstr(b []byte, s string) []byte {
	b = appendlong(b, uint32(len(s)))
	return append(b, s...)
}
