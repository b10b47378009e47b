package amqp_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// be builds big-endian wire bytes from a mix of octets (byte, int8: write
// type letters as byte('t'), since a rune is an int32), shorts (uint16,
// int16), longs (uint32, int32), longlongs (uint64, int64), strings and
// byte slices.
func be(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int8:
			b = append(b, byte(p))
		case uint16:
			b = binary.BigEndian.AppendUint16(b, p)
		case int16:
			b = binary.BigEndian.AppendUint16(b, uint16(p))
		case uint32:
			b = binary.BigEndian.AppendUint32(b, p)
		case int32:
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		case uint64:
			b = binary.BigEndian.AppendUint64(b, p)
		case int64:
			b = binary.BigEndian.AppendUint64(b, uint64(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic("be: unhandled part")
		}
	}
	return b
}

// oneField is the encoding of a table holding one field named "k".
func oneField(value []byte) []byte {
	return be(uint32(2+len(value)), byte(1), "k", value)
}

// fieldCase is a value and its encoding after the key, per RabbitMQ's
// field type letters (AMQP 0-9-1 errata §3).
type fieldCase struct {
	name  string
	value any
	wire  []byte
}

func fieldCases() []fieldCase {
	long := strings.Repeat("long string ", 6000) // 72000 bytes, larger than any frame_min
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	deep := amqp.Table{{Key: "a", Value: []any{amqp.Table{{Key: "b", Value: []any{amqp.Table{}, []any{}}}}}}}
	return []fieldCase{
		{"t/true", true, be(byte('t'), byte(1))},
		{"t/false", false, be(byte('t'), byte(0))},
		{"b/0", int8(0), be(byte('b'), byte(0))},
		{"b/min", int8(math.MinInt8), be(byte('b'), byte(0x80))},
		{"b/max", int8(math.MaxInt8), be(byte('b'), byte(0x7f))},
		{"b/-1", int8(-1), be(byte('b'), byte(0xff))},
		{"B/0", uint8(0), be(byte('B'), byte(0))},
		{"B/max", uint8(math.MaxUint8), be(byte('B'), byte(0xff))},
		{"s/0", int16(0), be(byte('s'), uint16(0))},
		{"s/min", int16(math.MinInt16), be(byte('s'), uint16(0x8000))},
		{"s/max", int16(math.MaxInt16), be(byte('s'), uint16(0x7fff))},
		{"s/-2", int16(-2), be(byte('s'), uint16(0xfffe))},
		{"u/0", uint16(0), be(byte('u'), uint16(0))},
		{"u/max", uint16(math.MaxUint16), be(byte('u'), uint16(0xffff))},
		{"I/0", int32(0), be(byte('I'), uint32(0))},
		{"I/min", int32(math.MinInt32), be(byte('I'), uint32(0x80000000))},
		{"I/max", int32(math.MaxInt32), be(byte('I'), uint32(0x7fffffff))},
		{"I/-1", int32(-1), be(byte('I'), uint32(0xffffffff))},
		{"i/0", uint32(0), be(byte('i'), uint32(0))},
		{"i/max", uint32(math.MaxUint32), be(byte('i'), uint32(0xffffffff))},
		{"l/0", int64(0), be(byte('l'), uint64(0))},
		{"l/min", int64(math.MinInt64), be(byte('l'), uint64(1<<63))},
		{"l/max", int64(math.MaxInt64), be(byte('l'), uint64(1<<63-1))},
		{"l/-1", int64(-1), be(byte('l'), uint64(math.MaxUint64))},
		{"f/0", float32(0), be(byte('f'), uint32(0))},
		{"f/-0", float32(math.Copysign(0, -1)), be(byte('f'), uint32(0x80000000))},
		{"f/max", float32(math.MaxFloat32), be(byte('f'), math.Float32bits(math.MaxFloat32))},
		{"f/tiny", float32(math.SmallestNonzeroFloat32), be(byte('f'), uint32(1))},
		{"f/+inf", float32(math.Inf(1)), be(byte('f'), uint32(0x7f800000))},
		{"f/-inf", float32(math.Inf(-1)), be(byte('f'), uint32(0xff800000))},
		{"f/nan", math.Float32frombits(0x7fc00000), be(byte('f'), uint32(0x7fc00000))},
		{"f/nan-payload", math.Float32frombits(0xffc0beef), be(byte('f'), uint32(0xffc0beef))},
		{"f/snan", math.Float32frombits(0x7f800001), be(byte('f'), uint32(0x7f800001))},
		{"d/0", 0.0, be(byte('d'), uint64(0))},
		{"d/-0", math.Copysign(0, -1), be(byte('d'), uint64(1<<63))},
		{"d/max", math.MaxFloat64, be(byte('d'), math.Float64bits(math.MaxFloat64))},
		{"d/tiny", math.SmallestNonzeroFloat64, be(byte('d'), uint64(1))},
		{"d/-inf", math.Inf(-1), be(byte('d'), uint64(0xfff0000000000000))},
		{"d/nan", math.NaN(), be(byte('d'), math.Float64bits(math.NaN()))},
		{"d/nan-payload", math.Float64frombits(0xfff8_0000_dead_beef), be(byte('d'), uint64(0xfff8_0000_dead_beef))},
		{"d/snan", math.Float64frombits(0x7ff0_0000_0000_0001), be(byte('d'), uint64(0x7ff0_0000_0000_0001))},
		{"D/0", amqp.Decimal{}, be(byte('D'), byte(0), uint32(0))},
		{"D/min", amqp.Decimal{Scale: 255, Value: math.MinInt32}, be(byte('D'), byte(255), uint32(0x80000000))},
		{"D/12.345", amqp.Decimal{Scale: 3, Value: 12345}, be(byte('D'), byte(3), uint32(12345))},
		{"S/empty", "", be(byte('S'), uint32(0))},
		{"S/utf8-nul", "é\x00€", be(byte('S'), uint32(6), "é\x00€")},
		{"S/long", long, be(byte('S'), uint32(len(long)), long)},
		{"x/empty", []byte{}, be(byte('x'), uint32(0))},
		{"x/all-bytes", all, be(byte('x'), uint32(256), all)},
		{"A/empty", []any{}, be(byte('A'), uint32(0))},
		{"A/mixed", []any{int8(1), "s", nil}, be(byte('A'), uint32(9), byte('b'), byte(1), byte('S'), uint32(1), "s", byte('V'))},
		{"A/arrays-of-tables", []any{[]any{amqp.Table{}, amqp.Table{{Key: "x", Value: false}}}, amqp.Table{}},
			be(byte('A'), uint32(24), byte('A'), uint32(14), byte('F'), uint32(0), byte('F'), uint32(4), byte(1), "x", byte('t'), byte(0), byte('F'), uint32(0))},
		{"T/epoch", time.Unix(0, 0), be(byte('T'), uint64(0))},
		{"T/before-epoch", time.Unix(-1, 0), be(byte('T'), uint64(math.MaxUint64))},
		{"T/year-1", time.Unix(-62135596800, 0), be(byte('T'), uint64(0xfffffff1886e0900))},
		{"T/year-9999", time.Unix(253402300799, 0), be(byte('T'), uint64(253402300799))},
		{"T/max", time.Unix(math.MaxInt64, 0), be(byte('T'), uint64(math.MaxInt64))},
		{"T/min", time.Unix(math.MinInt64, 0), be(byte('T'), uint64(1<<63))},
		{"F/empty", amqp.Table{}, be(byte('F'), uint32(0))},
		{"F/nested", deep, be(byte('F'), uint32(29), byte(1), "a", byte('A'), uint32(22), byte('F'), uint32(17), byte(1), "b", byte('A'), uint32(10),
			byte('F'), uint32(0), byte('A'), uint32(0))},
		{"V", nil, be(byte('V'))},
	}
}

