package amqp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame layout (spec 4.2.3):
//
//	0      1         3             7                size+7 size+8
//	+------+---------+-------------+  +------------+  +-----------+
//	| type | channel |    size     |  |  payload   |  | frame-end |
//	+------+---------+-------------+  +------------+  +-----------+
//	 octet   short       long          size octets      0xCE
const (
	frameHeaderSize = 7
	// FrameOverhead is what a frame adds to its payload: frame_max counts
	// the whole frame, so a payload may be at most frame_max-8 bytes.
	FrameOverhead = frameHeaderSize + 1
)

// ProtocolHeader opens every AMQP 0-9-1 connection.
const ProtocolHeader = "AMQP\x00\x00\x09\x01"

// ErrProtocolHeader is returned by ReadProtocolHeader for any other header;
// the spec (4.2.2) says to answer with ours and close the socket.
var ErrProtocolHeader = errors.New("amqp: bad protocol header")

// ReadProtocolHeader reads the 8-byte header a client sends first.
func ReadProtocolHeader(r io.Reader) error {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return fmt.Errorf("read protocol header: %w", err)
	}
	// RabbitMQ also takes "AMQP 1 1 0 9", the header some 0-9 clients
	// send, as 0-9-1.
	if string(h[:]) != ProtocolHeader && string(h[:]) != protocolHeader09 {
		return fmt.Errorf("%w %q", ErrProtocolHeader, h[:])
	}
	return nil
}

const protocolHeader09 = "AMQP\x01\x01\x00\x09"

// Frame is one frame read off the wire.
type Frame struct {
	Type    uint8
	Channel uint16
	// Payload aliases the FrameReader's buffer: it is valid only until the
	// next call to ReadFrame. Copy it to keep it.
	Payload []byte
}

// FrameReader reads frames, refusing any larger than the negotiated
// frame_max before reading their payload.
type FrameReader struct {
	r        io.Reader
	frameMax uint32
	hdr      [frameHeaderSize]byte
	buf      []byte
}

// NewFrameReader reads from r (normally a bufio.Reader). Until SetFrameMax
// is called, frames are limited to frame-min-size, the limit that holds
// before connection.tune-ok (spec 4.2.3).
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: r, frameMax: FrameMinSize}
}

// SetFrameMax sets the largest accepted frame, header and end included.
// 0 means no limit other than the 32-bit size field.
func (fr *FrameReader) SetFrameMax(n uint32) { fr.frameMax = n }

// ReleaseBuffer drops a large payload buffer so that an idle connection
// does not pin a frame_max-sized allocation; a small one (method frames,
// small bodies) is kept, or an idle-then-busy connection would allocate
// one per read batch.
func (fr *FrameReader) ReleaseBuffer() {
	if cap(fr.buf) > keptPayloadBuffer {
		fr.buf = nil
	}
}

// keptPayloadBuffer is the largest payload buffer ReleaseBuffer keeps.
const keptPayloadBuffer = 1 << 10

// ReadFrame reads one frame. Errors that are the peer's fault are *Error
// with code 501 (FrameError); I/O errors are returned wrapped.
func (fr *FrameReader) ReadFrame() (Frame, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Type: fr.hdr[0], Channel: binary.BigEndian.Uint16(fr.hdr[1:])}
	size := binary.BigEndian.Uint32(fr.hdr[3:])
	// RabbitMQ compares the payload, not the whole frame, with frame_max:
	// a client that fills frames to frame_max exactly works with it, so
	// it must work here.
	if fr.frameMax != 0 && uint64(size) > uint64(fr.frameMax) {
		return f, NewError(FrameError, 0, 0, "type %d, all octets = <<>>: {frame_too_large,%d,%d}",
			f.Type, size, int64(fr.frameMax)-FrameOverhead)
	}
	buf, err := fr.readPayload(int(size) + 1)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return f, err
	}
	f.Payload = buf[:size:size]
	if buf[size] != FrameEnd {
		return f, NewError(FrameError, 0, 0, "%s: {invalid_frame_end_marker,%d}", FrameText(f.Type, f.Payload), buf[size])
	}
	switch f.Type {
	case FrameMethod, FrameHeader, FrameBody:
	case FrameHeartbeat:
		if size != 0 {
			return f, NewError(FrameError, 0, 0, "%s: unknown_frame", FrameText(f.Type, f.Payload))
		}
		if f.Channel != 0 {
			return f, NewError(UnexpectedFrame, 0, 0, "%s", FrameText(f.Type, f.Payload))
		}
	default:
		return f, NewError(FrameError, 0, 0, "%s: unknown_frame", FrameText(f.Type, f.Payload))
	}
	return f, nil
}

// growStep is the most ReadFrame allocates ahead of the bytes it has
// actually received.
const growStep = 1 << 20

