package conformance

import (
	"errors"
	"fmt"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "channel", Name: "open-close", Run: chanOpenClose},
		Case{Section: "channel", Name: "many-channels", Run: chanMany},
		Case{Section: "channel", Name: "reopen-same-id", Run: chanReopenSameID},
		Case{Section: "channel", Name: "flow-active", Run: chanFlowActive},
		Case{Section: "channel", Name: "flow-inactive-540", Run: chanFlowInactive},
		Case{Section: "channel", Name: "closed-by-error", Run: chanClosedByError},
		Case{Section: "channel", Name: "error-isolated-from-siblings", Run: chanErrorIsolated},
		Case{Section: "channel", Name: "close-cancels-consumers", Run: chanCloseCancelsConsumers},
		Case{Section: "channel", Name: "close-requeues-unacked", Run: chanCloseRequeues},
	)
}

// chanOpenClose: channel.open/close round trips; methods on a closed
// channel fail (amqp091-go answers ErrClosed, 504, without a round trip)
// and the connection stays usable.
func chanOpenClose(t T, env *Env) {
	c := env.Dial(t)
	ch := aChannel(t, c)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.ExchangeDeclarePassive("amq.direct", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("passive exchange.declare on a new channel: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	select {
	case e, ok := <-closes:
		if ok && e != nil {
			t.Fatalf("close listener got %v, want a clean close", e)
		}
	case <-time.After(Timeout):
		t.Fatalf("close listener not notified")
	}
	if !ch.IsClosed() {
		t.Errorf("channel not closed after channel.close")
	}
	err := ch.ExchangeDeclarePassive("amq.direct", "direct", true, false, false, false, nil)
	ExpectCode(t, err, amqp091.ChannelError, "method on a closed channel")
	aConnUsable(t, c, "after channel.close")
}

// chanMany: 200 channels on one connection, each answering a method, then
// closed; the connection is fine afterwards.
func chanMany(t T, env *Env) {
	c := env.Dial(t)
	var chs []*amqp091.Channel
	for i := 0; i < 200; i++ {
		ch, err := c.Channel()
		if err != nil {
			t.Fatalf("channel.open #%d: %v", i+1, err)
		}
		chs = append(chs, ch)
	}
	for i, ch := range chs {
		if err := ch.ExchangeDeclarePassive("amq.fanout", "fanout", true, false, false, false, nil); err != nil {
			t.Fatalf("channel #%d: passive exchange.declare: %v", i+1, err)
		}
	}
	for i, ch := range chs {
		if err := ch.Close(); err != nil {
			t.Fatalf("channel #%d: channel.close: %v", i+1, err)
		}
	}
	aConnUsable(t, c, "after closing 200 channels")
}

// chanReopenSameID: with channel-max 1 the only channel id is 1, so
// reopening after close reuses the id, after a clean close and after a
// close by a channel error.
func chanReopenSameID(t T, env *Env) {
	c := aDialConfig(t, env, amqp091.Config{ChannelMax: 1})
	for i := 0; i < 3; i++ {
		ch := aChannel(t, c)
		if err := ch.ExchangeDeclarePassive("amq.topic", "topic", true, false, false, false, nil); err != nil {
			t.Fatalf("round %d: passive exchange.declare: %v", i, err)
		}
		if err := ch.Close(); err != nil {
			t.Fatalf("round %d: channel.close: %v", i, err)
		}
	}
	missing := Name("missing")
	for i := 0; i < 3; i++ {
		ch := aChannel(t, c)
		_, err := ch.QueueDeclarePassive(missing, false, false, false, false, nil)
		ExpectCode(t, err, amqp091.NotFound, fmt.Sprintf("round %d: passive declare of a missing queue", i))
	}
	aConnUsable(t, c, "after reusing channel 1")
}

// chanFlowActive: channel.flow active=true is answered flow-ok(true).
func chanFlowActive(t T, env *Env) {
	c, ch := env.Channel(t)
	if err := ch.Flow(true); err != nil {
		t.Fatalf("channel.flow(true): %v", err)
	}
	if err := ch.ExchangeDeclarePassive("amq.direct", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("channel unusable after channel.flow(true): %v", err)
	}
	aConnUsable(t, c, "after channel.flow(true)")
}

// chanFlowInactive: RabbitMQ does not implement client-initiated
// channel.flow active=false: it closes the connection with 540
// NOT_IMPLEMENTED "active=false".
func chanFlowInactive(t T, env *Env) {
	aConnectionError(t, env, amqp091.NotImplemented, "NOT_IMPLEMENTED - active=false", "channel.flow(false)",
		func(ch *amqp091.Channel) error { return ch.Flow(false) })
}

// chanClosedByError: a channel error (404) closes the channel: the failing
// method returns the error, close listeners get it, and later methods on
// that channel fail with 504 without reaching the broker.
func chanClosedByError(t T, env *Env) {
	c := env.Dial(t)
	missing := Name("missing")
	aChannelError(t, c, amqp091.NotFound, "NOT_FOUND - no queue '"+missing+"' in vhost '"+aVhost(env)+"'",
		"passive declare of a missing queue", func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(missing, false, false, false, false, nil)
			if err != nil {
				// The dead channel refuses further work.
				_, err2 := ch.QueueDeclare("", false, true, true, false, nil)
				if ReplyCode(err2) != amqp091.ChannelError {
					t.Errorf("method after the channel error: %v, want 504", err2)
				}
				if err2 := ch.Publish("", "x", false, false, amqp091.Publishing{}); !errors.Is(err2, amqp091.ErrClosed) {
					t.Errorf("publish after the channel error: %v, want ErrClosed", err2)
				}
			}
			return err
		})
}

