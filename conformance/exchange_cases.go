package conformance

import (
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "exchange", Name: "declare-each-type", Run: exDeclareEachType},
		Case{Section: "exchange", Name: "declare-durable", Run: exDeclareDurable},
		Case{Section: "exchange", Name: "passive-missing-404", Run: exPassiveMissing},
		Case{Section: "exchange", Name: "passive-ignores-properties", Run: exPassiveIgnoresProperties},
		Case{Section: "exchange", Name: "redeclare-type-406", Run: exRedeclareMismatch("type")},
		Case{Section: "exchange", Name: "redeclare-durable-406", Run: exRedeclareMismatch("durable")},
		Case{Section: "exchange", Name: "redeclare-auto-delete-406", Run: exRedeclareMismatch("auto_delete")},
		Case{Section: "exchange", Name: "redeclare-internal-406", Run: exRedeclareMismatch("internal")},
		Case{Section: "exchange", Name: "redeclare-args-406", Run: exRedeclareMismatch("alternate-exchange")},
		Case{Section: "exchange", Name: "declare-amq-prefix-403", Run: exDeclareAmqPrefix},
		Case{Section: "exchange", Name: "declare-unknown-type-503", Run: exDeclareUnknownType},
		Case{Section: "exchange", Name: "delete", Run: exDelete},
		Case{Section: "exchange", Name: "delete-if-unused-406", Run: exDeleteIfUnused},
		Case{Section: "exchange", Name: "delete-if-unused-ok", Run: exDeleteIfUnusedOK},
		Case{Section: "exchange", Name: "delete-missing-ok", Run: exDeleteMissing},
		Case{Section: "exchange", Name: "default-exchange-protected-403", Run: exDefaultProtected},
		Case{Section: "exchange", Name: "builtin-exchanges-exist", Run: exBuiltins},
		Case{Section: "exchange", Name: "internal-publish-403", Run: exInternalPublish},
		Case{Section: "exchange", Name: "internal-as-e2e-destination", Run: exInternalDestination},
		Case{Section: "exchange", Name: "e2e-bind-unbind", Run: exE2EBindUnbind},
		Case{Section: "exchange", Name: "e2e-bind-missing-404", Run: exE2EMissing},
		Case{Section: "exchange", Name: "e2e-loop-one-copy", Run: exE2ELoop},
		Case{Section: "exchange", Name: "e2e-diamond-one-copy", Run: exE2EDiamond},
		Case{Section: "exchange", Name: "auto-delete-stays-until-bound", Run: exAutoDeleteUnused},
		Case{Section: "exchange", Name: "auto-delete-on-last-unbind", Run: exAutoDeleteUnbind},
		Case{Section: "exchange", Name: "auto-delete-on-queue-delete", Run: exAutoDeleteQueueDelete},
		Case{Section: "exchange", Name: "auto-delete-e2e-source", Run: exAutoDeleteE2ESource},
		Case{Section: "exchange", Name: "auto-delete-e2e-destination-stays", Run: exAutoDeleteE2EDest},
		Case{Section: "exchange", Name: "direct-routing", Run: exDirectRouting},
		Case{Section: "exchange", Name: "fanout-ignores-key", Run: exFanout},
		Case{Section: "exchange", Name: "topic-routing", Run: exTopicRouting},
		Case{Section: "exchange", Name: "topic-one-copy-per-queue", Run: exTopicOneCopy},
		Case{Section: "exchange", Name: "headers-routing", Run: exHeadersRouting},
	)
}

func exNotFound(env *Env, name string) string {
	return "NOT_FOUND - no exchange '" + name + "' in vhost '" + aVhost(env) + "'"
}

// exDeclareEachType: every standard type declares, redeclares with the
// same properties and answers a passive declare.
func exDeclareEachType(t T, env *Env) {
	c, ch := env.Channel(t)
	for _, kind := range []string{"direct", "fanout", "topic", "headers"} {
		x := aExchange(t, env, ch, kind, kind)
		if err := ch.ExchangeDeclare(x, kind, false, false, false, false, nil); err != nil {
			t.Fatalf("redeclare %s exchange with the same properties: %v", kind, err)
		}
		if err := ch.ExchangeDeclarePassive(x, kind, false, false, false, false, nil); err != nil {
			t.Fatalf("passive declare of %s exchange: %v", kind, err)
		}
	}
	aConnUsable(t, c, "after declares")
}

