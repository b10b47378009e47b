package conformance

// Consumer acknowledgement timeout.

import (
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(Case{
		Section: xSection, Name: "consumer-timeout-closes-channel-406", Run: xConsumerTimeout,
		RabbitMQ: "RabbitMQ 3.10 has no x-consumer-timeout queue argument; its consumer_timeout is node-wide " +
			"(default 30 min), read when a channel opens and checked once a minute, so a case cannot set it",
	})
}

// xConsumerTimeout: a delivery left unacknowledged longer than the
// queue's x-consumer-timeout (ms) closes its channel with 406 and
// RabbitMQ's text, and the message is requeued. Deliveries acked in time
// do not.
func xConsumerTimeout(t T, env *Env) {
	const timeout = 500
	c := env.Dial(t)
	q := xQueue(t, env, aChannel(t, c), "xctimeout", amqp091.Table{"x-consumer-timeout": int32(timeout)})

	cc := env.Dial(t)
	ch := aChannel(t, cc) // channel 1 of its connection, as the reply text says
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	ds := bConsume(t, ch, q, "slow", false)
	bPublish(t, env, q, "acked")
	if err := bRecv(t, ds, "first delivery").Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	time.Sleep(3 * timeout * time.Millisecond)
	bStillOpen(t, ch, closes, "channel whose deliveries were acked in time")

	bPublish(t, env, q, "held")
	if d := bRecv(t, ds, "second delivery"); string(d.Body) != "held" {
		t.Fatalf("got %q, want \"held\"", d.Body)
	}
	want := "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 500 ms. " +
		"This timeout value can be configured, see consumers doc guide to learn more"
	select {
	case e := <-closes:
		if e == nil || e.Code != amqp091.PreconditionFailed || !e.Server || e.Reason != want {
			t.Fatalf("channel closed with %+v, want server close 406 %q", e, want)
		}
	case <-time.After(xSlow):
		t.Fatalf("channel not closed within %v of an unacked delivery with x-consumer-timeout %dms", xSlow, timeout)
	}
	aConnUsable(t, cc, "connection after the channel timed out")
	d := xGet1(t, c, q, "timed-out delivery requeued")
	if string(d.Body) != "held" || !d.Redelivered {
		t.Fatalf("got %q redelivered=%v, want \"held\" redelivered", d.Body, d.Redelivered)
	}
}
