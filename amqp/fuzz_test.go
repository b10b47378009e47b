package amqp_test

// Fuzz targets for everything that reads peer bytes. Each checks that
// nothing panics or hangs, that every failure is an *amqp.Error with a
// code the broker can send, and that whatever decodes re-encodes to the
// same bytes. The seed corpus is in testdata/fuzz/<Target>/; regenerate
// the written seeds with
//
//	go test -run TestWriteFuzzCorpus -update-corpus ./amqp
//
// (crashers the fuzzer found are kept next to them).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/warrenmq/warren/amqp"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the generated seeds in testdata/fuzz")

// codeOf returns the code of an *amqp.Error, failing the test for any
// other error.
func codeOf(t *testing.T, err error, codes ...uint16) uint16 {
	t.Helper()
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *amqp.Error", err, err)
	}
	for _, c := range codes {
		if ae.Code == c {
			return c
		}
	}
	t.Fatalf("error code %d (%v), want one of %v", ae.Code, ae, codes)
	return 0
}

// canonical checks that enc, the re-encoding of what orig decoded to,
// equals orig except where the wire has two spellings of one value: a
// boolean field ('t' then any non-zero octet) re-encodes as 1, and unused
// bits of a bit octet are dropped.
func canonical(t *testing.T, orig, enc []byte) {
	t.Helper()
	if len(orig) != len(enc) {
		t.Fatalf("re-encoded to %d bytes, want %d\norig % x\nenc  % x", len(enc), len(orig), orig, enc)
	}
	for i := range orig {
		o, e := orig[i], enc[i]
		switch {
		case o == e:
		case e&^o == 0: // bits dropped
		case e == 1 && i > 0 && orig[i-1] == 't': // non-zero bool
		default:
			t.Fatalf("re-encoding changed byte %d from %#02x to %#02x\norig % x\nenc  % x", i, o, e, orig, enc)
		}
	}
}

type frameResult struct {
	Frames []amqp.Frame
	Err    string
}

func readFrames(t *testing.T, r io.Reader, frameMax uint32) frameResult {
	fr := amqp.NewFrameReader(r)
	fr.SetFrameMax(frameMax)
	var res frameResult
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				// 505 only for a heartbeat on a channel, as RabbitMQ.
				codeOf(t, err, amqp.FrameError, amqp.UnexpectedFrame)
			}
			res.Err = err.Error()
			return res
		}
		f.Payload = bytes.Clone(f.Payload)
		res.Frames = append(res.Frames, f)
	}
}

// FuzzFrameReader reads a byte stream as frames three ways — whole, a byte
// at a time, and split in two at a fuzzed point — and requires the same
// frames and the same error from each, as nats' parser fuzz does for
// partial (chunked) delivery. Every frame is then decoded by type.
func FuzzFrameReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, split uint16, frameMax uint32) {
		whole := readFrames(t, bytes.NewReader(data), frameMax)
		oneByte := readFrames(t, iotest.OneByteReader(bytes.NewReader(data)), frameMax)
		k := int(split) % (len(data) + 1)
		halves := readFrames(t, io.MultiReader(bytes.NewReader(data[:k]), bytes.NewReader(data[k:])), frameMax)
		for name, got := range map[string]frameResult{"one byte at a time": oneByte, "split": halves} {
			if !same(got, whole) {
				t.Fatalf("%s: %d frames, %q; whole: %d frames, %q", name, len(got.Frames), got.Err, len(whole.Frames), whole.Err)
			}
		}
		off := 0
		for _, fr := range whole.Frames {
			// RabbitMQ bounds the payload, not the frame, by frame_max.
			if frameMax != 0 && uint64(len(fr.Payload)) > uint64(frameMax) {
				t.Fatalf("payload of %d bytes accepted with frame_max %d", len(fr.Payload), frameMax)
			}
			raw := rawFrame(fr.Type, fr.Channel, fr.Payload)
			if !bytes.Equal(raw, data[off:off+len(raw)]) {
				t.Fatalf("frame at %d does not re-encode to its bytes", off)
			}
			off += len(raw)
			switch fr.Type {
			case amqp.FrameMethod:
				if _, err := amqp.DecodeMethod(fr.Payload); err != nil {
					codeOf(t, err, amqp.FrameError, amqp.SyntaxError, amqp.CommandInvalid)
				}
			case amqp.FrameHeader:
				if _, err := amqp.DecodeContentHeader(fr.Payload); err != nil {
					codeOf(t, err, amqp.FrameError, amqp.SyntaxError)
				}
			case amqp.FrameHeartbeat:
				if fr.Channel != 0 {
					t.Fatalf("heartbeat on channel %d accepted", fr.Channel)
				}
			case amqp.FrameBody:
			default:
				t.Fatalf("frame type %d accepted", fr.Type)
			}
		}
	})
}

