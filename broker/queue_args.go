package broker

import (
	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// queueLimits reads x-max-length, x-max-length-bytes and x-overflow;
// nil means unlimited. The arguments were checked at declare
// (validateQueueArgs), so values of the wrong type are simply not there.
func queueLimits(args amqp.Table) *queue.Limits {
	l := &queue.Limits{MaxLength: -1, MaxBytes: -1}
	set := false
	if v, ok := args.Get("x-max-length"); ok {
		l.MaxLength, set = intOr(v, -1), true
	}
	if v, ok := args.Get("x-max-length-bytes"); ok {
		l.MaxBytes, set = intOr(v, -1), true
	}
	if v, _ := args.Get("x-overflow"); v == "reject-publish" || v == "reject-publish-dlx" {
		l.RejectPublish, l.RejectPublishDLX = true, v == "reject-publish-dlx"
	}
	if !set {
		return nil
	}
	return l
}

func intOr(v any, def int64) int64 {
	if n, ok := integerArg(v); ok {
		return n
	}
	return def
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
