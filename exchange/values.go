package exchange

import (
	"bytes"
	"math"
	"reflect"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// fieldType is the RabbitMQ type of a field value: the atom that
// rabbit_binary_parser puts next to each value ({Key, Type, Value}). Two
// values of different types are different binding arguments even when
// Erlang's == would call them equal.
type fieldType uint8

const (
	typeUnknown fieldType = iota // not one of amqp.Table's value types
	typeBool
	typeInt8
	typeUint8
	typeInt16
	typeUint16
	typeInt32
	typeUint32
	typeInt64 // 'l'; Go int is encoded as 'l' too
	typeFloat32
	typeFloat64
	typeDecimal
	typeString
	typeBytes
	typeArray
	typeTimestamp
	typeTable
	typeVoid
)

// rabbitTypeNames are the atoms RabbitMQ names field types by, for error
// texts that read like RabbitMQ's.
var rabbitTypeNames = [...]string{
	typeUnknown: "unknown", typeBool: "bool", typeInt8: "byte", typeUint8: "unsignedbyte",
	typeInt16: "short", typeUint16: "unsignedshort", typeInt32: "signedint",
	typeUint32: "unsignedint", typeInt64: "long", typeFloat32: "float",
	typeFloat64: "double", typeDecimal: "decimal", typeString: "longstr",
	typeBytes: "binary", typeArray: "array", typeTimestamp: "timestamp",
	typeTable: "table", typeVoid: "void",
}

func (t fieldType) String() string { return rabbitTypeNames[t] }

// typeOf maps a Go value of an amqp.Table to its field type.
func typeOf(v any) fieldType {
	switch v.(type) {
	case nil:
		return typeVoid
	case bool:
		return typeBool
	case int8:
		return typeInt8
	case uint8:
		return typeUint8
	case int16:
		return typeInt16
	case uint16:
		return typeUint16
	case int32:
		return typeInt32
	case uint32:
		return typeUint32
	case int64, int:
		return typeInt64
	case float32:
		return typeFloat32
	case float64:
		return typeFloat64
	case amqp.Decimal:
		return typeDecimal
	case string:
		return typeString
	case []byte:
		return typeBytes
	case []any:
		return typeArray
	case time.Time:
		return typeTimestamp
	case amqp.Table:
		return typeTable
	}
	return typeUnknown
}

// sameValue is the =:= of two {Type, Value} pairs: same field type and
// same value. It decides binding identity and compares the elements of
// arrays and nested tables, where RabbitMQ keeps the type next to each value.
// Nested tables compare in order: RabbitMQ sorts only the top level.
// Timestamps compare in whole seconds, the wire's precision.
func sameValue(a, b any) bool {
	ta := typeOf(a)
	if ta != typeOf(b) {
		return false
	}
	switch ta {
	case typeVoid:
		return true
	case typeBool:
		return a.(bool) == b.(bool)
	case typeInt8, typeUint8, typeInt16, typeUint16, typeInt32, typeUint32, typeInt64:
		x, _ := integer(a)
		y, _ := integer(b)
		return x == y
	case typeFloat32:
		return math.Float32bits(a.(float32)) == math.Float32bits(b.(float32))
	case typeFloat64:
		return math.Float64bits(a.(float64)) == math.Float64bits(b.(float64))
	case typeDecimal:
		return a.(amqp.Decimal) == b.(amqp.Decimal)
	case typeString:
		return a.(string) == b.(string)
	case typeBytes:
		return bytes.Equal(a.([]byte), b.([]byte))
	case typeTimestamp:
		return a.(time.Time).Unix() == b.(time.Time).Unix()
	case typeArray:
		x, y := a.([]any), b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case typeTable:
		return sameFields(a.(amqp.Table), b.(amqp.Table))
	}
	// Not a field type the codec produces; compare structurally rather
	// than panic on an uncomparable value.
	return reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.DeepEqual(a, b)
}

// sameFields compares two tables field by field, in order.
func sameFields(x, y amqp.Table) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].Key != y[i].Key || !sameValue(x[i].Value, y[i].Value) {
			return false
		}
	}
	return true
}

// cloneValue deep-copies the mutable parts of a field value (byte slices,
// arrays, tables), so that a stored binding never aliases a frame buffer
// or a caller's slice.
func cloneValue(v any) any {
	switch v := v.(type) {
	case []byte:
		return bytes.Clone(v)
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i := range v {
			out[i] = cloneValue(v[i])
		}
		return out
	case amqp.Table:
		return cloneTable(v)
	}
	return v
}

func cloneTable(t amqp.Table) amqp.Table {
	if t == nil {
		return nil
	}
	out := make(amqp.Table, len(t))
	for i, f := range t {
		out[i] = amqp.Field{Key: f.Key, Value: cloneValue(f.Value)}
	}
	return out
}