// exDeclareDurable: durable and auto-delete variants declare and answer a
// passive declare.
func exDeclareDurable(t T, env *Env) {
	_, ch := env.Channel(t)
	for _, v := range []struct{ durable, autoDelete bool }{{true, false}, {true, true}, {false, true}} {
		x := Name("xdur")
		aDeleteExchangeLater(t, env, x)
		if err := ch.ExchangeDeclare(x, "direct", v.durable, v.autoDelete, false, false, nil); err != nil {
			t.Fatalf("declare durable=%v auto-delete=%v: %v", v.durable, v.autoDelete, err)
		}
		if err := ch.ExchangeDeclare(x, "direct", v.durable, v.autoDelete, false, false, nil); err != nil {
			t.Fatalf("redeclare durable=%v auto-delete=%v: %v", v.durable, v.autoDelete, err)
		}
	}
}

// exPassiveMissing: passive declare of a missing exchange: 404 on the
// channel, the connection survives.
func exPassiveMissing(t T, env *Env) {
	c := env.Dial(t)
	x := Name("nox")
	aChannelError(t, c, amqp091.NotFound, exNotFound(env, x), "passive exchange.declare of a missing exchange",
		func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclarePassive(x, "direct", false, false, false, false, nil)
		})
	if aExchangeExists(t, c, x) {
		t.Errorf("passive declare created exchange %q", x)
	}
}

// exPassiveIgnoresProperties: a passive declare only checks existence; the
// type, durable and auto-delete flags it carries are ignored (RabbitMQ).
func exPassiveIgnoresProperties(t T, env *Env) {
	_, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xpass", "direct")
	if err := ch.ExchangeDeclarePassive(x, "fanout", true, true, true, false, nil); err != nil {
		t.Fatalf("passive declare with other properties: %v", err)
	}
}

// exRedeclareMismatch: redeclaring with a different type, durable,
// auto-delete, internal flag or alternate-exchange argument fails with 406
// PRECONDITION_FAILED "inequivalent arg"; the exchange keeps its original
// properties (redeclaring with those still succeeds) and its bindings.
func exRedeclareMismatch(field string) func(T, *Env) {
	return func(t T, env *Env) {
		c, ch := env.Channel(t)
		x := aExchange(t, env, ch, "xre", "direct")
		q := aQueue(t, env, ch, "xre")
		aBind(t, ch, q, "k", x, nil)
		kind, durable, autoDelete, internal := "direct", false, false, false
		var args amqp091.Table
		var text string
		prefix := "PRECONDITION_FAILED - inequivalent arg '" + field + "' for exchange '" + x + "' in vhost '" + aVhost(env) + "': received "
		switch field {
		case "type":
			kind, text = "fanout", prefix+"'fanout' but current is 'direct'"
		case "durable":
			durable, text = true, prefix+"'true' but current is 'false'"
		case "auto_delete":
			autoDelete, text = true, prefix+"'true' but current is 'false'"
		case "internal":
			internal, text = true, prefix+"'true' but current is 'false'"
		case "alternate-exchange":
			args, text = amqp091.Table{"alternate-exchange": "amq.fanout"}, prefix+"the value 'amq.fanout' of type 'longstr' but current is none"
		}
		aChannelError(t, c, amqp091.PreconditionFailed, text, "redeclare with a different "+field,
			func(ch *amqp091.Channel) error {
				return ch.ExchangeDeclare(x, kind, durable, autoDelete, internal, false, args)
			})
		ch2 := aChannel(t, c)
		if err := ch2.ExchangeDeclare(x, "direct", false, false, false, false, nil); err != nil {
			t.Fatalf("redeclare with the original properties after the failure: %v", err)
		}
		aPublish1(t, c, x, "k", "still-bound")
		aExpectBodies(t, c, q, "binding after the failed redeclare", "still-bound")
	}
}