// TestFieldTypes checks every field type's exact encoding, then the
// decode and the re-encode.
func TestFieldTypes(t *testing.T) {
	letters := map[byte]bool{}
	for _, c := range fieldCases() {
		t.Run(c.name, func(t *testing.T) {
			letters[c.wire[0]] = true
			in := amqp.Table{{Key: "k", Value: c.value}}
			b := amqp.AppendTable(nil, in)
			if want := oneField(c.wire); !bytes.Equal(b, want) {
				t.Fatalf("encoded\n% x\nwant\n% x", b, want)
			}
			got, n, err := amqp.DecodeTable(b)
			if err != nil || n != len(b) {
				t.Fatalf("DecodeTable = %d, %v", n, err)
			}
			if !same(got, in) {
				t.Fatalf("decoded %#v, want %#v", got, in)
			}
			if re := amqp.AppendTable(nil, got); !bytes.Equal(re, b) {
				t.Fatalf("re-encoded\n% x\nwant\n% x", re, b)
			}
			if err := amqp.ValidateValue(c.value); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(letters) != 17 {
		t.Errorf("covered %d field types, want all 17 (t b B s u I i l f d D S x A T F V)", len(letters))
	}
}

// Go types without a letter of their own.
func TestFieldTypeAliases(t *testing.T) {
	b := amqp.AppendTable(nil, amqp.Table{{Key: "k", Value: -5}})
	if want := oneField(be(byte('l'), int64(-5))); !bytes.Equal(b, want) {
		t.Fatalf("int encoded as % x, want % x", b, want)
	}
	if got, _, _ := amqp.DecodeTable(b); got[0].Value != int64(-5) {
		t.Fatalf("int decodes as %#v, want int64(-5)", got[0].Value)
	}
	// Any non-zero octet is true (RabbitMQ and amqp091-go agree); it
	// re-encodes as 1.
	got, _, err := amqp.DecodeTable(oneField(be(byte('t'), byte(2))))
	if err != nil || got[0].Value != true {
		t.Fatalf("'t' 2 decodes as %#v, %v", got, err)
	}
}

func TestTableOrderAndDuplicates(t *testing.T) {
	in := sampleTable()
	b := amqp.AppendTable(nil, in)
	got, _, err := amqp.DecodeTable(b)
	if err != nil {
		t.Fatal(err)
	}
	if !same(got, in) {
		t.Fatalf("decoded %#v, want %#v", got, in)
	}
	if re := amqp.AppendTable(nil, got); !bytes.Equal(re, b) {
		t.Fatal("re-encoding changed the bytes")
	}
	if v, _ := got.Get("bool"); v != true {
		t.Error("Get returns the first of duplicate keys")
	}
}

func TestTableEmpty(t *testing.T) {
	for _, in := range []amqp.Table{nil, {}} {
		b := amqp.AppendTable(nil, in)
		if !bytes.Equal(b, []byte{0, 0, 0, 0}) {
			t.Fatalf("empty table encoded as % x", b)
		}
		got, n, err := amqp.DecodeTable(b)
		if err != nil || n != 4 || len(got) != 0 {
			t.Fatalf("DecodeTable(empty) = %#v, %d, %v", got, n, err)
		}
	}
}

func TestTableMaxKey(t *testing.T) {
	key := strings.Repeat("k", 255)
	in := amqp.Table{{Key: key, Value: int32(1)}}
	b := amqp.AppendTable(nil, in)
	got, _, err := amqp.DecodeTable(b)
	if err != nil || !same(got, in) {
		t.Fatalf("255-byte key: %v, %v", got, err)
	}
	// Keys are shortstrs: a longer one is truncated, as for any shortstr.
	b = amqp.AppendTable(nil, amqp.Table{{Key: key + "!", Value: int32(1)}})
	if got, _, err := amqp.DecodeTable(b); err != nil || got[0].Key != key {
		t.Fatalf("256-byte key: %v, %v", got, err)
	}
}

func TestTableMethods(t *testing.T) {
	var tb amqp.Table
	tb = tb.Set("a", 1)
	tb = tb.Set("b", "x")
	tb = append(tb, amqp.Field{Key: "a", Value: 3})
	tb = tb.Set("a", 2) // replaces the first
	if v, ok := tb.Get("a"); !ok || v != 2 || len(tb) != 3 {
		t.Fatalf("Set: %#v", tb)
	}
	if !tb.Has("b") || tb.Has("c") {
		t.Fatal("Has")
	}
	tb = tb.Delete("a")
	if len(tb) != 1 || tb[0].Key != "b" {
		t.Fatalf("Delete removes every field of the name: %#v", tb)
	}
	if _, ok := tb.Get("a"); ok {
		t.Fatal("Get after Delete")
	}
}

func TestValidateValue(t *testing.T) {
	if err := amqp.ValidateValue(sampleTable()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []any{
		uint64(1), uint(1), map[string]any{}, struct{}{}, []string{"a"},
		[]any{1, complex(1, 2)},
		amqp.Table{{Key: "inner", Value: amqp.Table{{Key: "x", Value: int64(1)}, {Key: "y", Value: &struct{}{}}}}},
	} {
		if amqp.ValidateValue(bad) == nil {
			t.Errorf("ValidateValue(%#v) = nil", bad)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendTable with %T did not panic", bad)
				}
			}()
			amqp.AppendTable(nil, amqp.Table{{Key: "k", Value: bad}})
		}()
	}
}

// TestTableMalformed: every failure is a 502, and a length prefix is never
// trusted for an allocation.
func TestTableMalformed(t *testing.T) {
	full := amqp.AppendTable(nil, sampleTable())
	for n := range len(full) {
		_, _, err := amqp.DecodeTable(full[:n])
		wantError(t, err, amqp.SyntaxError)
	}
	// A table whose size covers only part of its last field.
	cut := bytes.Clone(full)
	binary.BigEndian.PutUint32(cut, uint32(len(full)-5))
	_, _, err := amqp.DecodeTable(cut)
	wantError(t, err, amqp.SyntaxError)

	for name, b := range map[string][]byte{
		"unknown type U":        oneField(be(byte('U'), uint16(1))),
		"unknown type L":        oneField(be(byte('L'), uint64(1))),
		"unknown type NUL":      oneField(be(byte(0))),
		"unknown type in array": oneField(be(byte('A'), uint32(2), byte('Z'), byte(0))),
		"missing value":         be(uint32(2), byte(1), "k"),
		"key past the end":      be(uint32(2), byte(5), "k"),
		"table claims 4 GiB":    be(uint32(math.MaxUint32)),
		"longstr claims 4 GiB":  oneField(be(byte('S'), uint32(math.MaxUint32), "abc")),
		"bytes claim 4 GiB":     oneField(be(byte('x'), uint32(math.MaxUint32), "abc")),
		"array claims 4 GiB":    oneField(be(byte('A'), uint32(math.MaxUint32), byte('V'))),
		"inner table too big":   oneField(be(byte('F'), uint32(math.MaxUint32-1))),
		"longstr 2^31":          oneField(be(byte('S'), uint32(1<<31))),
		"longstr past table":    be(uint32(7), byte(1), "k", byte('S'), uint32(1), "abc"),
		"decimal cut":           oneField(be(byte('D'), byte(2), uint16(1))),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 100 {
				_, _, err := amqp.DecodeTable(b)
				wantError(t, err, amqp.SyntaxError)
			}
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
				t.Errorf("100 decodes allocated %d bytes", d)
			}
			// The validating walk used for content headers agrees.
			props := append([]byte{byte(amqp.FlagHeaders >> 8), 0}, b...)
			wantError(t, amqp.ValidateProperties(props), amqp.SyntaxError)
		})
	}
}

