package conformance

// Queue length limits: x-max-length, x-max-length-bytes and the x-overflow
// behaviours.

import (
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		xCase("maxlen-drop-head-dead-letters", xMaxLenDropHead),
		xCase("maxlen-bytes-drop-head", xMaxLenBytes),
		xCase("maxlen-reject-publish-nack", xMaxLenRejectPublish),
		xCase("maxlen-reject-publish-dlx", xMaxLenRejectPublishDLX),
	)
}

// xMaxLenDropHead: with x-max-length (default overflow drop-head) the
// oldest messages make room for new ones; the dropped ones are
// dead-lettered with reason "maxlen"; every publish is confirmed with an
// ack.
func xMaxLenDropHead(t T, env *Env) {
	c, ch := env.Channel(t)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	q := xQueue(t, env, ch, "xmaxlen", amqp091.Table{"x-max-length": int32(2), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	start := time.Now()
	acks := xPubConfirm(t, c, "", q, xBodyMsgs("1", "2", "3", "4")...)
	for i, ok := range acks {
		if !ok {
			t.Fatalf("publish %d nacked; drop-head accepts every message", i+1)
		}
	}
	xExpectBodies(t, aDrain(t, c, q), "queue with x-max-length 2", "3", "4")
	got := xGetN(t, c, dlq, 2, "dropped messages dead-lettered")
	xExpectBodies(t, bBodies(got), "dead-lettered in drop order", "1", "2")
	for _, d := range got {
		deaths := xDeaths(t, d.Headers, "dropped message")
		if len(deaths) != 1 {
			t.Fatalf("x-death %+v, want 1 entry", deaths)
		}
		xExpectDeath(t, deaths[0], "x-death[0]", 1, "maxlen", q, "", []string{q}, start)
		xExpectFirstDeath(t, d.Headers, "dropped message", "maxlen", q, "")
	}
}

// xMaxLenBytes: x-max-length-bytes counts message bodies; drop-head drops
// from the head until the total fits, which drops a new message larger
// than the limit too.
func xMaxLenBytes(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xmaxbytes", amqp091.Table{"x-max-length-bytes": int32(10)})
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("aaaa")})
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("bbbb")})
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("cccc")})
	if n, _ := aCounts(t, c, q); n != 2 {
		t.Fatalf("queue holds %d messages of 4 bytes, want 2 under a 10-byte limit", n)
	}
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("dd")})
	xExpectBodies(t, aDrain(t, c, q), "queue with x-max-length-bytes 10", "bbbb", "cccc", "dd")
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("ee")})
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("0123456789X")})
	xEmpty(t, c, q, "queue after an 11-byte message under a 10-byte limit")
}

// xMaxLenRejectPublish: x-overflow reject-publish refuses messages once
// the queue is full: the publisher gets basic.nack under confirms, the
// queue keeps the old ones, nothing is dead-lettered, and without confirms
// the message is dropped without a channel error. Room made by consuming
// is usable again.
func xMaxLenRejectPublish(t T, env *Env) {
	c, ch := env.Channel(t)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	q := xQueue(t, env, ch, "xrejpub", amqp091.Table{
		"x-max-length": int32(2), "x-overflow": "reject-publish",
		"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
	})
	acks := xPubConfirm(t, c, "", q, xBodyMsgs("1", "2", "3", "4")...)
	if !acks[0] || !acks[1] || acks[2] || acks[3] {
		t.Fatalf("confirms %v, want ack ack nack nack", acks)
	}
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte("5")}); err != nil {
		t.Fatalf("basic.publish without confirms: %v", err)
	}
	bStillOpen(t, ch, closes, "publish to a full reject-publish queue without confirms")
	d := bGet(t, ch, q, true, "basic.get")
	if string(d.Body) != "1" {
		t.Fatalf("head %q, want \"1\"", d.Body)
	}
	if acks := xPubConfirm(t, c, "", q, xBodyMsgs("6")...); !acks[0] {
		t.Fatalf("publish after making room nacked")
	}
	xExpectBodies(t, aDrain(t, c, q), "queue", "2", "6")
	time.Sleep(bQuiet)
	xEmpty(t, c, dlq, "dead-letter queue (reject-publish does not dead-letter)")
}

// xMaxLenRejectPublishDLX: x-overflow reject-publish-dlx nacks like
// reject-publish and also dead-letters the refused message, with reason
// "maxlen".
func xMaxLenRejectPublishDLX(t T, env *Env) {
	c, ch := env.Channel(t)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	q := xQueue(t, env, ch, "xrejdlx", amqp091.Table{
		"x-max-length": int32(2), "x-overflow": "reject-publish-dlx",
		"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
	})
	start := time.Now()
	acks := xPubConfirm(t, c, "", q, xBodyMsgs("1", "2", "3", "4")...)
	if !acks[0] || !acks[1] || acks[2] || acks[3] {
		t.Fatalf("confirms %v, want ack ack nack nack", acks)
	}
	xExpectBodies(t, aDrain(t, c, q), "queue", "1", "2")
	got := xGetN(t, c, dlq, 2, "refused messages dead-lettered")
	xExpectBodies(t, bBodies(got), "dead-lettered", "3", "4")
	for _, d := range got {
		deaths := xDeaths(t, d.Headers, "refused message")
		if len(deaths) != 1 {
			t.Fatalf("x-death %+v, want 1 entry", deaths)
		}
		xExpectDeath(t, deaths[0], "x-death[0]", 1, "maxlen", q, "", []string{q}, start)
	}
}
