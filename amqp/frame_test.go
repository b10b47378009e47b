package amqp_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/warrenmq/warren/amqp"
)

// rawFrame builds a frame by hand, so the tests do not trust the Append
// functions they check.
func rawFrame(typ byte, ch uint16, payload []byte) []byte {
	return be(typ, ch, uint32(len(payload)), payload, byte(0xce))
}

// readAll reads frames until an error, copying payloads.
func readAll(fr *amqp.FrameReader) ([]amqp.Frame, error) {
	var fs []amqp.Frame
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return fs, err
		}
		f.Payload = bytes.Clone(f.Payload)
		fs = append(fs, f)
	}
}

// readers returns the ways a stream can arrive: whole, a byte at a time,
// in halves, and with the data and io.EOF in the same Read.
func readers(b []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    bytes.NewReader(b),
		"one-byte": iotest.OneByteReader(bytes.NewReader(b)),
		"half":     iotest.HalfReader(bytes.NewReader(b)),
		"data-err": iotest.DataErrReader(bytes.NewReader(b)),
	}
}

func TestFrameRoundTrip(t *testing.T) {
	props := sampleProperties()
	rawProps := amqp.AppendProperties(nil, &props)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes
	deliver := &amqp.BasicDeliver{ConsumerTag: "ctag", DeliveryTag: 42, Redelivered: true, Exchange: "x", RoutingKey: "rk"}

	var stream []byte
	stream = amqp.AppendMethodFrame(stream, 3, deliver)
	stream = amqp.AppendHeaderFrame(stream, 3, amqp.ClassBasic, uint64(len(body)), rawProps)
	stream = amqp.AppendBodyFrames(stream, 3, body, amqp.FrameMinSize)
	stream = amqp.AppendHeartbeat(stream)

	// The encoders agree with hand-built frames.
	want := rawFrame(amqp.FrameMethod, 3, methodPayload(deliver))
	want = append(want, rawFrame(amqp.FrameHeader, 3, be(uint16(60), uint16(0), uint64(len(body)), rawProps))...)
	for rest := body; len(rest) > 0; {
		n := min(len(rest), amqp.FrameMinSize-amqp.FrameOverhead)
		want = append(want, rawFrame(amqp.FrameBody, 3, rest[:n])...)
		rest = rest[n:]
	}
	want = append(want, rawFrame(amqp.FrameHeartbeat, 0, nil)...)
	if !bytes.Equal(stream, want) {
		t.Fatal("Append*Frame output differs from the hand-built frames")
	}

	for name, r := range readers(stream) {
		t.Run(name, func(t *testing.T) {
			fr := amqp.NewFrameReader(r)
			fs, err := readAll(fr)
			if err != io.EOF {
				t.Fatalf("stream ended with %v, want io.EOF", err)
			}
			if len(fs) != 1+1+4+1 {
				t.Fatalf("%d frames, want 7", len(fs))
			}
			m, err := amqp.DecodeMethod(fs[0].Payload)
			if err != nil || !same(m, deliver) || fs[0].Channel != 3 {
				t.Fatalf("method frame: %+v, %v", m, err)
			}
			h, err := amqp.DecodeContentHeader(fs[1].Payload)
			if err != nil {
				t.Fatal(err)
			}
			if h.ClassID != amqp.ClassBasic || h.Weight != 0 || h.BodySize != uint64(len(body)) || !bytes.Equal(h.Props, rawProps) {
				t.Fatalf("content header %+v", h)
			}
			var got []byte
			for _, f := range fs[2:6] {
				if f.Type != amqp.FrameBody || f.Channel != 3 || len(f.Payload)+amqp.FrameOverhead > amqp.FrameMinSize {
					t.Fatalf("body frame type %d channel %d size %d", f.Type, f.Channel, len(f.Payload))
				}
				got = append(got, f.Payload...)
			}
			if !bytes.Equal(got, body) {
				t.Fatal("reassembled body differs")
			}
			if f := fs[6]; f.Type != amqp.FrameHeartbeat || f.Channel != 0 || len(f.Payload) != 0 {
				t.Fatalf("heartbeat frame %+v", f)
			}
		})
	}
}

