package conformance

// Direct reply-to: the amq.rabbitmq.reply-to pseudo-queue.

import (
	"strings"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// xReplyTo is the pseudo-queue of direct reply-to.
const xReplyTo = "amq.rabbitmq.reply-to"

func init() {
	register(
		xCase("reply-to-rpc", xReplyToRPC),
		xCase("reply-to-publish-without-consumer-406", xReplyToNoConsumer),
		xCase("reply-to-consume-with-acks-406", xReplyToAckMode),
		xCase("reply-to-consume-twice-406", xReplyToTwice),
		xCase("reply-to-passive-declare-and-gone-requester", xReplyToPassive),
	)
}

// xReplyToRPC: a client consumes from amq.rabbitmq.reply-to in no-ack mode
// and publishes a request with reply_to amq.rabbitmq.reply-to; the server
// sees reply_to rewritten to a name that starts with
// "amq.rabbitmq.reply-to." and publishes its reply to the default
// exchange under that name, from another connection; the client's consumer
// gets it, with that routing key. No queue is declared.
func xReplyToRPC(t T, env *Env) {
	c, ch := env.Channel(t)
	rq := xQueue(t, env, ch, "xrpc", nil)

	cc := env.Dial(t)
	cch := aChannel(t, cc)
	replies, err := cch.Consume(xReplyTo, "", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume %s no-ack: %v", xReplyTo, err)
	}
	if err := cch.Publish("", rq, false, false, amqp091.Publishing{ReplyTo: xReplyTo, CorrelationId: "c1", Body: []byte("ping")}); err != nil {
		t.Fatalf("basic.publish request: %v", err)
	}
	req := xGet1(t, c, rq, "request")
	if !strings.HasPrefix(req.ReplyTo, xReplyTo+".") || len(req.ReplyTo) <= len(xReplyTo)+1 {
		t.Fatalf("request reply_to %q, want a name starting %q", req.ReplyTo, xReplyTo+".")
	}
	if err := ch.Publish("", req.ReplyTo, false, false, amqp091.Publishing{CorrelationId: req.CorrelationId, Body: []byte("pong")}); err != nil {
		t.Fatalf("basic.publish reply: %v", err)
	}
	r := bRecv(t, replies, "reply")
	if string(r.Body) != "pong" || r.CorrelationId != "c1" {
		t.Fatalf("reply %q correlation-id %q, want \"pong\" c1", r.Body, r.CorrelationId)
	}
	if r.Exchange != "" || r.RoutingKey != req.ReplyTo {
		t.Errorf("reply delivered via exchange %q key %q, want \"\" and %q", r.Exchange, r.RoutingKey, req.ReplyTo)
	}
	// A second request on the same channel gets the same reply address.
	if err := cch.Publish("", rq, false, false, amqp091.Publishing{ReplyTo: xReplyTo, Body: []byte("ping2")}); err != nil {
		t.Fatalf("basic.publish request: %v", err)
	}
	if req2 := xGet1(t, c, rq, "second request"); req2.ReplyTo != req.ReplyTo {
		t.Errorf("second request reply_to %q, want the same %q", req2.ReplyTo, req.ReplyTo)
	}
}

// xReplyToNoConsumer: publishing with reply_to amq.rabbitmq.reply-to on a
// channel that does not consume from it closes the channel with 406.
func xReplyToNoConsumer(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xrpc", nil)
	xChannelClose(t, c, amqp091.PreconditionFailed, "PRECONDITION_FAILED - fast reply consumer does not exist",
		"publish with reply_to before consuming", func(ch *amqp091.Channel) error {
			return ch.Publish("", q, false, false, amqp091.Publishing{ReplyTo: xReplyTo})
		})
	xEmpty(t, c, q, "request queue")
}

// xReplyToAckMode: consuming from amq.rabbitmq.reply-to in ack mode is
// 406.
func xReplyToAckMode(t T, env *Env) {
	c := env.Dial(t)
	aChannelError(t, c, amqp091.PreconditionFailed, "PRECONDITION_FAILED - reply consumer cannot acknowledge",
		"basic.consume amq.rabbitmq.reply-to with acks", func(ch *amqp091.Channel) error {
			_, err := ch.Consume(xReplyTo, "", false, false, false, false, nil)
			return err
		})
}

// xReplyToTwice: a channel can have one reply-to consumer.
func xReplyToTwice(t T, env *Env) {
	c := env.Dial(t)
	aChannelError(t, c, amqp091.PreconditionFailed, "PRECONDITION_FAILED - reply consumer already set",
		"second basic.consume amq.rabbitmq.reply-to", func(ch *amqp091.Channel) error {
			if _, err := ch.Consume(xReplyTo, "one", true, false, false, false, nil); err != nil {
				t.Fatalf("first basic.consume: %v", err)
			}
			_, err := ch.Consume(xReplyTo, "two", true, false, false, false, nil)
			return err
		})
}

// xReplyToPassive: a passive declare of amq.rabbitmq.reply-to succeeds
// with 0 messages and 1 consumer (clients check for the feature this way).
// A responder can passive-declare a reply address to see whether the
// requester still waits: it exists (0 messages, 1 consumer) while the
// requester's reply consumer does, and is 404 once the requester has gone;
// a reply to a gone requester is dropped without an error.
func xReplyToPassive(t T, env *Env) {
	c, ch := env.Channel(t)
	q, err := ch.QueueDeclarePassive(xReplyTo, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive queue.declare %s: %v", xReplyTo, err)
	}
	if q.Name != xReplyTo || q.Messages != 0 || q.Consumers != 1 {
		t.Errorf("declare-ok %+v, want %s with 0 messages and 1 consumer", q, xReplyTo)
	}

	rq := xQueue(t, env, ch, "xrpc", nil)
	cc, err := aDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer cc.Close()
	cch := aChannel(t, cc)
	if _, err := cch.Consume(xReplyTo, "", true, false, false, false, nil); err != nil {
		t.Fatalf("basic.consume %s: %v", xReplyTo, err)
	}
	if err := cch.Publish("", rq, false, false, amqp091.Publishing{ReplyTo: xReplyTo}); err != nil {
		t.Fatalf("basic.publish request: %v", err)
	}
	addr := xGet1(t, c, rq, "request").ReplyTo
	q, err = aChannel(t, c).QueueDeclarePassive(addr, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive queue.declare of the reply address %q: %v", addr, err)
	}
	if q.Name != addr || q.Messages != 0 || q.Consumers != 1 {
		t.Errorf("declare-ok %+v, want %q with 0 messages and 1 consumer", q, addr)
	}
	if err := cc.Close(); err != nil {
		t.Fatalf("connection.close: %v", err)
	}
	aChannelError(t, c, amqp091.NotFound, qNotFound(env, addr), "passive declare of a gone requester's reply address",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(addr, false, false, false, false, nil)
			return err
		})
	pch := aChannel(t, c)
	closes := pch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := pch.Publish("", addr, false, false, amqp091.Publishing{Body: []byte("late")}); err != nil {
		t.Fatalf("basic.publish reply: %v", err)
	}
	bStillOpen(t, pch, closes, "reply to a gone requester")
}
