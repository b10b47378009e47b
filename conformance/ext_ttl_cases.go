package conformance

// Message TTL (x-message-ttl, the expiration property) and queue expiry
// (x-expires).

import (
	"strconv"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		xCase("ttl-queue-expired-never-delivered", xTTLQueueNeverDelivered),
		xCase("ttl-message-expired-never-delivered", xTTLMessageNeverDelivered),
		xCase("ttl-zero-only-to-waiting-consumer", xTTLZero),
		xCase("ttl-message-lower-than-queue-wins", xTTLLowerWins(true)),
		xCase("ttl-queue-lower-than-message-wins", xTTLLowerWins(false)),
		xCase("ttl-expired-behind-head-skipped-and-dead-lettered", xTTLBehindHead),
		xCase("ttl-expiration-invalid-406", xTTLInvalidExpiration),
		xCase("expires-unused-queue-deleted", xExpiresUnused),
		xCase("expires-not-while-consumed", xExpiresInUse),
	)
}

// xTTLQueueNeverDelivered: once x-message-ttl has passed, a message is
// gone: neither basic.get nor a new consumer gets it.
func xTTLQueueNeverDelivered(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xttlq", amqp091.Table{"x-message-ttl": int32(xTTL)})
	aPublish(t, c, "", false, []string{q, q}, amqp091.Publishing{Body: []byte("m")})
	time.Sleep(xPastTTL)
	bGetEmpty(t, ch, q, "basic.get after the TTL")
	bNoDelivery(t, bConsume(t, aChannel(t, c), q, "late", false), "consumer started after the TTL")
}

// xTTLMessageNeverDelivered: the same for the expiration property.
func xTTLMessageNeverDelivered(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xttlm", nil)
	aPublish(t, c, "", false, []string{q, q}, amqp091.Publishing{Body: []byte("m"), Expiration: strconv.Itoa(xTTL)})
	time.Sleep(xPastTTL)
	bGetEmpty(t, ch, q, "basic.get after the expiration")
	bNoDelivery(t, bConsume(t, aChannel(t, c), q, "late", false), "consumer started after the expiration")
}

// xTTLZero: a TTL of 0 (queue or message) delivers a message only to a
// consumer that can take it at once; with no consumer it expires at once.
func xTTLZero(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xttl0", amqp091.Table{"x-message-ttl": int32(0)})
	m := xQueue(t, env, ch, "xttl0m", nil)
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("nobody")})
	aPublish(t, c, "", false, []string{m}, amqp091.Publishing{Body: []byte("nobody"), Expiration: "0"})
	bGetEmpty(t, ch, q, "x-message-ttl 0 without a consumer")
	bGetEmpty(t, ch, m, "expiration 0 without a consumer")
	cch := aChannel(t, c)
	dq := bConsume(t, cch, q, "cq", true)
	dm := bConsume(t, cch, m, "cm", true)
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("waiting")})
	aPublish(t, c, "", false, []string{m}, amqp091.Publishing{Body: []byte("waiting"), Expiration: "0"})
	if d := bRecv(t, dq, "x-message-ttl 0 with a consumer"); string(d.Body) != "waiting" {
		t.Fatalf("got %q, want \"waiting\"", d.Body)
	}
	if d := bRecv(t, dm, "expiration 0 with a consumer"); string(d.Body) != "waiting" {
		t.Fatalf("got %q, want \"waiting\"", d.Body)
	}
}