func TestAppendBodyFrames(t *testing.T) {
	body := []byte(strings.Repeat("x", 10000))
	for _, tc := range []struct {
		frameMax uint32
		frames   int
	}{
		{0, 1},                 // no limit
		{amqp.FrameMinSize, 3}, // 4088 + 4088 + 1824
		{10008, 1},             // exactly fits
		{10007, 2},
		{9, 10000}, // one byte per frame
		{8, 10000}, // no room at all: still one byte per frame, and it ends
		{1, 10000},
	} {
		b := amqp.AppendBodyFrames([]byte("keep"), 1, body, tc.frameMax)
		if string(b[:4]) != "keep" {
			t.Fatal("AppendBodyFrames overwrote its dst")
		}
		fr := amqp.NewFrameReader(bytes.NewReader(b[4:]))
		fr.SetFrameMax(0)
		fs, err := readAll(fr)
		if err != io.EOF || len(fs) != tc.frames {
			t.Fatalf("frameMax %d: %d frames (%v), want %d", tc.frameMax, len(fs), err, tc.frames)
		}
		var got []byte
		for _, f := range fs {
			if tc.frameMax > amqp.FrameOverhead && uint32(len(f.Payload)+amqp.FrameOverhead) > tc.frameMax {
				t.Fatalf("frameMax %d: frame of %d bytes", tc.frameMax, len(f.Payload)+amqp.FrameOverhead)
			}
			got = append(got, f.Payload...)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("frameMax %d: body differs", tc.frameMax)
		}
	}
	if b := amqp.AppendBodyFrames(nil, 1, nil, amqp.FrameMinSize); len(b) != 0 {
		t.Fatal("an empty body needs no frame")
	}
}

func TestAppendNoAlloc(t *testing.T) {
	props := sampleProperties()
	rawProps := amqp.AppendProperties(nil, &props)
	body := make([]byte, 10000)
	m := &amqp.BasicDeliver{ConsumerTag: "ctag", Exchange: "x", RoutingKey: "rk"}
	buf := make([]byte, 0, 64<<10)
	if a := testing.AllocsPerRun(100, func() {
		m.DeliveryTag++
		buf = amqp.AppendMethodFrame(buf[:0], 1, m)
		buf = amqp.AppendHeaderFrame(buf, 1, amqp.ClassBasic, uint64(len(body)), rawProps)
		buf = amqp.AppendBodyFrames(buf, 1, body, amqp.FrameMinSize)
		buf = amqp.AppendHeartbeat(buf)
		buf = amqp.AppendProperties(buf, &props)
	}); a != 0 {
		t.Errorf("%v allocs per deliver into a large enough buffer, want 0", a)
	}
}

func TestReadFrameErrors(t *testing.T) {
	ok := rawFrame(amqp.FrameMethod, 1, methodPayload(&amqp.ChannelOpen{}))
	cases := map[string]struct {
		in       []byte
		frameMax uint32 // 0: leave the default (FrameMinSize)
		code     uint16 // 0: not an *amqp.Error
		err      error
		frames   int
	}{
		"clean EOF":            {in: ok, frames: 1, err: io.EOF},
		"EOF in header":        {in: append(bytes.Clone(ok), 1, 0), frames: 1, err: io.ErrUnexpectedEOF},
		"EOF in payload":       {in: ok[:len(ok)-3], err: io.ErrUnexpectedEOF},
		"EOF before frame end": {in: ok[:len(ok)-1], err: io.ErrUnexpectedEOF},
		"bad frame end":        {in: append(bytes.Clone(ok[:len(ok)-1]), 0xcd), code: amqp.FrameError},
		"frame end zero":       {in: append(ok[:len(ok)-1:len(ok)-1], 0), code: amqp.FrameError},
		"unknown type 0":       {in: rawFrame(0, 0, nil), code: amqp.FrameError},
		"unknown type 4":       {in: rawFrame(4, 0, []byte{1}), code: amqp.FrameError},
		"unknown type 9":       {in: rawFrame(9, 1, nil), code: amqp.FrameError},
		"unknown type 'A'":     {in: []byte("AMQP\x00\x00\x09\x01"), code: amqp.FrameError},
		// RabbitMQ: a heartbeat on a channel is 505, and frame_max bounds
		// the payload (8 bytes of slack over the frame).
		"heartbeat on channel": {in: rawFrame(amqp.FrameHeartbeat, 1, nil), code: amqp.UnexpectedFrame},
		"largest frame":        {in: rawFrame(amqp.FrameBody, 1, make([]byte, amqp.FrameMinSize)), frames: 1, err: io.EOF},
		"oversize by one":      {in: rawFrame(amqp.FrameBody, 1, make([]byte, amqp.FrameMinSize+1)), code: amqp.FrameError},
		"oversize claim only":  {in: be(byte(amqp.FrameBody), uint16(1), uint32(math.MaxUint32)), code: amqp.FrameError},
		"oversize after tune":  {in: rawFrame(amqp.FrameBody, 1, make([]byte, 131073)), frameMax: 131072, code: amqp.FrameError},
		"fits after tune":      {in: rawFrame(amqp.FrameBody, 1, make([]byte, 131072)), frameMax: 131072, frames: 1, err: io.EOF},
	}
	for name, tc := range cases {
		for rname, r := range readers(tc.in) {
			t.Run(name+"/"+rname, func(t *testing.T) {
				fr := amqp.NewFrameReader(r)
				if tc.frameMax != 0 {
					fr.SetFrameMax(tc.frameMax)
				}
				fs, err := readAll(fr)
				if len(fs) != tc.frames {
					t.Errorf("%d frames before the error, want %d", len(fs), tc.frames)
				}
				if tc.code != 0 {
					wantError(t, err, tc.code)
					return
				}
				var ae *amqp.Error
				if errors.As(err, &ae) || !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
			})
		}
	}
}