// FuzzDecodeMethod decodes any method frame payload. A success must
// re-encode to the same bytes (up to canonical spelling) and decode again
// to the same value, and a reusing MethodDecoder that held other values
// must agree with a fresh decode.
func FuzzDecodeMethod(f *testing.F) {
	filled := map[uint32][]byte{}
	for _, m := range allMethods(f) {
		fill(m, fillTypical)
		filled[m.ID()] = methodPayload(m)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := amqp.DecodeMethod(payload)

		var d amqp.MethodDecoder
		if len(payload) >= 4 {
			if other, ok := filled[binary.BigEndian.Uint32(payload)]; ok {
				if _, err := d.Decode(other); err != nil {
					t.Fatalf("decoding a filled method: %v", err)
				}
			}
		}
		reused, rerr := d.Decode(payload)

		if err != nil {
			codeOf(t, err, amqp.FrameError, amqp.SyntaxError, amqp.CommandInvalid)
			if rerr == nil || rerr.Error() != err.Error() {
				t.Fatalf("reusing decoder: %v; fresh decoder: %v", rerr, err)
			}
			return
		}
		if rerr != nil || !same(reused, m) {
			t.Fatalf("reusing decoder: %+v, %v; fresh decoder: %+v", reused, rerr, m)
		}
		enc := methodPayload(m)
		canonical(t, payload, enc)
		m2, err := amqp.DecodeMethod(enc)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", m.Name(), err)
		}
		if !same(m2, m) {
			t.Fatalf("decode(encode(m)) = %+v, want %+v", m2, m)
		}
		if !bytes.Equal(methodPayload(m2), enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzDecodeTable decodes any field table. Besides the round trip, the
// non-allocating validator used on content headers must accept exactly
// what the decoder accepts.
func FuzzDecodeTable(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, n, err := amqp.DecodeTable(data)
		verr := amqp.ValidateProperties(append([]byte{byte(amqp.FlagHeaders >> 8), 0}, data...))
		if err != nil {
			codeOf(t, err, amqp.SyntaxError)
			codeOf(t, verr, amqp.SyntaxError)
			return
		}
		if (verr == nil) != (n == len(data)) {
			t.Fatalf("DecodeTable read %d of %d bytes, but ValidateProperties says %v", n, len(data), verr)
		}
		if err := amqp.ValidateValue(tb); err != nil {
			t.Fatalf("decoded a value with no encoding: %v", err)
		}
		enc := amqp.AppendTable(nil, tb)
		canonical(t, data[:n], enc)
		tb2, n2, err := amqp.DecodeTable(enc)
		if err != nil || n2 != len(enc) || !same(tb2, tb) {
			t.Fatalf("decode(encode(t)) = %v, %d, %v", tb2, n2, err)
		}
		if !bytes.Equal(amqp.AppendTable(nil, tb2), enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzDecodeProperties decodes any property list, fresh and into a struct
// that held every property, and checks ValidateProperties agrees.
func FuzzDecodeProperties(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var p amqp.Properties
		n, err := amqp.DecodeProperties(data, &p)
		reused := sampleProperties()
		rn, rerr := amqp.DecodeProperties(data, &reused)
		verr := amqp.ValidateProperties(data)
		if err != nil {
			codeOf(t, err, amqp.SyntaxError)
			codeOf(t, verr, amqp.SyntaxError)
			if rerr == nil {
				t.Fatal("decoding into a used struct succeeded")
			}
			return
		}
		if rerr != nil || rn != n || !same(reused, p) {
			t.Fatalf("into a used struct: %+v, %v\nfresh: %+v", reused, rerr, p)
		}
		if (verr == nil) != (n == len(data)) {
			t.Fatalf("DecodeProperties read %d of %d bytes, but ValidateProperties says %v", n, len(data), verr)
		}
		enc := amqp.AppendProperties(nil, &p)
		if data[1]&1 == 0 { // no continuation words, which are not re-encoded
			canonical(t, data[:n], enc)
		}
		var p2 amqp.Properties
		n2, err := amqp.DecodeProperties(enc, &p2)
		if err != nil || n2 != len(enc) || !same(p2, p) {
			t.Fatalf("decode(encode(p)) = %+v, %d, %v", p2, n2, err)
		}
		if !bytes.Equal(amqp.AppendProperties(nil, &p2), enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// TestWriteFuzzCorpus writes the generated seeds. They are committed, so
// plain `go test` runs them as regression cases.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	write := func(target, name string, args ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch a := a.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", a)
			case uint16:
				fmt.Fprintf(&b, "uint16(%d)\n", a)
			case uint32:
				fmt.Fprintf(&b, "uint32(%d)\n", a)
			default:
				t.Fatalf("corpus: unhandled %T", a)
			}
		}
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Methods: every method filled and zero, then nasty ones.
	for _, m := range allMethods(t) {
		write("FuzzDecodeMethod", "zero-"+m.Name(), methodPayload(m))
		fill(m, fillTypical)
		write("FuzzDecodeMethod", m.Name(), methodPayload(m))
	}
	publish := methodPayload(&amqp.BasicPublish{Exchange: "amq.direct", RoutingKey: "rk", Mandatory: true})
	declare := methodPayload(&amqp.QueueDeclare{Queue: "q", Durable: true, Arguments: amqp.Table{{Key: "x-max-length", Value: int64(10)}}})
	argsAt := len(declare) - len(amqp.AppendTable(nil, amqp.Table{{Key: "x-max-length", Value: int64(10)}}))
	for name, p := range map[string][]byte{
		"truncated-publish": publish[:len(publish)-2],
		"trailing-byte":     append(bytes.Clone(publish), 0),
		"unknown-method":    {0, 60, 0, 41, 1, 2},
		"short-payload":     {0, 60},
		"all-bits-set":      append(bytes.Clone(publish[:len(publish)-1]), 0xff),
		"args-4GiB":         append(bytes.Clone(declare[:argsAt]), 0xff, 0xff, 0xff, 0xff),
		"args-nested-100":   append(bytes.Clone(declare[:argsAt]), nested(100, 'F')...),
		"args-bool-2":       append(bytes.Clone(declare[:argsAt]), oneField(be(byte('t'), byte(2)))...),
		"args-longstr-4GiB": append(bytes.Clone(declare[:argsAt]), oneField(be(byte('S'), uint32(math.MaxUint32)))...),
	} {
		write("FuzzDecodeMethod", name, p)
	}

	// Tables.
	write("FuzzDecodeTable", "sample", amqp.AppendTable(nil, sampleTable()))
	write("FuzzDecodeTable", "empty", amqp.AppendTable(nil, nil))
	for _, c := range fieldCases() {
		if len(c.wire) < 1000 {
			write("FuzzDecodeTable", "type-"+strings.ReplaceAll(c.name, "/", "-"), oneField(c.wire))
		}
	}
	for name, b := range map[string][]byte{
		"nested-64":      nested(64, 'F'),
		"nested-65":      nested(65, 'F'),
		"arrays-100":     oneField(append([]byte{'A'}, nested(100, 'A')...)),
		"claims-4GiB":    be(uint32(math.MaxUint32)),
		"longstr-4GiB":   oneField(be(byte('S'), uint32(math.MaxUint32))),
		"bytes-4GiB":     oneField(be(byte('x'), uint32(math.MaxUint32))),
		"unknown-U":      oneField(be(byte('U'), uint16(1))),
		"bool-2":         oneField(be(byte('t'), byte(2))),
		"trailing":       append(amqp.AppendTable(nil, sampleTable()), 1, 2, 3),
		"key-past-table": be(uint32(2), byte(5), "k"),
	} {
		write("FuzzDecodeTable", name, b)
	}

	// Properties.
	full := sampleProperties()
	write("FuzzDecodeProperties", "all", amqp.AppendProperties(nil, &full))
	for i, fl := range propertyFlags {
		p := only(full, fl)
		write("FuzzDecodeProperties", fmt.Sprintf("flag-%d", i), amqp.AppendProperties(nil, &p))
	}
	for name, b := range map[string][]byte{
		"none":            {0, 0},
		"continuation":    {0x08, 0x01, 0x00, 0x03, 0x00, 0x00, 7},
		"all-flags-empty": {0xff, 0xfe},
		"headers-nested":  append([]byte{0x20, 0}, nested(100, 'F')...),
		"headers-4GiB":    {0x20, 0, 0xff, 0xff, 0xff, 0xff},
		"bit-1":           {0x00, 0x02},
	} {
		write("FuzzDecodeProperties", name, b)
	}

	// Frame streams, with split points and frame_max values.
	props := sampleProperties()
	rawProps := amqp.AppendProperties(nil, &props)
	var session []byte
	session = append(session, rawFrame(amqp.FrameMethod, 0, methodPayload(&amqp.ConnectionTuneOk{ChannelMax: 2047, FrameMax: 4096, Heartbeat: 60}))...)
	session = amqp.AppendMethodFrame(session, 1, &amqp.BasicPublish{Exchange: "x", RoutingKey: "rk"})
	session = amqp.AppendHeaderFrame(session, 1, amqp.ClassBasic, 5000, rawProps)
	session = amqp.AppendBodyFrames(session, 1, bytes.Repeat([]byte("b"), 5000), 4096)
	session = amqp.AppendHeartbeat(session)
	session = amqp.AppendMethodFrame(session, 1, &amqp.BasicAck{DeliveryTag: 1, Multiple: true})
	write("FuzzFrameReader", "session", session, uint16(1), uint32(4096))
	write("FuzzFrameReader", "session-split", session, uint16(len(session)/2), uint32(131072))
	write("FuzzFrameReader", "session-no-max", session, uint16(7), uint32(0))
	for name, b := range map[string][]byte{
		"bad-frame-end":        append(session[:len(session)-1:len(session)-1], 0),
		"unknown-type":         rawFrame(9, 0, nil),
		"heartbeat-channel":    rawFrame(amqp.FrameHeartbeat, 5, nil),
		"oversize":             rawFrame(amqp.FrameBody, 1, make([]byte, 4089)),
		"protocol-header":      []byte(amqp.ProtocolHeader),
		"claims-4GiB":          be(byte(amqp.FrameBody), uint16(1), uint32(math.MaxUint32), "abc"),
		"bad-method":           rawFrame(amqp.FrameMethod, 1, []byte{0, 60, 0, 40, 0}),
		"bad-header":           rawFrame(amqp.FrameHeader, 1, be(uint16(60), uint16(0), uint64(1<<63), uint16(0xffff))),
		"header-huge-body":     rawFrame(amqp.FrameHeader, 1, be(uint16(60), uint16(0), uint64(math.MaxUint64), uint16(0))),
		"truncated-in-payload": session[:20],
	} {
		write("FuzzFrameReader", name, b, uint16(3), uint32(4096))
	}
	write("FuzzFrameReader", "claims-4GiB-no-max", be(byte(amqp.FrameBody), uint16(1), uint32(math.MaxUint32), "abc"), uint16(9), uint32(0))
}