// chanErrorIsolated: an error on one channel leaves its siblings, their
// consumers and the connection alone.
func chanErrorIsolated(t T, env *Env) {
	c := env.Dial(t)
	ch1 := aChannel(t, c)
	ch2 := aChannel(t, c)
	closes2 := ch2.NotifyClose(make(chan *amqp091.Error, 1))
	q := aQueue(t, env, ch1, "iso")
	ds, err := ch2.Consume(q, "iso", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	missing := Name("missing")
	if _, err := ch1.QueueDeclarePassive(missing, false, false, false, false, nil); ReplyCode(err) != amqp091.NotFound {
		t.Fatalf("passive declare of a missing queue: %v, want 404", err)
	}
	if !ch1.IsClosed() {
		t.Fatalf("channel with the error still open")
	}
	if ch2.IsClosed() || c.IsClosed() {
		t.Fatalf("sibling channel closed %v, connection closed %v", ch2.IsClosed(), c.IsClosed())
	}
	aPublish1(t, c, "", q, "after")
	select {
	case d := <-ds:
		if string(d.Body) != "after" {
			t.Errorf("sibling's consumer got %q, want %q", d.Body, "after")
		}
	case e := <-closes2:
		t.Fatalf("sibling channel closed: %v", e)
	case <-time.After(Timeout):
		t.Fatalf("sibling's consumer got nothing within %v", Timeout)
	}
	if _, _, err := ch2.Get(q, true); err != nil {
		t.Fatalf("sibling channel unusable: %v", err)
	}
}

// chanCloseCancelsConsumers: closing a channel cancels its consumers: the
// queue's consumer count drops to 0 once close-ok arrives.
func chanCloseCancelsConsumers(t T, env *Env) {
	c := env.Dial(t)
	ch := aChannel(t, c)
	q := aQueue(t, env, ch, "ccancel")
	for i := 0; i < 2; i++ {
		if _, err := ch.Consume(q, "", false, false, false, false, nil); err != nil {
			t.Fatalf("basic.consume: %v", err)
		}
	}
	if _, n := aCounts(t, c, q); n != 2 {
		t.Fatalf("consumer count %d, want 2", n)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	if _, n := aCounts(t, c, q); n != 0 {
		t.Fatalf("consumer count %d after channel.close, want 0", n)
	}
}

// chanCloseRequeues: unacknowledged deliveries of a closed channel go back
// to the queue, marked redelivered.
func chanCloseRequeues(t T, env *Env) {
	c := env.Dial(t)
	ch := aChannel(t, c)
	q := aQueue(t, env, ch, "crequeue")
	aPublish(t, c, "", false, []string{q, q}, amqp091.Publishing{Body: []byte("m")})
	for i := 0; i < 2; i++ {
		if _, ok, err := ch.Get(q, false); err != nil || !ok {
			t.Fatalf("basic.get #%d: ok=%v err=%v", i+1, ok, err)
		}
	}
	if m, _ := aCounts(t, c, q); m != 0 {
		t.Fatalf("ready count %d with both messages unacked, want 0", m)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	if m, _ := aCounts(t, c, q); m != 2 {
		t.Fatalf("ready count %d after channel.close, want 2", m)
	}
	ch2 := aChannel(t, c)
	d, ok, err := ch2.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("basic.get after requeue: ok=%v err=%v", ok, err)
	}
	if !d.Redelivered {
		t.Errorf("requeued message not marked redelivered")
	}
}