// TestReadFrameHugeClaim: with no frame_max a header may claim 4 GiB; the
// reader must grow with the bytes that arrive, not with the claim.
func TestReadFrameHugeClaim(t *testing.T) {
	in := append(be(byte(amqp.FrameBody), uint16(1), uint32(math.MaxUint32-1)), make([]byte, 3<<20)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fr := amqp.NewFrameReader(bytes.NewReader(in))
	fr.SetFrameMax(0)
	_, err := fr.ReadFrame()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 32<<20 {
		t.Fatalf("reading 3 MiB of a frame claiming 4 GiB allocated %d bytes", d)
	}

	// A large frame that does arrive is read whole, across the growth steps.
	body := make([]byte, 5<<20+3)
	for i := range body {
		body[i] = byte(i * 7)
	}
	for name, r := range readers(rawFrame(amqp.FrameBody, 2, body)) {
		if name == "one-byte" {
			continue // 5 MiB a byte at a time is slow under -race
		}
		fr := amqp.NewFrameReader(r)
		fr.SetFrameMax(0)
		f, err := fr.ReadFrame()
		if err != nil || !bytes.Equal(f.Payload, body) {
			t.Fatalf("%s: large frame: %v", name, err)
		}
	}
}

func TestReadFrameNoAlloc(t *testing.T) {
	var stream []byte
	for range 10 {
		stream = amqp.AppendMethodFrame(stream, 1, &amqp.BasicAck{DeliveryTag: 1})
		stream = amqp.AppendBodyFrames(stream, 1, make([]byte, 1000), amqp.FrameMinSize)
	}
	r := bytes.NewReader(stream)
	fr := amqp.NewFrameReader(r)
	if a := testing.AllocsPerRun(100, func() {
		r.Reset(stream)
		for range 20 {
			if _, err := fr.ReadFrame(); err != nil {
				t.Fatal(err)
			}
		}
	}); a != 0 {
		t.Errorf("%v allocs per 20 frames, want 0", a)
	}
	fr.ReleaseBuffer()
	r.Reset(stream)
	if fs, err := readAll(fr); len(fs) != 20 || err != io.EOF {
		t.Fatalf("after ReleaseBuffer: %d frames, %v", len(fs), err)
	}
}

func TestProtocolHeader(t *testing.T) {
	if err := amqp.ReadProtocolHeader(strings.NewReader(amqp.ProtocolHeader + "rest")); err != nil {
		t.Fatal(err)
	}
	// RabbitMQ takes the 0-9 header "AMQP 1 1 0 9" as 0-9-1.
	if err := amqp.ReadProtocolHeader(strings.NewReader("AMQP\x01\x01\x00\x09")); err != nil {
		t.Errorf("0-9 header: %v", err)
	}
	for _, in := range []string{"AMQP\x00\x00\x09\x00", "AMQP\x01\x01\x00\x08", "HTTP/1.1", "GET / HTTP/1.1\r\n"} {
		if err := amqp.ReadProtocolHeader(strings.NewReader(in)); !errors.Is(err, amqp.ErrProtocolHeader) {
			t.Errorf("%q: %v, want ErrProtocolHeader", in, err)
		}
	}
	if err := amqp.ReadProtocolHeader(strings.NewReader("AMQP")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short header: %v", err)
	}
}

func TestDecodeContentHeader(t *testing.T) {
	props := sampleProperties()
	raw := amqp.AppendProperties(nil, &props)
	payload := be(uint16(60), uint16(0), uint64(1<<63), raw)
	var h amqp.ContentHeader
	var err error
	// A body size of 2^63 is only a number here: the broker checks it
	// against its maximum message size before allocating anything.
	if a := testing.AllocsPerRun(100, func() { h, err = amqp.DecodeContentHeader(payload) }); a != 0 {
		t.Errorf("%v allocs, want 0", a)
	}
	if err != nil || h.BodySize != 1<<63 || h.ClassID != 60 || !bytes.Equal(h.Props, raw) {
		t.Fatalf("DecodeContentHeader = %+v, %v", h, err)
	}
	if h, err := amqp.DecodeContentHeader(be(uint16(60), uint16(7), uint64(0), uint16(0))); err != nil || h.Weight != 7 || len(h.Props) != 2 {
		t.Fatalf("no properties: %+v, %v", h, err)
	}
	for n := range 14 {
		_, err := amqp.DecodeContentHeader(payload[:n])
		wantError(t, err, amqp.FrameError)
	}
	for n := 14; n < len(payload); n++ {
		_, err := amqp.DecodeContentHeader(payload[:n])
		wantError(t, err, amqp.SyntaxError)
	}
	_, err = amqp.DecodeContentHeader(append(payload, 0))
	wantError(t, err, amqp.SyntaxError)
}

func TestReplyCodes(t *testing.T) {
	codes := map[uint16]struct {
		name       string
		connection bool
	}{
		amqp.ReplySuccess:       {"REPLY_SUCCESS", true},
		amqp.ContentTooLarge:    {"CONTENT_TOO_LARGE", false},
		amqp.NoRoute:            {"NO_ROUTE", false},
		amqp.NoConsumers:        {"NO_CONSUMERS", false},
		amqp.ConnectionForced:   {"CONNECTION_FORCED", true},
		amqp.InvalidPath:        {"INVALID_PATH", true},
		amqp.AccessRefused:      {"ACCESS_REFUSED", false},
		amqp.NotFound:           {"NOT_FOUND", false},
		amqp.ResourceLocked:     {"RESOURCE_LOCKED", false},
		amqp.PreconditionFailed: {"PRECONDITION_FAILED", false},
		amqp.FrameError:         {"FRAME_ERROR", true},
		amqp.SyntaxError:        {"SYNTAX_ERROR", true},
		amqp.CommandInvalid:     {"COMMAND_INVALID", true},
		amqp.ChannelError:       {"CHANNEL_ERROR", true},
		amqp.UnexpectedFrame:    {"UNEXPECTED_FRAME", true},
		amqp.ResourceError:      {"RESOURCE_ERROR", true},
		amqp.NotAllowed:         {"NOT_ALLOWED", true},
		amqp.NotImplemented:     {"NOT_IMPLEMENTED", true},
		amqp.InternalError:      {"INTERNAL_ERROR", true},
	}
	for code, want := range codes {
		if got := amqp.ReplyName(code); got != want.name {
			t.Errorf("ReplyName(%d) = %q, want %q", code, got, want.name)
		}
		if code != amqp.ReplySuccess && amqp.IsConnectionError(code) != want.connection {
			t.Errorf("IsConnectionError(%d) = %v", code, !want.connection)
		}
	}
	if amqp.ReplyName(499) != "" {
		t.Error("ReplyName of an unknown code")
	}
	e := amqp.NewError(amqp.NotFound, amqp.ClassQueue, 10, "no queue '%s' in vhost '%s'", "q1", "/")
	if e.Text != "NOT_FOUND - no queue 'q1' in vhost '/'" || e.Connection() {
		t.Fatalf("NewError: %+v", e)
	}
	if s := e.Error(); !strings.Contains(s, "404") || !strings.Contains(s, e.Text) || !strings.Contains(s, "class 50, method 10") {
		t.Fatalf("Error() = %q", s)
	}
	// Frame errors carry the symbolic name like every other reply text.
	_, err := amqp.NewFrameReader(bytes.NewReader(rawFrame(7, 0, nil))).ReadFrame()
	if ae := wantError(t, err, amqp.FrameError); !strings.HasPrefix(ae.Text, "FRAME_ERROR - ") {
		t.Fatalf("frame error text %q", ae.Text)
	}
}
