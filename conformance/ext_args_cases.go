package conformance

// Validation of the x- arguments: wrong types and out-of-range values are
// 406 PRECONDITION_FAILED with RabbitMQ's wording, and redeclaring a queue
// compares the arguments RabbitMQ compares.

import (
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// xBadArg is one refused value. detail is the Erlang term RabbitMQ prints
// after "invalid arg '...' for queue '...' in vhost '...': "; text, if
// set, is a complete reply text with %[1]s for the queue name and %[2]s
// for the vhost.
type xBadArg struct {
	val    any
	detail string
	text   string
}

func init() {
	const longstr = `"expected integer, got longstr"`
	register(
		xCase("args-invalid-x-message-ttl-406", xBadQueueArgs("x-message-ttl", []xBadArg{
			{val: "1000", detail: longstr},
			{val: 1.5, detail: `"expected integer, got double"`},
			{val: true, detail: `"expected integer, got bool"`},
			{val: int32(-1), detail: "{value_negative,-1}"},
			{val: int64(315360000001), detail: "{value_too_large,315360000001}"},
		})),
		xCase("args-invalid-x-expires-406", xBadQueueArgs("x-expires", []xBadArg{
			{val: "1000", detail: longstr},
			{val: int32(0), detail: "{value_zero,0}"},
			{val: int32(-5), detail: "{value_negative,-5}"},
			{val: int64(315360000001), detail: "{value_too_large,315360000001}"},
		})),
		xCase("args-invalid-x-max-length-406", xBadQueueArgs("x-max-length", []xBadArg{
			{val: "10", detail: longstr},
			{val: float64(3), detail: `"expected integer, got double"`},
			{val: int32(-1), detail: "{value_negative,-1}"},
		})),
		xCase("args-invalid-x-max-length-bytes-406", xBadQueueArgs("x-max-length-bytes", []xBadArg{
			{val: "x", detail: longstr},
			{val: int64(-1), detail: "{value_negative,-1}"},
		})),
		xCase("args-invalid-x-overflow-406", xBadQueueArgs("x-overflow", []xBadArg{
			{val: "drop-tail", detail: "invalid_overflow"},
			{val: "", detail: "invalid_overflow"},
			{val: int32(1), detail: "{unacceptable_type,signedint}"},
			{val: []byte("drop-head"), detail: "{unacceptable_type,binary}"},
		})),
		xCase("args-invalid-x-max-priority-406", xBadQueueArgs("x-max-priority", []xBadArg{
			{val: "5", detail: longstr},
			{val: int32(256), detail: "{max_value_exceeded,256}"},
			{val: int32(-1), detail: "{value_negative,-1}"},
		})),
		xCase("args-invalid-x-dead-letter-exchange-406", xBadQueueArgs("x-dead-letter-exchange", []xBadArg{
			{val: int32(1), text: "PRECONDITION_FAILED - invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue '%[1]s' in vhost '%[2]s'"},
			{val: true, text: "PRECONDITION_FAILED - invalid type 'bool' for arg 'x-dead-letter-exchange' in queue '%[1]s' in vhost '%[2]s'"},
		})),
		xCase("args-invalid-x-dead-letter-routing-key-406", xBadQueueArgs("x-dead-letter-routing-key", []xBadArg{
			{val: "rk", detail: "routing_key_but_no_dlx_defined"},
			{val: int32(1), detail: "{unacceptable_type,signedint}"},
		})),
		xCase("args-invalid-x-single-active-consumer-406", xBadQueueArgs("x-single-active-consumer", []xBadArg{
			{val: "true", detail: "{unacceptable_type,longstr}"},
			{val: int32(1), detail: "{unacceptable_type,signedint}"},
		})),
		xCase("args-invalid-x-queue-mode-406", xBadQueueArgs("x-queue-mode", []xBadArg{
			{val: "fast", detail: `"unsupported queue mode 'fast'"`},
			{val: int32(1), detail: "{unacceptable_type,signedint}"},
		})),
		xCase("args-invalid-x-queue-version-406", xBadQueueArgs("x-queue-version", []xBadArg{
			{val: int32(3), detail: `"unsupported queue version '3'"`},
		})),
		xCase("args-invalid-x-priority-on-consume-406", xBadConsumePriority),
		xCase("args-invalid-alternate-exchange-406", xBadAlternateExchange),
		xCase("args-valid-edge-values", xArgsValidEdges),
		xCase("args-redeclare-equivalent", xArgsRedeclareEquivalent),
	)
	// Redeclaring with a different value (or without the argument, or with
	// it where the queue has none) of each argument RabbitMQ compares.
	for _, tc := range []struct {
		arg        string
		orig, new  any // nil: absent
		recv, curr string
	}{
		{"x-message-ttl", int32(1000), int32(2000), "'2000'", "'1000'"},
		{"x-message-ttl", int32(1000), nil, "none", "the value '1000' of type 'signedint'"},
		{"x-message-ttl", int32(1000), "1000", "'1000'", "'1000'"},
		{"x-expires", int32(100000), int32(200000), "'200000'", "'100000'"},
		{"x-dead-letter-exchange", "a", "b", "'b'", "'a'"},
		{"x-dead-letter-routing-key", "k", "j", "'j'", "'k'"},
		{"x-max-length", int32(5), int32(6), "'6'", "'5'"},
		{"x-max-length-bytes", int64(5000), nil, "none", "the value '5000' of type 'long'"},
		{"x-max-priority", nil, int32(5), "the value '5' of type 'signedint'", "none"},
		{"x-max-priority", int32(5), int32(6), "'6'", "'5'"},
		{"x-overflow", "drop-head", "reject-publish", "'reject-publish'", "'drop-head'"},
		{"x-overflow", "drop-head", nil, "none", "the value 'drop-head' of type 'longstr'"},
		{"x-queue-mode", "lazy", "default", "'default'", "'lazy'"},
		{"x-single-active-consumer", true, false, "'false'", "'true'"},
		{"x-single-active-consumer", true, nil, "none", "the value 'true' of type 'bool'"},
		{"x-queue-version", int32(1), int32(2), "'2'", "'1'"},
	} {
		name := fmt.Sprintf("args-redeclare-%s-%s-406", tc.arg, xArgShape(tc.orig, tc.new))
		register(xCase(name, xRedeclareArg(tc.arg, tc.orig, tc.new, tc.recv, tc.curr)))
	}
}

func xArgShape(orig, new any) string {
	switch {
	case orig == nil:
		return "added"
	case new == nil:
		return "removed"
	case fmt.Sprintf("%T", orig) != fmt.Sprintf("%T", new):
		return "other-type"
	}
	return "changed"
}

// xBadQueueArgs: queue.declare with each bad value of arg is a channel
// error 406 with RabbitMQ's text, and creates no queue.
func xBadQueueArgs(arg string, bad []xBadArg) func(T, *Env) {
	return func(t T, env *Env) {
		c := env.Dial(t)
		for _, b := range bad {
			q := Name("xbadarg")
			aDeleteQueueLater(t, env, q)
			args := amqp091.Table{arg: b.val}
			text := xInvalidArg(env, arg, q, b.detail)
			if b.text != "" {
				text = fmt.Sprintf(b.text, q, aVhost(env))
			}
			xChannelClose(t, c, amqp091.PreconditionFailed, text, fmt.Sprintf("queue.declare with %s = %#v", arg, b.val),
				func(ch *amqp091.Channel) error {
					_, err := ch.QueueDeclare(q, false, false, false, false, args)
					return err
				})
			if aQueueExists(t, c, q) {
				t.Errorf("queue %q declared with %s = %#v exists", q, arg, b.val)
			}
		}
	}
}

// xBadConsumePriority: basic.consume's x-priority must be an integer.
func xBadConsumePriority(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xcprio", nil)
	for _, b := range []xBadArg{
		{val: "5", detail: `"expected integer, got longstr"`},
		{val: true, detail: `"expected integer, got bool"`},
		{val: 1.5, detail: `"expected integer, got double"`},
	} {
		xChannelClose(t, c, amqp091.PreconditionFailed, xInvalidArg(env, "x-priority", q, b.detail),
			fmt.Sprintf("basic.consume with x-priority = %#v", b.val), func(ch *amqp091.Channel) error {
				_, err := ch.Consume(q, "", false, false, false, false, amqp091.Table{"x-priority": b.val})
				return err
			})
	}
	if _, n := aCounts(t, c, q); n != 0 {
		t.Errorf("queue has %d consumers after the refused basic.consume, want 0", n)
	}
}

// xBadAlternateExchange: alternate-exchange must be a string.
func xBadAlternateExchange(t T, env *Env) {
	c := env.Dial(t)
	x := Name("xbadae")
	aDeleteExchangeLater(t, env, x)
	xChannelClose(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange '"+x+"' in vhost '"+aVhost(env)+"'",
		"exchange.declare with alternate-exchange = 1", func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare(x, "direct", false, false, false, false, amqp091.Table{"alternate-exchange": int32(1)})
		})
	if aExchangeExists(t, c, x) {
		t.Errorf("refused exchange %q exists", x)
	}
}