// exDeclareAmqPrefix: names starting "amq." are reserved: declaring a new
// one is refused with 403; a passive declare of a missing amq.* name is a
// 404.
func exDeclareAmqPrefix(t T, env *Env) {
	c := env.Dial(t)
	x := "amq." + Name("x")
	aChannelError(t, c, amqp091.AccessRefused,
		"ACCESS_REFUSED - exchange name '"+x+"' contains reserved prefix 'amq.*'", "declare "+x,
		func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare(x, "direct", false, false, false, false, nil)
		})
	if aExchangeExists(t, c, x) {
		aDeleteExchangeLater(t, env, x)
		t.Fatalf("refused declare created %q", x)
	}
	// The reserved-name check applies only to creation: redeclaring an
	// existing built-in exchange with its own properties succeeds, with
	// other properties it is the usual 406.
	if err := aChannel(t, c).ExchangeDeclare("amq.direct", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("redeclare amq.direct with its own properties: %v", err)
	}
	aChannelError(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct'", "redeclare amq.direct non-durable",
		func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare("amq.direct", "direct", false, false, false, false, nil)
		})
	aChannelError(t, c, amqp091.NotFound, exNotFound(env, x), "passive declare "+x,
		func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclarePassive(x, "direct", false, false, false, false, nil)
		})
	// "amq" without the dot is an ordinary name.
	ch := aChannel(t, c)
	plain := "amq" + Name("x")
	aDeleteExchangeLater(t, env, plain)
	if err := ch.ExchangeDeclare(plain, "direct", false, false, false, false, nil); err != nil {
		t.Fatalf("declare %q: %v", plain, err)
	}
}

// exDeclareUnknownType: an unknown exchange type is a connection error, 503
// COMMAND_INVALID, and nothing is created.
func exDeclareUnknownType(t T, env *Env) {
	x := Name("xtype")
	aConnectionError(t, env, amqp091.CommandInvalid, "COMMAND_INVALID - unknown exchange type 'x-no-such-type'",
		"declare with type x-no-such-type", func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare(x, "x-no-such-type", false, false, false, false, nil)
		})
	if aExchangeExists(t, env.Dial(t), x) {
		aDeleteExchangeLater(t, env, x)
		t.Fatalf("exchange %q exists after the refused declare", x)
	}
}

// exDelete: delete removes the exchange and its bindings: a new exchange of
// the same name does not route to the old binding's queue.
func exDelete(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xdel", "direct")
	q := aQueue(t, env, ch, "xdel")
	aBind(t, ch, q, "k", x, nil)
	if err := ch.ExchangeDelete(x, false, false); err != nil {
		t.Fatalf("exchange.delete: %v", err)
	}
	if aExchangeExists(t, c, x) {
		t.Fatalf("exchange %q still exists after delete", x)
	}
	if err := ch.ExchangeDeclare(x, "direct", false, false, false, false, nil); err != nil {
		t.Fatalf("redeclare after delete: %v", err)
	}
	aPublish1(t, c, x, "k", "m")
	if m, _ := aCounts(t, c, q); m != 0 {
		t.Fatalf("queue got %d messages through a binding of the deleted exchange", m)
	}
}