// nested encodes depth tables, each the only field of its parent.
func nested(depth int, letter byte) []byte {
	// Table i (0 = outermost) holds one field "" of type letter whose value
	// is table i+1: 1 key length octet + 1 type octet + 4 size octets +
	// the inner content, 6 bytes per level. Arrays have no key: 5 bytes.
	per := 6
	if letter == 'A' {
		per = 5
	}
	var b []byte
	for i := range depth {
		b = binary.BigEndian.AppendUint32(b, uint32(per*(depth-1-i)))
		if i < depth-1 {
			if letter != 'A' {
				b = append(b, 0)
			}
			b = append(b, letter)
		}
	}
	return b
}

func TestTableNesting(t *testing.T) {
	// The outer table is level 1; maxNesting (64) levels decode.
	if got, _, err := amqp.DecodeTable(nested(64, 'F')); err != nil || len(got) != 1 {
		t.Fatalf("64 levels: %v", err)
	}
	for _, depth := range []int{65, 1000, 200000} {
		_, _, err := amqp.DecodeTable(nested(depth, 'F'))
		wantError(t, err, amqp.SyntaxError)
		props := append([]byte{byte(amqp.FlagHeaders >> 8), 0}, nested(depth, 'F')...)
		wantError(t, amqp.ValidateProperties(props), amqp.SyntaxError)
	}
	// Arrays count the same: a table holding an array holding arrays.
	arrays := func(depth int) []byte {
		inner := nested(depth, 'A')
		return oneField(append([]byte{'A'}, inner...))
	}
	if _, _, err := amqp.DecodeTable(arrays(63)); err != nil {
		t.Fatalf("table + 63 arrays: %v", err)
	}
	_, _, err := amqp.DecodeTable(arrays(64))
	wantError(t, err, amqp.SyntaxError)
	_, _, err = amqp.DecodeTable(arrays(100000))
	wantError(t, err, amqp.SyntaxError)
}
