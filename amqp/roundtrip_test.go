package amqp_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// allMethods returns a zero value of every method NewMethod knows, found by
// asking it about every class and method id below 256 (the spec's ids are
// all far below that), so a method added to the generator is tested
// without touching this file.
func allMethods(t testing.TB) []amqp.Method {
	t.Helper()
	var ms []amqp.Method
	for c := range 256 {
		for m := range 256 {
			if me := amqp.NewMethod(uint16(c), uint16(m)); me != nil {
				ms = append(ms, me)
			}
		}
	}
	if len(ms) == 0 {
		t.Fatal("NewMethod knows no method")
	}
	return ms
}

// longstrFields are the method fields of type longstr in the spec XML; all
// other string fields are shortstr.
var longstrFields = []string{
	"ChannelOpenOk.Reserved1",
	"ConnectionSecure.Challenge",
	"ConnectionSecureOk.Response",
	"ConnectionStart.Locales",
	"ConnectionStart.Mechanisms",
	"ConnectionStartOk.Response",
	"ConnectionUpdateSecret.NewSecret",
}

// fillMode picks the values fill puts in a method's fields.
type fillMode int

const (
	fillTypical fillMode = iota // distinct non-zero values, every bit set
	fillMax                     // maximum integers and 255-byte strings
)

// fill sets every field of the struct m points to. Values differ per field
// so that two fields swapped by the codec cannot go unnoticed.
func fill(m any, mode fillMode) {
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if mode == fillMax {
				f.SetUint(math.MaxUint64 >> (64 - f.Type().Bits()))
			} else {
				// 0x81 82 83 ...: high bit set, distinct per field.
				var u uint64
				for j := range f.Type().Bits() / 8 {
					u = u<<8 | uint64(0x81+i+j)
				}
				f.SetUint(u)
			}
		case reflect.String:
			s := fmt.Sprintf("%s-%d-é", name, i)
			if mode == fillMax {
				s = strings.Repeat(s, 255)[:255]
			}
			f.SetString(s)
		case reflect.Slice: // Table
			f.Set(reflect.ValueOf(sampleTable()))
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(time.Unix(1700000000+int64(i), 0)))
		default:
			panic("fill: unhandled kind " + f.Kind().String())
		}
	}
}

// sampleTable holds one value of every field type, nested ones included.
func sampleTable() amqp.Table {
	return amqp.Table{
		{Key: "bool", Value: true},
		{Key: "int8", Value: int8(-8)},
		{Key: "uint8", Value: uint8(200)},
		{Key: "int16", Value: int16(-1600)},
		{Key: "uint16", Value: uint16(60000)},
		{Key: "int32", Value: int32(-320000)},
		{Key: "uint32", Value: uint32(4000000000)},
		{Key: "int64", Value: int64(-1 << 40)},
		{Key: "float32", Value: float32(1.5)},
		{Key: "float64", Value: -2.25},
		{Key: "decimal", Value: amqp.Decimal{Scale: 2, Value: -12345}},
		{Key: "string", Value: "héllo"},
		{Key: "bytes", Value: []byte{0, 1, 0xce, 0xff}},
		{Key: "array", Value: []any{int32(1), "two", amqp.Table{{Key: "three", Value: nil}}}},
		{Key: "time", Value: time.Unix(1234567890, 0)},
		{Key: "table", Value: amqp.Table{{Key: "nested", Value: amqp.Table{}}}},
		{Key: "void", Value: nil},
		{Key: "bool", Value: false}, // a duplicate key keeps its place
	}
}

// same is reflect.DeepEqual with the differences the wire cannot see
// removed: floats compare by bits (NaN equals the same NaN), times by
// instant, and a nil slice equals an empty one.
func same(a, b any) bool { return sameValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

var timeType = reflect.TypeFor[time.Time]()

func sameValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	case reflect.Float32:
		// Not a.Float(): widening may quiet a signalling NaN.
		return math.Float32bits(a.Interface().(float32)) == math.Float32bits(b.Interface().(float32))
	case reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == timeType {
			return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
		}
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	panic("same: unhandled kind " + a.Kind().String())
}

// wantError fails unless err is an *amqp.Error with the given code.
func wantError(t testing.TB, err error, code uint16) *amqp.Error {
	t.Helper()
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want *amqp.Error with code %d", err, err, code)
	}
	if ae.Code != code {
		t.Fatalf("error code %d (%v), want %d", ae.Code, ae, code)
	}
	return ae
}

// methodPayload is what a method frame carries: the ids, then the arguments.
func methodPayload(m amqp.Method) []byte {
	b := []byte{byte(m.ID() >> 24), byte(m.ID() >> 16), byte(m.ID() >> 8), byte(m.ID())}
	return m.Append(b)
}