// exDeleteIfUnused: delete if-unused of an exchange with a queue binding is
// 406 PRECONDITION_FAILED; the exchange and its binding survive.
func exDeleteIfUnused(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xunused", "direct")
	q := aQueue(t, env, ch, "xunused")
	aBind(t, ch, q, "k", x, nil)
	aChannelError(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - exchange '"+x+"' in vhost '"+aVhost(env)+"' in use", "delete if-unused",
		func(ch *amqp091.Channel) error { return ch.ExchangeDelete(x, true, false) })
	aPublish1(t, c, x, "k", "m")
	aExpectBodies(t, c, q, "binding after the refused delete", "m")
	// An exchange-to-exchange binding with x as source counts too.
	ch2 := aChannel(t, c)
	if err := ch2.QueueUnbind(q, "k", x, nil); err != nil {
		t.Fatalf("queue.unbind: %v", err)
	}
	if err := ch2.ExchangeBind("amq.fanout", "k", x, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	aChannelError(t, c, amqp091.PreconditionFailed, "PRECONDITION_FAILED - exchange '"+x+"'",
		"delete if-unused with an exchange binding", func(ch *amqp091.Channel) error { return ch.ExchangeDelete(x, true, false) })
}

// exDeleteIfUnusedOK: an exchange with no bindings from it is unused, even
// when it is the destination of an exchange-to-exchange binding.
func exDeleteIfUnusedOK(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xunused", "direct")
	if err := ch.ExchangeDelete(x, true, false); err != nil {
		t.Fatalf("delete if-unused of an unbound exchange: %v", err)
	}
	if aExchangeExists(t, c, x) {
		t.Fatalf("exchange %q still exists", x)
	}
	src := aExchange(t, env, ch, "xsrc", "fanout")
	dst := aExchange(t, env, ch, "xdst", "fanout")
	if err := ch.ExchangeBind(dst, "", src, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	if err := ch.ExchangeDelete(dst, true, false); err != nil {
		t.Fatalf("delete if-unused of an exchange that is only a binding destination: %v", err)
	}
	if aExchangeExists(t, c, dst) {
		t.Fatalf("exchange %q still exists", dst)
	}
}

// exDeleteMissing: deleting an exchange that does not exist succeeds
// (RabbitMQ 3.x made exchange.delete idempotent).
func exDeleteMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	if err := ch.ExchangeDelete(Name("nox"), false, false); err != nil {
		t.Fatalf("exchange.delete of a missing exchange: %v", err)
	}
	if err := ch.ExchangeDelete(Name("nox"), true, false); err != nil {
		t.Fatalf("exchange.delete if-unused of a missing exchange: %v", err)
	}
	aConnUsable(t, c, "after deleting missing exchanges")
}

// exDefaultProtected: the default exchange cannot be declared (not even
// passively), deleted or bound/unbound (403 ACCESS_REFUSED); it still
// routes by queue name afterwards.
func exDefaultProtected(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "xdef")
	const text = "ACCESS_REFUSED - operation not permitted on the default exchange"
	for _, op := range []struct {
		what string
		f    func(ch *amqp091.Channel) error
	}{
		{"exchange.delete \"\"", func(ch *amqp091.Channel) error { return ch.ExchangeDelete("", false, false) }},
		{"exchange.declare \"\"", func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare("", "direct", true, false, false, false, nil)
		}},
		{"passive exchange.declare \"\"", func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclarePassive("", "direct", true, false, false, false, nil)
		}},
		{"queue.bind to \"\"", func(ch *amqp091.Channel) error { return ch.QueueBind(q, "other", "", false, nil) }},
		{"queue.unbind from \"\"", func(ch *amqp091.Channel) error { return ch.QueueUnbind(q, q, "", nil) }},
		{"exchange.bind with source \"\"", func(ch *amqp091.Channel) error {
			return ch.ExchangeBind("amq.fanout", "k", "", false, nil)
		}},
		{"exchange.bind with destination \"\"", func(ch *amqp091.Channel) error {
			return ch.ExchangeBind("", "k", "amq.fanout", false, nil)
		}},
	} {
		aChannelError(t, c, amqp091.AccessRefused, text, op.what, op.f)
	}
	aPublish1(t, c, "", q, "direct-to-queue")
	aPublish1(t, c, "", "other", "not-bound")
	aExpectBodies(t, c, q, "default exchange after the refusals", "direct-to-queue")
}

// exBuiltins: the built-in exchanges exist in every vhost and route as
// their types say (amq.match is a second headers exchange).
func exBuiltins(t T, env *Env) {
	c, ch := env.Channel(t)
	for _, x := range []string{"amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"} {
		if err := ch.ExchangeDeclarePassive(x, "direct", true, false, false, false, nil); err != nil {
			t.Fatalf("passive declare of %s: %v", x, err)
		}
	}
	// Keys and header values are the queue's unique name, so other users of
	// these shared exchanges cannot interfere.
	q := aQueue(t, env, ch, "xbuiltin")
	aBind(t, ch, q, q, "amq.direct", nil)
	aBind(t, ch, q, q+".*", "amq.topic", nil)
	aBind(t, ch, q, "", "amq.headers", amqp091.Table{"x-match": "all", "hq": q})
	aBind(t, ch, q, "", "amq.match", amqp091.Table{"x-match": "all", "mq": q})
	aPublish1(t, c, "amq.direct", q, "direct")
	aPublish1(t, c, "amq.topic", q+".x", "topic")
	aPublish(t, c, "amq.headers", false, []string{"any"}, amqp091.Publishing{Headers: amqp091.Table{"hq": q}, Body: []byte("headers")})
	aPublish(t, c, "amq.match", false, []string{"any"}, amqp091.Publishing{Headers: amqp091.Table{"mq": q}, Body: []byte("match")})
	aExpectBodies(t, c, q, "built-in exchanges", "direct", "topic", "headers", "match")
	aBind(t, ch, q, "ignored", "amq.fanout", nil)
	aPublish1(t, c, "amq.fanout", "whatever", q)
	found := false
	for _, b := range aDrain(t, c, q) {
		found = found || b == q
	}
	if !found {
		t.Errorf("amq.fanout did not route to a bound queue")
	}
}

