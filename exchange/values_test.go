package exchange

import (
	"math"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

func TestArgsEqual(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		a, b amqp.Table
		want bool
	}{
		{"both empty", nil, amqp.Table{}, true},
		{"reordered", tbl("a", "1", "b", int16(2)), tbl("b", int16(2), "a", "1"), true},
		{"duplicates keep their order", tbl("a", "1", "a", "2"), tbl("a", "2", "a", "1"), false},
		{"duplicates reordered among others", tbl("a", "1", "z", true, "a", "2"), tbl("z", true, "a", "1", "a", "2"), true},
		{"int widths differ", tbl("n", int16(1)), tbl("n", int32(1)), false},
		{"signedness differs", tbl("n", uint8(1)), tbl("n", int8(1)), false},
		{"float widths differ", tbl("f", float32(1)), tbl("f", float64(1)), false},
		{"int vs float", tbl("f", int64(1)), tbl("f", 1.0), false},
		{"NaN equals itself", tbl("f", math.NaN()), tbl("f", math.NaN()), true},
		{"timestamps by second", tbl("t", ts), tbl("t", ts.Add(time.Millisecond)), true},
		{"timestamp vs long", tbl("t", ts), tbl("t", ts.Unix()), false},
		{"decimal", tbl("d", amqp.Decimal{Scale: 1, Value: 5}), tbl("d", amqp.Decimal{Scale: 1, Value: 5}), true},
		{"decimal scale", tbl("d", amqp.Decimal{Scale: 1, Value: 5}), tbl("d", amqp.Decimal{Scale: 2, Value: 50}), false},
		{"void", tbl("v", nil), tbl("v", nil), true},
		{"void vs empty string", tbl("v", nil), tbl("v", ""), false},
		{"nil bytes vs empty bytes", tbl("x", []byte(nil)), tbl("x", []byte{}), true},
		{"arrays", tbl("l", []any{"a", int32(1), []any{true}}), tbl("l", []any{"a", int32(1), []any{true}}), true},
		{"array element type", tbl("l", []any{int32(1)}), tbl("l", []any{uint32(1)}), false},
		{"array length", tbl("l", []any{"a"}), tbl("l", []any{"a", "a"}), false},
		{"nested table in order", tbl("t", tbl("a", 1, "b", 2)), tbl("t", tbl("a", 1, "b", 2)), true},
		{"nested table reordered", tbl("t", tbl("a", 1, "b", 2)), tbl("t", tbl("b", 2, "a", 1)), false},
		{"unknown type", tbl("u", struct{ A []int }{[]int{1}}), tbl("u", struct{ A []int }{[]int{1}}), true},
		{"unknown type differs", tbl("u", uint64(1)), tbl("u", uint(1)), false},
	}
	for _, c := range cases {
		if got := ArgsEqual(c.a, c.b); got != c.want {
			t.Errorf("%s: ArgsEqual(%v, %v) = %v; want %v", c.name, c.a, c.b, got, c.want)
		}
		if got := ArgsEqual(c.b, c.a); got != c.want {
			t.Errorf("%s: not symmetric", c.name)
		}
	}
}

func TestHeaderValueEqualNumbers(t *testing.T) {
	cases := []struct {
		p, d any
		want bool
	}{
		{int64(math.MaxInt64), float64(math.MaxInt64), false}, // the float is 2^63
		{int64(math.MinInt64), float64(math.MinInt64), true},
		{int64(0), math.Copysign(0, -1), true},
		{math.NaN(), math.NaN(), false},
		{math.Inf(1), math.Inf(1), true},
		{int64(1), math.Inf(1), false},
		{uint32(math.MaxUint32), int64(math.MaxUint32), true},
		{float32(0.1), 0.1, false}, // a float32 widens to a different double
		{float32(0.5), 0.5, true},
	}
	for _, c := range cases {
		if got := headerValueEqual(c.p, c.d); got != c.want {
			t.Errorf("headerValueEqual(%T %v, %T %v) = %v; want %v", c.p, c.p, c.d, c.d, got, c.want)
		}
	}
}