func methodType(m amqp.Method) string { return reflect.TypeOf(m).Elem().Name() }

func TestMethodMetadata(t *testing.T) {
	ms := allMethods(t)
	// amqp0-9-1.stripped.extended.xml: 14 connection, 6 channel, 8 exchange,
	// 10 queue, 18 basic, 6 tx and 2 confirm methods.
	if len(ms) != 64 {
		t.Errorf("NewMethod knows %d methods, want 64", len(ms))
	}
	content := map[uint32]bool{
		amqp.MethodBasicPublish: true, amqp.MethodBasicReturn: true,
		amqp.MethodBasicDeliver: true, amqp.MethodBasicGetOk: true,
	}
	async := map[uint32]bool{ // synchronous="1" is absent in the XML
		amqp.MethodConnectionBlocked: true, amqp.MethodConnectionUnblocked: true,
		amqp.MethodChannelFlowOk: true, amqp.MethodBasicPublish: true,
		amqp.MethodBasicReturn: true, amqp.MethodBasicDeliver: true,
		amqp.MethodBasicAck: true, amqp.MethodBasicReject: true,
		amqp.MethodBasicRecoverAsync: true, amqp.MethodBasicNack: true,
	}
	for _, m := range ms {
		id := m.ID()
		if got := amqp.NewMethod(amqp.ClassOf(id), amqp.MethodOf(id)); reflect.TypeOf(got) != reflect.TypeOf(m) {
			t.Errorf("%s: NewMethod(ClassOf, MethodOf) is %T", m.Name(), got)
		}
		if amqp.MethodName(id) != m.Name() {
			t.Errorf("MethodName(%#x) = %q, want %q", id, amqp.MethodName(id), m.Name())
		}
		class, method, ok := strings.Cut(m.Name(), ".")
		if !ok || class == "" || method == "" {
			t.Errorf("%T: Name %q is not class.method", m, m.Name())
		}
		if want := strings.ReplaceAll(strings.ReplaceAll(m.Name(), ".", ""), "-", ""); !strings.EqualFold(methodType(m), want) {
			t.Errorf("%T: Name %q does not match the type", m, m.Name())
		}
		if m.HasContent() != content[id] {
			t.Errorf("%s: HasContent = %v", m.Name(), m.HasContent())
		}
		if m.Synchronous() == async[id] {
			t.Errorf("%s: Synchronous = %v", m.Name(), m.Synchronous())
		}
	}
	if amqp.MethodName(0xffff_ffff) != "" || amqp.NewMethod(60, 0) != nil {
		t.Error("unknown method ids should have no name and no method")
	}
	// Spot checks against the spec's numbering, including RabbitMQ's
	// exchange.unbind-ok = 51.
	for id, name := range map[uint32]string{
		10<<16 | 11: "connection.start-ok", 20<<16 | 40: "channel.close",
		40<<16 | 51: "exchange.unbind-ok", 50<<16 | 50: "queue.unbind",
		60<<16 | 40: "basic.publish", 60<<16 | 120: "basic.nack",
		85<<16 | 10: "confirm.select", 90<<16 | 31: "tx.rollback-ok",
	} {
		if amqp.MethodName(id) != name {
			t.Errorf("MethodName(%d, %d) = %q, want %q", id>>16, id&0xffff, amqp.MethodName(id), name)
		}
	}
}

// TestMethodRoundTrip encodes every method filled with non-zero values,
// decodes it (directly, through DecodeMethod and through a frame) and
// checks the values, and that re-encoding gives the same bytes.
func TestMethodRoundTrip(t *testing.T) {
	for _, zero := range allMethods(t) {
		for _, mode := range []fillMode{fillTypical, fillMax} {
			name := fmt.Sprintf("%s/mode=%d", zero.Name(), mode)
			t.Run(name, func(t *testing.T) {
				m := amqp.NewMethod(amqp.ClassOf(zero.ID()), amqp.MethodOf(zero.ID()))
				fill(m, mode)
				checkMethodRoundTrip(t, m)
			})
		}
		t.Run(zero.Name()+"/zero", func(t *testing.T) { checkMethodRoundTrip(t, zero) })
	}
}