// exInternalPublish: publishing to an internal exchange closes the channel
// with 403 ACCESS_REFUSED (publish is asynchronous: the close arrives
// later); the connection survives.
func exInternalPublish(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xint")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "fanout", false, false, true, false, nil); err != nil {
		t.Fatalf("declare internal exchange: %v", err)
	}
	pch := aChannel(t, c)
	closes := pch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := pch.Publish(x, "", false, false, amqp091.Publishing{Body: []byte("m")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	WaitClose(t, closes, amqp091.AccessRefused, "publish to an internal exchange")
	aConnUsable(t, c, "after publishing to an internal exchange")
}

// exInternalDestination: an internal exchange receives messages through an
// exchange-to-exchange binding and routes them on.
func exInternalDestination(t T, env *Env) {
	c, ch := env.Channel(t)
	src := aExchange(t, env, ch, "xsrc", "direct")
	in := Name("xint")
	aDeleteExchangeLater(t, env, in)
	if err := ch.ExchangeDeclare(in, "fanout", false, false, true, false, nil); err != nil {
		t.Fatalf("declare internal exchange: %v", err)
	}
	q := aQueue(t, env, ch, "xint")
	aBind(t, ch, q, "", in, nil)
	if err := ch.ExchangeBind(in, "k", src, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	aPublish1(t, c, src, "k", "via-internal")
	aExpectBodies(t, c, q, "through an internal exchange", "via-internal")
}

// exE2EBindUnbind: exchange.bind makes the destination exchange receive
// what the source routes under the binding key; exchange.unbind stops it.
func exE2EBindUnbind(t T, env *Env) {
	c, ch := env.Channel(t)
	src := aExchange(t, env, ch, "xsrc", "topic")
	dst := aExchange(t, env, ch, "xdst", "direct")
	q := aQueue(t, env, ch, "e2e")
	aBind(t, ch, q, "a.b", dst, nil)
	if err := ch.ExchangeBind(dst, "a.*", src, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	// Source's binding key selects, destination routes with the message's
	// own routing key.
	aPublish(t, c, src, false, []string{"a.b", "a.c", "b.b"}, amqp091.Publishing{})
	aExpectBodies(t, c, q, "after exchange.bind", "a.b")
	if err := ch.ExchangeUnbind(dst, "a.*", src, false, nil); err != nil {
		t.Fatalf("exchange.unbind: %v", err)
	}
	aPublish(t, c, src, false, []string{"a.b"}, amqp091.Publishing{})
	aExpectBodies(t, c, q, "after exchange.unbind")
	// Unbinding again (binding gone) is fine.
	if err := ch.ExchangeUnbind(dst, "a.*", src, false, nil); err != nil {
		t.Fatalf("exchange.unbind of a missing binding: %v", err)
	}
}

// exE2EMissing: exchange.bind with a missing source or destination is 404.
func exE2EMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xe2e", "direct")
	missing := Name("nox")
	aChannelError(t, c, amqp091.NotFound, exNotFound(env, missing), "exchange.bind from a missing source",
		func(ch *amqp091.Channel) error { return ch.ExchangeBind(x, "k", missing, false, nil) })
	aChannelError(t, c, amqp091.NotFound, exNotFound(env, missing), "exchange.bind to a missing destination",
		func(ch *amqp091.Channel) error { return ch.ExchangeBind(missing, "k", x, false, nil) })
}

// exE2ELoop: bindings a->b and b->a with a queue on each: a message
// published to either exchange reaches each queue exactly once.
func exE2ELoop(t T, env *Env) {
	c, ch := env.Channel(t)
	a := aExchange(t, env, ch, "xloopa", "fanout")
	b := aExchange(t, env, ch, "xloopb", "fanout")
	qa := aQueue(t, env, ch, "loopa")
	qb := aQueue(t, env, ch, "loopb")
	aBind(t, ch, qa, "", a, nil)
	aBind(t, ch, qb, "", b, nil)
	if err := ch.ExchangeBind(b, "", a, false, nil); err != nil {
		t.Fatalf("exchange.bind a->b: %v", err)
	}
	if err := ch.ExchangeBind(a, "", b, false, nil); err != nil {
		t.Fatalf("exchange.bind b->a: %v", err)
	}
	aPublish1(t, c, a, "k", "to-a")
	aPublish1(t, c, b, "k", "to-b")
	aExpectBodies(t, c, qa, "queue on a", "to-a", "to-b")
	aExpectBodies(t, c, qb, "queue on b", "to-a", "to-b")
	// A self-binding is legal and harmless too.
	if err := ch.ExchangeBind(a, "", a, false, nil); err != nil {
		t.Fatalf("exchange.bind a->a: %v", err)
	}
	aPublish1(t, c, a, "k", "self")
	aExpectBodies(t, c, qa, "queue on a, with a self-binding", "self")
	aExpectBodies(t, c, qb, "queue on b, with a self-binding", "self")
}

// exE2EDiamond: a->b, a->c, b->d, c->d and a queue bound to d (and to b):
// one publish to a reaches the queue once.
func exE2EDiamond(t T, env *Env) {
	c, ch := env.Channel(t)
	a := aExchange(t, env, ch, "xdia", "fanout")
	b := aExchange(t, env, ch, "xdib", "fanout")
	cx := aExchange(t, env, ch, "xdic", "fanout")
	d := aExchange(t, env, ch, "xdid", "fanout")
	for _, e := range [][2]string{{a, b}, {a, cx}, {b, d}, {cx, d}} {
		if err := ch.ExchangeBind(e[1], "", e[0], false, nil); err != nil {
			t.Fatalf("exchange.bind: %v", err)
		}
	}
	q := aQueue(t, env, ch, "diamond")
	aBind(t, ch, q, "", d, nil)
	aBind(t, ch, q, "", b, nil)
	aPublish1(t, c, a, "k", "once")
	aExpectBodies(t, c, q, "diamond", "once")
}

// exAutoDeleteUnused: an auto-delete exchange that never had a binding
// stays (it is deleted only when its last binding goes).
func exAutoDeleteUnused(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xad")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete exchange: %v", err)
	}
	aPublish1(t, c, x, "k", "m")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	if !aExchangeExists(t, env.Dial(t), x) {
		t.Fatalf("auto-delete exchange %q without bindings vanished", x)
	}
}

