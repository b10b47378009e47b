package broker

import (
	"fmt"
	"math"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// Argument validation in RabbitMQ's words (rabbit_amqqueue:check_*_arg):
// every failure is 406 PRECONDITION_FAILED with a text a client author can
// search for.

// maxTTL is RabbitMQ's upper bound for x-message-ttl and x-expires (10
// years in milliseconds).
const maxTTL = 315360000000

// fieldTypeName is RabbitMQ's name for a field value's AMQP type.
func fieldTypeName(v any) string {
	switch v.(type) {
	case string:
		return "longstr"
	case []byte:
		return "binary"
	case bool:
		return "bool"
	case int8:
		return "byte"
	case uint8:
		return "unsignedbyte"
	case int16:
		return "short"
	case uint16:
		return "unsignedshort"
	case int32:
		return "signedint"
	case uint32:
		return "unsignedint"
	case int64, int:
		return "long"
	case float32:
		return "float"
	case float64:
		return "double"
	case amqp.Decimal:
		return "decimal"
	case time.Time:
		return "timestamp"
	case amqp.Table:
		return "table"
	case []any:
		return "array"
	case nil:
		return "void"
	}
	return fmt.Sprintf("%T", v)
}

type argCheck func(v any) string // "" when valid, else RabbitMQ's detail

func intArg(min int64, max int64, zeroErr bool) argCheck {
	return func(v any) string {
		n, ok := integerArg(v)
		if !ok {
			return fmt.Sprintf("\"expected integer, got %s\"", fieldTypeName(v))
		}
		switch {
		case n < 0 && min >= 0:
			return fmt.Sprintf("{value_negative,%d}", n)
		case n == 0 && zeroErr:
			return "{value_zero,0}"
		case n > max && max == 255:
			return fmt.Sprintf("{max_value_exceeded,%d}", n)
		case n > max:
			return fmt.Sprintf("{value_too_large,%d}", n)
		}
		return ""
	}
}

func typeArg(check func(v any) bool) argCheck {
	return func(v any) string {
		if !check(v) {
			return fmt.Sprintf("{unacceptable_type,%s}", fieldTypeName(v))
		}
		return ""
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isBool(v any) bool   { _, ok := v.(bool); return ok }

var queueArgChecks = map[string]argCheck{
	"x-message-ttl":             intArg(0, maxTTL, false),
	"x-expires":                 intArg(0, maxTTL, true),
	"x-max-length":              intArg(0, math.MaxInt64, false),
	"x-max-length-bytes":        intArg(0, math.MaxInt64, false),
	"x-max-priority":            intArg(0, 255, false),
	"x-consumer-timeout":        intArg(0, maxTTL, false),
	"x-dead-letter-routing-key": typeArg(isString),
	"x-single-active-consumer":  typeArg(isBool),
	"x-overflow": func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("{unacceptable_type,%s}", fieldTypeName(v))
		}
		if s != "drop-head" && s != "reject-publish" && s != "reject-publish-dlx" {
			return "invalid_overflow"
		}
		return ""
	},
	"x-queue-mode": func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("{unacceptable_type,%s}", fieldTypeName(v))
		}
		if s != "default" && s != "lazy" {
			return fmt.Sprintf("\"unsupported queue mode '%s'\"", s)
		}
		return ""
	},
	"x-queue-version": func(v any) string {
		n, ok := integerArg(v)
		if !ok {
			return fmt.Sprintf("\"expected integer, got %s\"", fieldTypeName(v))
		}
		if n != 1 && n != 2 {
			return fmt.Sprintf("\"unsupported queue version '%d'\"", n)
		}
		return ""
	},
}

// validateQueueArgs checks queue.declare arguments as RabbitMQ does.
func validateQueueArgs(args amqp.Table, name, vhost string) error {
	for _, f := range args {
		if f.Key == "x-dead-letter-exchange" {
			if !isString(f.Value) {
				return amqp.NewError(amqp.PreconditionFailed, classQueue, 10,
					"invalid type '%s' for arg 'x-dead-letter-exchange' in queue '%s' in vhost '%s'", fieldTypeName(f.Value), name, vhost)
			}
			continue
		}
		if check := queueArgChecks[f.Key]; check != nil {
			if detail := check(f.Value); detail != "" {
				return invalidArg(f.Key, name, vhost, detail)
			}
		}
	}
	if args.Has("x-dead-letter-routing-key") && !args.Has("x-dead-letter-exchange") {
		return invalidArg("x-dead-letter-routing-key", name, vhost, "routing_key_but_no_dlx_defined")
	}
	return nil
}

// validateExchangeArgs checks exchange.declare arguments.
func validateExchangeArgs(args amqp.Table, name, vhost string) error {
	if v, ok := args.Get("alternate-exchange"); ok && !isString(v) {
		return amqp.NewError(amqp.PreconditionFailed, classExchange, 10,
			"invalid type '%s' for arg 'alternate-exchange' in exchange '%s' in vhost '%s'", fieldTypeName(v), name, vhost)
	}
	return nil
}

// consumerPriority reads basic.consume's x-priority argument.
func consumerPriority(args amqp.Table, queueName, vhost string) (int32, error) {
	v, ok := args.Get("x-priority")
	if !ok {
		return 0, nil
	}
	n, isInt := integerArg(v)
	if !isInt {
		return 0, amqp.NewError(amqp.PreconditionFailed, classBasic, 20,
			"invalid arg 'x-priority' for queue '%s' in vhost '%s': \"expected integer, got %s\"", queueName, vhost, fieldTypeName(v))
	}
	return int32(max(min(n, math.MaxInt32), math.MinInt32)), nil
}

// argsEquivalent compares the named arguments of a redeclaration as
// rabbit_misc:assert_args_equivalence does: integers of any width are
// equal by value; the text shows both values, or the type of the one that
// is present when the other is missing.
func argsEquivalent(received, current amqp.Table, keys []string, kind, name, vhost string, class, method uint16) error {
	for _, k := range keys {
		r, rok := received.Get(k)
		c, cok := current.Get(k)
		if !rok && !cok {
			continue
		}
		if rok && cok && sameArg(r, c) {
			continue
		}
		if k == "x-queue-type" && ((rok && r == "classic" && !cok) || (cok && c == "classic" && !rok)) {
			continue
		}
		var text string
		switch {
		case rok && cok:
			text = fmt.Sprintf("received '%v' but current is '%v'", argText(r), argText(c))
		case rok:
			text = fmt.Sprintf("received the value '%v' of type '%s' but current is none", argText(r), fieldTypeName(r))
		default:
			text = fmt.Sprintf("received none but current is the value '%v' of type '%s'", argText(c), fieldTypeName(c))
		}
		return amqp.NewError(amqp.PreconditionFailed, class, method,
			"inequivalent arg '%s' for %s '%s' in vhost '%s': %s", k, kind, name, vhost, text)
	}
	return nil
}

func sameArg(a, b any) bool {
	if x, ok := integerArg(a); ok {
		y, ok := integerArg(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return fmt.Sprint(a) == fmt.Sprint(b) && fieldTypeName(a) == fieldTypeName(b)
}

func argText(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
