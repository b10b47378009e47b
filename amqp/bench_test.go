package amqp_test

import (
	"bufio"
	"fmt"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// repeatReader serves the same bytes forever, so a benchmark reads a
// steady stream with no I/O.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

// headerTable is a typical 10-entry headers table.
func headerTable() amqp.Table {
	return amqp.Table{
		{Key: "x-trace-id", Value: "4bf92f3577b34da6a3ce929d0e0e4736"},
		{Key: "x-retry-count", Value: int32(3)},
		{Key: "x-first-seen", Value: time.Unix(1700000000, 0)},
		{Key: "x-priority-boost", Value: true},
		{Key: "x-tenant", Value: "acme"},
		{Key: "x-size", Value: int64(1 << 20)},
		{Key: "x-ratio", Value: 0.25},
		{Key: "x-tags", Value: []any{"a", "b", "c"}},
		{Key: "x-origin", Value: amqp.Table{{Key: "host", Value: "web-1"}, {Key: "pid", Value: int32(4242)}}},
		{Key: "x-checksum", Value: []byte{0xde, 0xad, 0xbe, 0xef}},
	}
}

func benchProperties() []byte {
	p := amqp.Properties{
		ContentType:  "application/json",
		Headers:      headerTable(),
		DeliveryMode: 2,
		MessageID:    "msg-0001",
		Timestamp:    time.Unix(1700000000, 0),
		AppID:        "bench",
		Flags:        amqp.FlagContentType | amqp.FlagHeaders | amqp.FlagDeliveryMode | amqp.FlagMessageID | amqp.FlagTimestamp | amqp.FlagAppID,
	}
	return amqp.AppendProperties(nil, &p)
}

var benchSizes = []int{64, 1 << 10, 64 << 10}

func sizeName(n int) string {
	switch {
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("body=%dKB", n>>10)
	default:
		return fmt.Sprintf("body=%dB", n)
	}
}

// BenchmarkReadPublish reads basic.publish + content header + body frames
// the way a connection's reader does: FrameReader over a bufio.Reader,
// MethodDecoder, DecodeContentHeader (which validates the properties and
// leaves them raw), and the body appended to a buffer.
func BenchmarkReadPublish(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			const frameMax = 131072
			var stream []byte
			stream = amqp.AppendMethodFrame(stream, 1, &amqp.BasicPublish{Exchange: "amq.topic", RoutingKey: "orders.eu.created"})
			stream = amqp.AppendHeaderFrame(stream, 1, amqp.ClassBasic, uint64(size), benchProperties())
			stream = amqp.AppendBodyFrames(stream, 1, make([]byte, size), frameMax)

			fr := amqp.NewFrameReader(bufio.NewReaderSize(&repeatReader{b: stream}, 64<<10))
			fr.SetFrameMax(frameMax)
			var dec amqp.MethodDecoder
			body := make([]byte, 0, size)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := fr.ReadFrame()
				if err != nil {
					b.Fatal(err)
				}
				m, err := dec.Decode(f.Payload)
				if err != nil {
					b.Fatal(err)
				}
				if m.(*amqp.BasicPublish).RoutingKey == "" {
					b.Fatal("no routing key")
				}
				if f, err = fr.ReadFrame(); err != nil {
					b.Fatal(err)
				}
				h, err := amqp.DecodeContentHeader(f.Payload)
				if err != nil {
					b.Fatal(err)
				}
				body = body[:0]
				for uint64(len(body)) < h.BodySize {
					if f, err = fr.ReadFrame(); err != nil {
						b.Fatal(err)
					}
					body = append(body, f.Payload...)
				}
			}
		})
	}
}

// BenchmarkWriteDeliver writes basic.deliver + content header + body
// frames into a reused buffer, from a reused *BasicDeliver and the raw
// properties as the publisher sent them.
func BenchmarkWriteDeliver(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			const frameMax = 131072
			props := benchProperties()
			body := make([]byte, size)
			m := &amqp.BasicDeliver{ConsumerTag: "amq.ctag-3kmQZrB0fa7rKzzNBA2Jtw", Exchange: "amq.topic", RoutingKey: "orders.eu.created"}
			buf := make([]byte, 0, size+1024) // the connection's outbound buffer, already grown
			b.ReportAllocs()
			for b.Loop() {
				m.DeliveryTag++
				buf = amqp.AppendMethodFrame(buf[:0], 1, m)
				buf = amqp.AppendHeaderFrame(buf, 1, amqp.ClassBasic, uint64(len(body)), props)
				buf = amqp.AppendBodyFrames(buf, 1, body, frameMax)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkDecodeHeaderTable decodes a 10-entry headers table into an
// amqp.Table (what a headers exchange or x-death handling needs).
func BenchmarkDecodeHeaderTable(b *testing.B) {
	raw := amqp.AppendTable(nil, headerTable())
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := amqp.DecodeTable(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateProperties is the per-publish check of raw properties
// (with a 10-entry headers table) that DecodeContentHeader makes.
func BenchmarkValidateProperties(b *testing.B) {
	raw := benchProperties()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := amqp.ValidateProperties(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendTable encodes the same 10-entry table into a reused buffer.
func BenchmarkAppendTable(b *testing.B) {
	t := headerTable()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = amqp.AppendTable(buf[:0], t)
	}
	b.SetBytes(int64(len(buf)))
}