// exAutoDeleteUnbind: an auto-delete exchange disappears when its last
// queue binding is removed, not before.
func exAutoDeleteUnbind(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xad")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "direct", false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete exchange: %v", err)
	}
	q := aQueue(t, env, ch, "xad")
	aBind(t, ch, q, "k1", x, nil)
	aBind(t, ch, q, "k2", x, nil)
	if err := ch.QueueUnbind(q, "k1", x, nil); err != nil {
		t.Fatalf("queue.unbind k1: %v", err)
	}
	if !aExchangeExists(t, c, x) {
		t.Fatalf("auto-delete exchange vanished while a binding remained")
	}
	if err := ch.QueueUnbind(q, "k2", x, nil); err != nil {
		t.Fatalf("queue.unbind k2: %v", err)
	}
	if aExchangeExists(t, c, x) {
		t.Fatalf("auto-delete exchange still exists after its last unbind")
	}
}

// exAutoDeleteQueueDelete: deleting the only bound queue removes the
// binding and with it the auto-delete exchange.
func exAutoDeleteQueueDelete(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xad")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "fanout", false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete exchange: %v", err)
	}
	q := aQueue(t, env, ch, "xad")
	aBind(t, ch, q, "", x, nil)
	if _, err := ch.QueueDelete(q, false, false, false); err != nil {
		t.Fatalf("queue.delete: %v", err)
	}
	if aExchangeExists(t, c, x) {
		t.Fatalf("auto-delete exchange still exists after its only bound queue was deleted")
	}
}