// readPayload reads need bytes into fr.buf, growing it as needed. A frame
// within growStep is read in one go. A larger one (possible when frame_max
// is large or 0) grows the buffer with the data received, doubling each
// time, so that a 7-byte header claiming 4 GiB costs at most growStep
// before the peer has to send real bytes.
func (fr *FrameReader) readPayload(need int) ([]byte, error) {
	if need <= cap(fr.buf) {
		buf := fr.buf[:need]
		_, err := io.ReadFull(fr.r, buf)
		return buf, err
	}
	if need <= growStep {
		fr.buf = make([]byte, need)
		_, err := io.ReadFull(fr.r, fr.buf)
		return fr.buf, err
	}
	buf := fr.buf[:0]
	for len(buf) < need {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(need, max(2*cap(buf), growStep)))
			copy(nb, buf)
			buf = nb
			fr.buf = nb
		}
		n, err := io.ReadFull(fr.r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// beginFrame appends a frame header with a zero size and returns the
// offset of the size field for endFrame to patch.
func beginFrame(b []byte, typ uint8, ch uint16) ([]byte, int) {
	b = append(b, typ, byte(ch>>8), byte(ch), 0, 0, 0, 0)
	return b, len(b) - 4
}

func endFrame(b []byte, sizeAt int) []byte {
	binary.BigEndian.PutUint32(b[sizeAt:], uint32(len(b)-sizeAt-4))
	return append(b, FrameEnd)
}

// AppendMethodFrame appends a method frame for m on channel ch.
func AppendMethodFrame(b []byte, ch uint16, m Method) []byte {
	b, at := beginFrame(b, FrameMethod, ch)
	id := m.ID()
	b = appendlong(b, id) // class-id then method-id, both shorts
	b = m.Append(b)
	return endFrame(b, at)
}

// AppendHeaderFrame appends a content header frame. props holds encoded
// properties (flags word included), e.g. from AppendProperties or as
// received, so that a publisher's properties reach consumers unchanged.
func AppendHeaderFrame(b []byte, ch uint16, classID uint16, bodySize uint64, props []byte) []byte {
	b, at := beginFrame(b, FrameHeader, ch)
	b = appendshort(b, classID)
	b = appendshort(b, 0) // weight, unused (spec 4.2.6.1)
	b = appendlonglong(b, bodySize)
	b = append(b, props...)
	return endFrame(b, at)
}

// AppendBodyFrames appends body as content body frames no larger than
// frameMax (header and end included); an empty body needs no frame, and a
// frameMax of 0 means one frame. A frameMax too small for any payload (the
// spec forbids one below FrameMinSize) still gets one byte per frame
// rather than an endless run of empty frames.
func AppendBodyFrames(b []byte, ch uint16, body []byte, frameMax uint32) []byte {
	limit := len(body)
	if frameMax != 0 {
		limit = int(max(int64(frameMax)-FrameOverhead, 1))
	}
	for len(body) > 0 {
		n := min(len(body), limit)
		var at int
		b, at = beginFrame(b, FrameBody, ch)
		b = append(b, body[:n]...)
		b = endFrame(b, at)
		body = body[n:]
	}
	return b
}

// AppendHeartbeat appends a heartbeat frame.
func AppendHeartbeat(b []byte) []byte {
	return append(b, FrameHeartbeat, 0, 0, 0, 0, 0, 0, FrameEnd)
}

// ContentHeader is a decoded content header frame payload.
type ContentHeader struct {
	ClassID  uint16
	Weight   uint16
	BodySize uint64
	// Props is the encoded property flags and list. It aliases the frame
	// payload: valid only until the next ReadFrame.
	Props []byte
}

// DecodeContentHeader decodes a header frame payload. Properties are
// checked for well-formedness (502 otherwise) but left encoded, because a
// broker forwards them untouched and decodes them only when it must.
func DecodeContentHeader(payload []byte) (ContentHeader, error) {
	if len(payload) < 14 {
		return ContentHeader{}, NewError(FrameError, 0, 0, "%s: unknown_frame", FrameText(FrameHeader, payload))
	}
	h := ContentHeader{
		ClassID:  binary.BigEndian.Uint16(payload),
		Weight:   binary.BigEndian.Uint16(payload[2:]),
		BodySize: binary.BigEndian.Uint64(payload[4:]),
		Props:    payload[12:],
	}
	if err := ValidateProperties(h.Props); err != nil {
		return h, err
	}
	return h, nil
}

// ValidateProperties checks that props is a well-formed property list that
// ends exactly at the end of the frame. It does not allocate: decoding into
// a Properties would copy every string and build the headers table of every
// publish only to throw them away.
func ValidateProperties(props []byte) error {
	r := reader{b: props}
	skipProperties(&r)
	if r.err != nil {
		return r.err
	}
	if r.off != len(props) {
		return NewError(SyntaxError, 0, 0, "%d trailing bytes after content header properties", len(props)-r.off)
	}
	return nil
}

// MethodDecoder decodes method frame payloads into structs it reuses, one
// per method id, so that a steady stream of publishes decodes without
// allocating.
type MethodDecoder struct {
	cache map[uint32]Method
}

// Decode decodes a method frame payload. The returned Method is owned by
// the decoder and is overwritten by the next Decode of the same method:
// copy out what must outlive it (its strings may be kept; they are never
// mutated).
func (d *MethodDecoder) Decode(payload []byte) (Method, error) {
	if len(payload) < 4 {
		return nil, NewError(FrameError, 0, 0, "%s: unknown_frame", FrameText(FrameMethod, payload))
	}
	id := binary.BigEndian.Uint32(payload)
	m := d.cache[id]
	if m == nil {
		m = NewMethod(ClassOf(id), MethodOf(id))
		if m == nil {
			return nil, NewError(CommandInvalid, ClassOf(id), MethodOf(id),
				"unknown method: class %d, method %d", ClassOf(id), MethodOf(id))
		}
		if d.cache == nil {
			d.cache = make(map[uint32]Method)
		}
		d.cache[id] = m
	}
	if err := m.Decode(payload[4:]); err != nil {
		// RabbitMQ's words for arguments it cannot parse (truncated,
		// trailing bytes, a bad field table): 501 naming the method.
		return nil, &Error{Code: FrameError, ClassID: ClassOf(id), MethodID: MethodOf(id),
			Text: "FRAME_ERROR - cannot decode <<" + octets(payload[4:]) + ">>", Cause: err}
	}
	return m, nil
}

// DecodeMethod decodes a method frame payload into a new Method.
func DecodeMethod(payload []byte) (Method, error) {
	var d MethodDecoder
	return d.Decode(payload)
}