// xArgsValidEdges: the edge values RabbitMQ accepts, every integer width,
// and unknown x- arguments (ignored).
func xArgsValidEdges(t T, env *Env) {
	c, ch := env.Channel(t)
	for _, args := range []amqp091.Table{
		{"x-message-ttl": int32(0)},
		{"x-message-ttl": int64(315360000000)},
		{"x-expires": int32(1)},
		{"x-expires": int64(315360000000)},
		{"x-max-length": int32(0)},
		{"x-max-length-bytes": int32(0)},
		{"x-max-priority": int32(0)},
		{"x-max-priority": int32(255)},
		{"x-max-priority": uint8(10)},
		{"x-max-priority": int8(10)},
		{"x-max-priority": int16(10)},
		{"x-max-priority": int64(10)},
		{"x-overflow": "drop-head"},
		{"x-overflow": "reject-publish"},
		{"x-overflow": "reject-publish-dlx"},
		{"x-dead-letter-exchange": ""},
		{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": ""},
		{"x-single-active-consumer": false},
		{"x-queue-mode": "default"},
		{"x-queue-mode": "lazy"},
		{"x-queue-version": int32(1)},
		{"x-queue-version": int32(2)},
		{"x-no-such-argument": "ignored"},
	} {
		xQueue(t, env, ch, "xedge", args)
	}
	q := xQueue(t, env, ch, "xedge", nil)
	for _, p := range []any{int32(-10), int64(1) << 40, uint8(3)} {
		if _, err := aChannel(t, c).Consume(q, "", false, false, false, false, amqp091.Table{"x-priority": p}); err != nil {
			t.Errorf("basic.consume with x-priority %#v: %v", p, err)
		}
	}
}

// xArgsRedeclareEquivalent: redeclaring with the same values in another
// integer width, with different unknown arguments, or with
// x-queue-type "classic" where the queue has none, is fine.
func xArgsRedeclareEquivalent(t T, env *Env) {
	_, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xequiv", amqp091.Table{"x-message-ttl": int32(1000), "x-max-length": int16(7), "x-custom": "a"})
	for _, args := range []amqp091.Table{
		{"x-message-ttl": int64(1000), "x-max-length": int32(7), "x-custom": "b"},
		{"x-message-ttl": int16(1000), "x-max-length": uint8(7)},
		{"x-message-ttl": int32(1000), "x-max-length": int64(7), "x-queue-type": "classic"},
	} {
		if _, err := ch.QueueDeclare(q, false, false, false, false, args); err != nil {
			t.Fatalf("redeclare with %v: %v", args, err)
		}
	}
	if _, err := ch.QueueDeclarePassive(q, false, false, false, false, amqp091.Table{"x-message-ttl": int32(5)}); err != nil {
		t.Fatalf("passive declare with other arguments: %v", err)
	}
}

// xRedeclareArg: redeclaring a queue with a different value of a compared
// argument is 406 "inequivalent arg"; the queue keeps its arguments.
func xRedeclareArg(arg string, orig, new any, recv, curr string) func(T, *Env) {
	return func(t T, env *Env) {
		c, ch := env.Channel(t)
		table := func(v any) amqp091.Table {
			if v == nil {
				return nil
			}
			tab := amqp091.Table{arg: v}
			if arg == "x-dead-letter-routing-key" {
				tab["x-dead-letter-exchange"] = "dlx"
			}
			return tab
		}
		q := xQueue(t, env, ch, "xredecl", table(orig))
		text := fmt.Sprintf("PRECONDITION_FAILED - inequivalent arg '%s' for queue '%s' in vhost '%s': received %s but current is %s",
			arg, q, aVhost(env), recv, curr)
		xChannelClose(t, c, amqp091.PreconditionFailed, text, fmt.Sprintf("redeclare with %s %#v (was %#v)", arg, new, orig),
			func(ch *amqp091.Channel) error {
				_, err := ch.QueueDeclare(q, false, false, false, false, table(new))
				return err
			})
		if _, err := aChannel(t, c).QueueDeclare(q, false, false, false, false, table(orig)); err != nil {
			t.Fatalf("redeclare with the original arguments: %v", err)
		}
	}
}