// exAutoDeleteE2ESource: an auto-delete exchange that is the source of an
// exchange-to-exchange binding goes when that binding is removed.
func exAutoDeleteE2ESource(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xad")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "fanout", false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete exchange: %v", err)
	}
	dst := aExchange(t, env, ch, "xaddst", "fanout")
	if err := ch.ExchangeBind(dst, "", x, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	if err := ch.ExchangeUnbind(dst, "", x, false, nil); err != nil {
		t.Fatalf("exchange.unbind: %v", err)
	}
	if aExchangeExists(t, c, x) {
		t.Fatalf("auto-delete source exchange still exists after its last binding went")
	}
	if !aExchangeExists(t, c, dst) {
		t.Fatalf("destination exchange vanished")
	}
}

// exAutoDeleteE2EDest: an auto-delete exchange that is only the destination
// of a binding is not "used" by it: removing that binding leaves it alone.
func exAutoDeleteE2EDest(t T, env *Env) {
	c, ch := env.Channel(t)
	x := Name("xad")
	aDeleteExchangeLater(t, env, x)
	if err := ch.ExchangeDeclare(x, "fanout", false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete exchange: %v", err)
	}
	src := aExchange(t, env, ch, "xadsrc", "fanout")
	if err := ch.ExchangeBind(x, "", src, false, nil); err != nil {
		t.Fatalf("exchange.bind: %v", err)
	}
	if err := ch.ExchangeUnbind(x, "", src, false, nil); err != nil {
		t.Fatalf("exchange.unbind: %v", err)
	}
	if !aExchangeExists(t, c, x) {
		t.Fatalf("auto-delete exchange vanished when a binding to it (not from it) went")
	}
}

// exDirectRouting: exact key match; two queues under one key both get the
// message; one queue under two keys gets each message once.
func exDirectRouting(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xdirect", "direct")
	q1 := aQueue(t, env, ch, "direct1")
	q2 := aQueue(t, env, ch, "direct2")
	aBind(t, ch, q1, "k", x, nil)
	aBind(t, ch, q2, "k", x, nil)
	aBind(t, ch, q2, "k2", x, nil)
	aBind(t, ch, q2, "k2", x, nil) // duplicate binding: no second copy
	aBind(t, ch, q1, "", x, nil)
	aPublish(t, c, x, false, []string{"k", "k2", "K", "k.x", ""}, amqp091.Publishing{})
	aExpectBodies(t, c, q1, "q1 bound with k and the empty key", "k", "")
	aExpectBodies(t, c, q2, "q2 bound with k and k2", "k", "k2")
}

// exFanout: a fanout exchange ignores the routing key and the binding key.
func exFanout(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xfanout", "fanout")
	q1 := aQueue(t, env, ch, "fan1")
	q2 := aQueue(t, env, ch, "fan2")
	aBind(t, ch, q1, "bound-key", x, nil)
	aBind(t, ch, q2, "", x, nil)
	aBind(t, ch, q2, "other", x, nil)
	aPublish(t, c, x, false, []string{"", "x", "bound-key"}, amqp091.Publishing{})
	aExpectBodies(t, c, q1, "fanout q1", "", "x", "bound-key")
	aExpectBodies(t, c, q2, "fanout q2 (two bindings)", "", "x", "bound-key")
}