func checkMethodRoundTrip(t *testing.T, m amqp.Method) {
	t.Helper()
	args := m.Append(nil)

	direct := amqp.NewMethod(amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()))
	if err := direct.Decode(args); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !same(direct, m) {
		t.Fatalf("Decode(Append(m)) =\n%+v\nwant\n%+v", direct, m)
	}
	if re := direct.Append(nil); !bytes.Equal(re, args) {
		t.Fatalf("Append(Decode(b)) =\n% x\nwant\n% x", re, args)
	}

	got, err := amqp.DecodeMethod(methodPayload(m))
	if err != nil {
		t.Fatalf("DecodeMethod: %v", err)
	}
	if !same(got, m) {
		t.Fatalf("DecodeMethod =\n%+v\nwant\n%+v", got, m)
	}

	fr := amqp.NewFrameReader(bytes.NewReader(amqp.AppendMethodFrame(nil, 65535, m)))
	fr.SetFrameMax(0)
	f, err := fr.ReadFrame()
	if err != nil || f.Type != amqp.FrameMethod || f.Channel != 65535 {
		t.Fatalf("ReadFrame = %+v, %v", f, err)
	}
	if !bytes.Equal(f.Payload, methodPayload(m)) {
		t.Fatalf("frame payload\n% x\nwant\n% x", f.Payload, methodPayload(m))
	}

	// A decoder that reuses its structs: decoding other values first must
	// leave nothing behind.
	var d amqp.MethodDecoder
	other := amqp.NewMethod(amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()))
	fill(other, fillMax)
	first, err := d.Decode(methodPayload(other))
	if err != nil {
		t.Fatalf("MethodDecoder.Decode: %v", err)
	}
	again, err := d.Decode(methodPayload(m))
	if err != nil {
		t.Fatalf("MethodDecoder.Decode: %v", err)
	}
	if first != again {
		t.Error("MethodDecoder did not reuse its struct")
	}
	if !same(again, m) {
		t.Fatalf("MethodDecoder.Decode after another value =\n%+v\nwant\n%+v", again, m)
	}
}