// xTTLLowerWins: with both a queue TTL and a message expiration, the lower
// applies: the message expires (and is dead-lettered, with reason
// "expired", from the head of a queue no one consumes) after the short one
// even though the other is five minutes.
func xTTLLowerWins(messageLower bool) func(T, *Env) {
	return func(t T, env *Env) {
		const long = "300000"
		queueTTL, expiration := int32(300000), strconv.Itoa(xTTL)
		if !messageLower {
			queueTTL, expiration = int32(xTTL), long
		}
		c, ch := env.Channel(t)
		dlq := xQueue(t, env, ch, "xdlq", nil)
		q := xQueue(t, env, ch, "xttl", amqp091.Table{"x-message-ttl": queueTTL, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
		start := time.Now()
		aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("m"), Expiration: expiration})
		got := xGet1(t, c, dlq, "expired message dead-lettered")
		if time.Since(start) < xTTL*time.Millisecond {
			t.Errorf("dead-lettered %v after publishing, before its TTL of %dms", time.Since(start), xTTL)
		}
		deaths := xDeaths(t, got.Headers, "expired message")
		if len(deaths) != 1 {
			t.Fatalf("x-death %+v, want 1 entry", deaths)
		}
		xExpectDeath(t, deaths[0], "x-death[0]", 1, "expired", q, "", []string{q}, start)
		if deaths[0].OriginalExpiration != expiration {
			t.Errorf("original-expiration %q, want %q", deaths[0].OriginalExpiration, expiration)
		}
		if got.Expiration != "" {
			t.Errorf("dead-lettered message has expiration %q, want none", got.Expiration)
		}
		xExpectFirstDeath(t, got.Headers, "expired message", "expired", q, "")
		xEmpty(t, c, q, "queue after expiry")
	}
}

// xTTLBehindHead: a message that expires behind one that does not is never
// delivered: it is skipped (and dead-lettered) when it reaches the head.
func xTTLBehindHead(t T, env *Env) {
	c, ch := env.Channel(t)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	q := xQueue(t, env, ch, "xttlh", amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	xPub(t, c, "", q, "keep1", amqp091.Publishing{})
	xPub(t, c, "", q, "expire", amqp091.Publishing{Expiration: strconv.Itoa(xTTL)})
	xPub(t, c, "", q, "keep2", amqp091.Publishing{})
	time.Sleep(xPastTTL)
	got := aDrain(t, c, q)
	xExpectBodies(t, got, "queue drained after the expiration", "keep1", "keep2")
	d := xGet1(t, c, dlq, "expired message dead-lettered")
	if string(d.Body) != "expire" {
		t.Fatalf("dead-lettered %q, want \"expire\"", d.Body)
	}
	if deaths := xDeaths(t, d.Headers, "expired message"); len(deaths) != 1 || deaths[0].Reason != "expired" {
		t.Fatalf("x-death %+v, want one entry with reason expired", deaths)
	}
}

// xTTLInvalidExpiration: an expiration property that is not a
// non-negative integer string (at most 315360000000 ms, ten years) closes
// the channel with 406.
func xTTLInvalidExpiration(t T, env *Env) {
	c := env.Dial(t)
	q := xQueue(t, env, aChannel(t, c), "xexp", nil)
	for _, tc := range []struct{ exp, detail string }{
		{"abc", "no_integer"},
		{" 100", "no_integer"},
		{"-1", "{value_negative,-1}"},
		{"1.5", `{leftover_string,".5"}`},
		{"315360000001", "{value_too_large,315360000001}"},
	} {
		text := "PRECONDITION_FAILED - invalid expiration '" + tc.exp + "': " + tc.detail
		xChannelClose(t, c, amqp091.PreconditionFailed, text, "publish with expiration "+strconv.Quote(tc.exp),
			func(ch *amqp091.Channel) error {
				return ch.Publish("", q, false, false, amqp091.Publishing{Expiration: tc.exp})
			})
	}
	xEmpty(t, c, q, "queue after the refused publishes")
}

// xExpiresUnused: a queue with x-expires that has no consumers and is not
// used is deleted after the period.
func xExpiresUnused(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xexpires", amqp091.Table{"x-expires": int32(300)})
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("m")})
	xQueueGone(t, c, q, "unused queue with x-expires 300 deleted")
}

// xExpiresInUse: a queue with a consumer does not expire; once the
// consumer is cancelled, it does.
func xExpiresInUse(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xexpires", amqp091.Table{"x-expires": int32(300)})
	cch := aChannel(t, c)
	bConsume(t, cch, q, "keeper", true)
	time.Sleep(1500 * time.Millisecond)
	if !aQueueExists(t, c, q) {
		t.Fatalf("queue with a consumer expired")
	}
	if err := cch.Cancel("keeper", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	xQueueGone(t, c, q, "queue deleted once its consumer is gone")
}