// exTopicRouting: '*' is exactly one word (possibly empty), '#' zero or
// more words anywhere; the empty routing key has zero words.
func exTopicRouting(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xtopic", "topic")
	keys := []string{
		"quick.orange.rabbit", "lazy.orange.elephant", "lazy", "a.b", "a.x.y.b",
		"z", "", "x.", ".", "a.b.c", "orange", "b.z", "a..b",
	}
	table := []struct {
		pattern string
		want    []string
	}{
		{"*.orange.*", []string{"quick.orange.rabbit", "lazy.orange.elephant"}},
		{"*.*.rabbit", []string{"quick.orange.rabbit"}},
		{"lazy.#", []string{"lazy.orange.elephant", "lazy"}},
		{"#", keys},
		{"#.#", keys},
		{"a.#.b", []string{"a.b", "a.x.y.b", "a..b"}},
		{"#.z", []string{"z", "b.z"}},
		{"", []string{""}},
		{"*", []string{"lazy", "z", "orange"}},
		{"a.*.#", []string{"a.b", "a.x.y.b", "a.b.c", "a..b"}},
		{"*.*", []string{"a.b", "x.", ".", "b.z"}},
		{"x.*", []string{"x."}},
		{"a.b", []string{"a.b"}},
	}
	queues := make([]string, len(table))
	for i, row := range table {
		queues[i] = aQueue(t, env, ch, fmt.Sprintf("topic%d", i))
		aBind(t, ch, queues[i], row.pattern, x, nil)
	}
	aPublish(t, c, x, false, keys, amqp091.Publishing{})
	for i, row := range table {
		aExpectBodies(t, c, queues[i], fmt.Sprintf("pattern %q", row.pattern), row.want...)
	}
}

// exTopicOneCopy: a queue bound under several matching patterns gets one
// copy of each message.
func exTopicOneCopy(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xtopic1", "topic")
	q := aQueue(t, env, ch, "topic1")
	for _, p := range []string{"a.*", "#", "a.b", "*.b", "a.#"} {
		aBind(t, ch, q, p, x, nil)
	}
	aPublish1(t, c, x, "a.b", "once")
	aExpectBodies(t, c, q, "five matching bindings", "once")
}

// exHeadersRouting: x-match all (the default) and any; binding arguments
// starting "x-" are not matched; a binding without match arguments matches
// everything under "all" and nothing under "any"; a void binding value
// matches presence; integer widths compare by value but a string never
// equals a number; the routing key is ignored.
func exHeadersRouting(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "xheaders", "headers")
	bindings := []struct {
		name string
		args amqp091.Table
		want []string
	}{
		{"all", amqp091.Table{"x-match": "all", "format": "pdf", "type": "report"}, []string{"m1", "m9"}},
		{"any", amqp091.Table{"x-match": "any", "format": "pdf", "type": "log"}, []string{"m1", "m2", "m3", "m9"}},
		{"default-all", amqp091.Table{"format": "pdf"}, []string{"m1", "m2", "m9"}},
		{"all-empty", amqp091.Table{"x-match": "all"}, []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}},
		{"any-empty", amqp091.Table{"x-match": "any"}, nil},
		{"int", amqp091.Table{"count": int32(5)}, []string{"m5"}},
		{"void", amqp091.Table{"flag": nil}, []string{"m7"}},
		{"x-ignored", amqp091.Table{"x-match": "all", "x-custom": "zzz", "format": "zip"}, []string{"m8"}},
	}
	msgs := []struct {
		id  string
		hdr amqp091.Table
	}{
		{"m1", amqp091.Table{"format": "pdf", "type": "report"}},
		{"m2", amqp091.Table{"format": "pdf", "type": "log"}},
		{"m3", amqp091.Table{"type": "log"}},
		{"m4", nil},
		{"m5", amqp091.Table{"count": int64(5)}},
		{"m6", amqp091.Table{"count": "5"}},
		{"m7", amqp091.Table{"flag": "anything"}},
		{"m8", amqp091.Table{"format": "zip"}},
		{"m9", amqp091.Table{"format": "pdf", "type": "report", "extra": int32(1)}},
	}
	queues := make([]string, len(bindings))
	for i, b := range bindings {
		queues[i] = aQueue(t, env, ch, "hdr-"+b.name)
		aBind(t, ch, queues[i], "ignored-key-"+b.name, x, b.args)
	}
	for _, m := range msgs {
		aPublish(t, c, x, false, []string{"rk-" + m.id}, amqp091.Publishing{Headers: m.hdr, Body: []byte(m.id)})
	}
	for i, b := range bindings {
		aExpectBodies(t, c, queues[i], "headers binding "+b.name, b.want...)
	}
}