// TestMethodBits sets each bit field alone: consecutive bits share an
// octet (spec 4.2.5.2), so a wrong shift would move a flag to a neighbour.
func TestMethodBits(t *testing.T) {
	n := 0
	for _, zero := range allMethods(t) {
		v := reflect.ValueOf(zero).Elem()
		for i := range v.NumField() {
			if v.Field(i).Kind() != reflect.Bool {
				continue
			}
			n++
			m := amqp.NewMethod(amqp.ClassOf(zero.ID()), amqp.MethodOf(zero.ID()))
			reflect.ValueOf(m).Elem().Field(i).SetBool(true)
			got, err := amqp.DecodeMethod(methodPayload(m))
			if err != nil {
				t.Fatalf("%s.%s: %v", m.Name(), v.Type().Field(i).Name, err)
			}
			if !same(got, m) {
				t.Errorf("%s with only %s set decodes as %+v", m.Name(), v.Type().Field(i).Name, got)
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d bit fields found", n)
	}
}

// TestMethodStringKinds tells shortstr from longstr fields by their
// behaviour: a 300-byte shortstr is truncated to 255 bytes on encode, a
// longstr is not. The set of longstr fields must match the spec.
func TestMethodStringKinds(t *testing.T) {
	var long []string
	for _, zero := range allMethods(t) {
		v := reflect.ValueOf(zero).Elem()
		for i := range v.NumField() {
			if v.Field(i).Kind() != reflect.String {
				continue
			}
			field := methodType(zero) + "." + v.Type().Field(i).Name
			m := amqp.NewMethod(amqp.ClassOf(zero.ID()), amqp.MethodOf(zero.ID()))
			s := strings.Repeat("0123456789", 30)
			reflect.ValueOf(m).Elem().Field(i).SetString(s)
			got, err := amqp.DecodeMethod(methodPayload(m))
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			switch gs := reflect.ValueOf(got).Elem().Field(i).String(); gs {
			case s:
				long = append(long, field)
			case s[:255]:
			default:
				t.Errorf("%s: 300 bytes decode as %d bytes", field, len(gs))
			}
		}
	}
	slices.Sort(long)
	if !slices.Equal(long, longstrFields) {
		t.Errorf("longstr fields %q, want %q", long, longstrFields)
	}
}

// TestMethodMalformed cuts every method's encoding at every length and
// adds a trailing byte: each must be a 501 naming the method, RabbitMQ's
// "FRAME_ERROR - cannot decode".
func TestMethodMalformed(t *testing.T) {
	for _, m := range allMethods(t) {
		fill(m, fillTypical)
		payload := methodPayload(m)
		for n := 4; n < len(payload); n++ {
			_, err := amqp.DecodeMethod(payload[:n])
			ae := wantError(t, err, amqp.FrameError)
			if ae.ClassID != amqp.ClassOf(m.ID()) || ae.MethodID != amqp.MethodOf(m.ID()) {
				t.Fatalf("%s cut at %d: error names class %d method %d", m.Name(), n, ae.ClassID, ae.MethodID)
			}
			if !ae.Connection() {
				t.Fatalf("502 must close the connection")
			}
		}
		_, err := amqp.DecodeMethod(append(payload, 0))
		wantError(t, err, amqp.FrameError)
		if !strings.Contains(err.Error(), "trailing") {
			t.Errorf("%s: trailing byte error %q", m.Name(), err)
		}
		// A reusing decoder recovers from a failed decode.
		var d amqp.MethodDecoder
		if len(payload) > 4 {
			_, err := d.Decode(payload[:len(payload)-1])
			wantError(t, err, amqp.FrameError)
		}
		if got, err := d.Decode(payload); err != nil || !same(got, m) {
			t.Fatalf("%s: decode after a failed decode: %+v, %v", m.Name(), got, err)
		}
	}
}

func TestDecodeMethodUnknown(t *testing.T) {
	for _, p := range [][]byte{
		{0, 0, 0, 0},
		{0, 60, 0, 41}, // basic, no method 41
		{0, 61, 0, 40}, // no class 61
		{0xff, 0xff, 0xff, 0xff, 1, 2, 3},
	} {
		_, err := amqp.DecodeMethod(p)
		ae := wantError(t, err, amqp.CommandInvalid)
		if ae.ClassID != uint16(p[0])<<8|uint16(p[1]) || ae.MethodID != uint16(p[2])<<8|uint16(p[3]) {
			t.Errorf("% x: error names class %d method %d", p, ae.ClassID, ae.MethodID)
		}
	}
	for n := range 4 {
		_, err := amqp.DecodeMethod(make([]byte, n))
		wantError(t, err, amqp.FrameError) // RabbitMQ: a method frame without ids is a frame error
	}
}

// TestMethodDecodeNoAlloc: the publish path decodes into reused structs and
// keeps unchanged strings, so the steady state allocates nothing.
func TestMethodDecodeNoAlloc(t *testing.T) {
	for _, m := range []amqp.Method{
		&amqp.BasicPublish{Exchange: "amq.topic", RoutingKey: "a.b.c", Mandatory: true},
		&amqp.BasicAck{DeliveryTag: 1 << 40, Multiple: true},
		&amqp.BasicNack{DeliveryTag: 7, Requeue: true},
		&amqp.BasicDeliver{ConsumerTag: "ctag", DeliveryTag: 9, Exchange: "x", RoutingKey: "rk"},
	} {
		var d amqp.MethodDecoder
		p := methodPayload(m)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := d.Decode(p); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per decode, want 0", m.Name(), allocs)
		}
	}
}

// sampleProperties sets all 14 properties.
func sampleProperties() amqp.Properties {
	return amqp.Properties{
		ContentType:     "application/json",
		ContentEncoding: "gzip",
		Headers:         sampleTable(),
		DeliveryMode:    2,
		Priority:        9,
		CorrelationID:   "corr",
		ReplyTo:         "amq.rabbitmq.reply-to",
		Expiration:      "60000",
		MessageID:       "msg-1",
		Timestamp:       time.Unix(1700000000, 0),
		Type:            "type",
		UserID:          "guest",
		AppID:           "warren",
		Reserved:        "cluster",
		Flags:           allFlags,
	}
}

var propertyFlags = []uint16{
	amqp.FlagContentType, amqp.FlagContentEncoding, amqp.FlagHeaders,
	amqp.FlagDeliveryMode, amqp.FlagPriority, amqp.FlagCorrelationID,
	amqp.FlagReplyTo, amqp.FlagExpiration, amqp.FlagMessageID,
	amqp.FlagTimestamp, amqp.FlagType, amqp.FlagUserID, amqp.FlagAppID,
	amqp.FlagReserved,
}

const allFlags = 0xfffc // bits 15..2; bit 0 is the continuation flag

// only keeps the property named by flag and zeroes the others.
func only(p amqp.Properties, flags uint16) amqp.Properties {
	var out amqp.Properties
	pv, ov := reflect.ValueOf(&p).Elem(), reflect.ValueOf(&out).Elem()
	for i, f := range propertyFlags {
		if flags&f != 0 {
			ov.Field(i).Set(pv.Field(i))
		}
	}
	out.Flags = flags
	return out
}

func TestPropertiesRoundTrip(t *testing.T) {
	full := sampleProperties()
	cases := map[string]amqp.Properties{"none": {}, "all": full}
	for i, f := range propertyFlags {
		cases[reflect.TypeFor[amqp.Properties]().Field(i).Name] = only(full, f)
	}
	// Present but empty is not absent: the flag alone goes on the wire.
	cases["empty-but-present"] = amqp.Properties{Flags: allFlags, Timestamp: time.Unix(0, 0), Headers: amqp.Table{}}
	maxStr := strings.Repeat("x", 255)
	cases["max"] = amqp.Properties{
		ContentType: maxStr, ContentEncoding: maxStr, DeliveryMode: 255, Priority: 255,
		CorrelationID: maxStr, ReplyTo: maxStr, Expiration: maxStr, MessageID: maxStr,
		Timestamp: time.Unix(math.MaxInt64, 0), Type: maxStr, UserID: maxStr, AppID: maxStr,
		Reserved: maxStr, Headers: amqp.Table{{Key: maxStr, Value: strings.Repeat("y", 100000)}},
		Flags: allFlags,
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			b := amqp.AppendProperties([]byte("prefix"), &p)[len("prefix"):]
			if flags := uint16(b[0])<<8 | uint16(b[1]); flags != p.Flags {
				t.Fatalf("flags word %#04x, want %#04x", flags, p.Flags)
			}
			var got amqp.Properties
			n, err := amqp.DecodeProperties(b, &got)
			if err != nil || n != len(b) {
				t.Fatalf("DecodeProperties = %d, %v; want %d, nil", n, err, len(b))
			}
			if !same(got, p) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, p)
			}
			if re := amqp.AppendProperties(nil, &got); !bytes.Equal(re, b) {
				t.Fatalf("re-encoded\n% x\nwant\n% x", re, b)
			}
			if err := amqp.ValidateProperties(b); err != nil {
				t.Fatalf("ValidateProperties: %v", err)
			}
			// Decoding into a struct that held every property clears the
			// absent ones.
			reused := sampleProperties()
			if _, err := amqp.DecodeProperties(b, &reused); err != nil || !same(reused, p) {
				t.Fatalf("decoded into a used struct:\n%+v\nwant\n%+v", reused, p)
			}
			// Every cut is an error, and ValidateProperties agrees.
			if p.Flags == 0 {
				return
			}
			for i := range len(b) {
				_, err := amqp.DecodeProperties(b[:i], &got)
				wantError(t, err, amqp.SyntaxError)
				wantError(t, amqp.ValidateProperties(b[:i]), amqp.SyntaxError)
			}
			wantError(t, amqp.ValidateProperties(append(b, 0)), amqp.SyntaxError)
		})
	}
}

