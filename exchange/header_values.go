package exchange

import (
	"bytes"
	"math"
	"time"
)

// headerValueEqual is Erlang's == on the values of a headers binding
// argument and a message header, as rabbit_exchange_type_headers compares
// them (PV == DV, the types are not compared):
//   - numbers compare by numeric value across integer and float types, and
//     a timestamp is an integer number of seconds (1 == 1.0 == 'T' 1);
//   - a longstr and a byte array are both Erlang binaries, so "abc" equals
//     []byte("abc");
//   - arrays and tables hold typed elements, which compare by sameValue.
func headerValueEqual(p, d any) bool {
	if x, ok := number(p); ok {
		y, ok := number(d)
		return ok && x.equal(y)
	}
	switch p := p.(type) {
	case string:
		switch d := d.(type) {
		case string:
			return p == d
		case []byte:
			return p == string(d)
		}
		return false
	case []byte:
		switch d := d.(type) {
		case string:
			return string(p) == d
		case []byte:
			return bytes.Equal(p, d)
		}
		return false
	}
	return sameValue(p, d)
}

// num is an Erlang number: an integer or a float.
type num struct {
	i       int64
	f       float64
	isFloat bool
}

// equal is Erlang's exact == between numbers: an integer equals a float
// only if the float is integral and of the same value.
func (x num) equal(y num) bool {
	switch {
	case !x.isFloat && !y.isFloat:
		return x.i == y.i
	case x.isFloat && y.isFloat:
		return x.f == y.f
	case x.isFloat:
		return floatEqualsInt(x.f, y.i)
	default:
		return floatEqualsInt(y.f, x.i)
	}
}

func floatEqualsInt(f float64, i int64) bool {
	// -2^63 is exact as a float64; 2^63 is the first value out of range.
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return false // fractional, NaN, infinite or out of int64 range
	}
	return int64(f) == i
}

// number reports v as a number if RabbitMQ holds it as one.
func number(v any) (num, bool) {
	if i, ok := integer(v); ok {
		return num{i: i}, true
	}
	switch v := v.(type) {
	case float32:
		return num{f: float64(v), isFloat: true}, true
	case float64:
		return num{f: v, isFloat: true}, true
	case time.Time:
		return num{i: v.Unix()}, true
	}
	return num{}, false
}

// integer widens any integer field type to int64.
func integer(v any) (int64, bool) {
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case int16:
		return int64(v), true
	case uint16:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}
