package broker

import (
	"fmt"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// queueLimits reads x-max-length, x-max-length-bytes and x-overflow from
// queue.declare arguments, with RabbitMQ's validation (406 on a bad type
// or value).
func queueLimits(args amqp.Table, name, vhost string) (*queue.Limits, error) {
	l := &queue.Limits{MaxLength: -1, MaxBytes: -1}
	set := false
	for _, f := range []struct {
		key string
		dst *int64
	}{{"x-max-length", &l.MaxLength}, {"x-max-length-bytes", &l.MaxBytes}} {
		v, ok := args.Get(f.key)
		if !ok {
			continue
		}
		n, ok := integerArg(v)
		if !ok {
			return nil, invalidArg(f.key, name, vhost, fmt.Sprintf("\"expected integer, got %s\"", fieldTypeName(v)))
		}
		if n < 0 {
			return nil, invalidArg(f.key, name, vhost, fmt.Sprintf("{value_negative,%d}", n))
		}
		*f.dst, set = n, true
	}
	if v, ok := args.Get("x-overflow"); ok {
		s, isStr := v.(string)
		switch {
		case !isStr:
			return nil, invalidArg("x-overflow", name, vhost, fmt.Sprintf("{unacceptable_type,%s}", fieldTypeName(v)))
		case s == "reject-publish":
			l.RejectPublish = true
		case s == "reject-publish-dlx":
			l.RejectPublish, l.RejectPublishDLX = true, true
		case s != "drop-head":
			return nil, invalidArg("x-overflow", name, vhost, "invalid_overflow")
		}
	}
	if !set {
		return nil, nil
	}
	return l, nil
}

// integerArg accepts the integer field types RabbitMQ accepts for
// numeric arguments.
func integerArg(v any) (int64, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case int16:
		return int64(n), true
	case uint16:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

func invalidArg(key, queueName, vhost, reason string) error {
	return amqp.NewError(amqp.PreconditionFailed, classQueue, 10,
		"invalid arg '%s' for queue '%s' in vhost '%s': %s", key, queueName, vhost, reason)
}