// A property whose flag is clear is not encoded, whatever its value.
func TestPropertiesFlagsDecide(t *testing.T) {
	p := sampleProperties()
	p.Flags = amqp.FlagDeliveryMode
	b := amqp.AppendProperties(nil, &p)
	if want := []byte{0x10, 0, 2}; !bytes.Equal(b, want) {
		t.Fatalf("encoded % x, want % x", b, want)
	}
	// The continuation bit is never written, and continuation words are
	// read and skipped (spec 4.2.6.1).
	p.Flags = amqp.FlagPriority | 1
	if b := amqp.AppendProperties(nil, &p); !bytes.Equal(b, []byte{0x08, 0, 9}) {
		t.Fatalf("continuation bit written: % x", b)
	}
	var got amqp.Properties
	in := []byte{0x08, 0x01, 0x00, 0x03, 0x00, 0x00, 7}
	if n, err := amqp.DecodeProperties(in, &got); err != nil || n != len(in) || got.Priority != 7 || got.Flags != amqp.FlagPriority {
		t.Fatalf("continuation words: %d, %v, %+v", n, err, got)
	}
	if err := amqp.ValidateProperties(in); err != nil {
		t.Fatal(err)
	}
	wantError(t, amqp.ValidateProperties(in[:4]), amqp.SyntaxError)
}

// TestPropertiesNoAlloc: the broker validates every publish's properties
// and forwards them raw, so validation must not allocate; decoding strings
// into a reused struct does not either.
func TestPropertiesNoAlloc(t *testing.T) {
	p := sampleProperties()
	b := amqp.AppendProperties(nil, &p)
	if a := testing.AllocsPerRun(100, func() {
		if err := amqp.ValidateProperties(b); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("ValidateProperties: %v allocs, want 0", a)
	}
	p.Flags &^= amqp.FlagHeaders
	b = amqp.AppendProperties(nil, &p)
	var got amqp.Properties
	if a := testing.AllocsPerRun(100, func() {
		if _, err := amqp.DecodeProperties(b, &got); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("DecodeProperties into a reused struct: %v allocs, want 0", a)
	}
}
