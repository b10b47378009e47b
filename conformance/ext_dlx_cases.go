package conformance

// Dead-lettering: x-dead-letter-exchange and x-dead-letter-routing-key, the
// x-death header, and RabbitMQ's cycle detection.

import (
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		xCase("dlx-reject-x-death", xDLXReject),
		xCase("dlx-nack-multiple-and-requeue", xDLXNack),
		xCase("dlx-routing-key-replaces-keys-and-cc", xDLXRoutingKey),
		xCase("dlx-keeps-routing-keys-and-cc", xDLXKeepsKeys),
		xCase("dlx-count-increments-on-repeat", xDLXCountIncrements),
		xCase("dlx-retry-loop-through-reject", xDLXRetryLoop),
		xCase("dlx-cycle-self-on-expiry-dropped", xDLXCycleSelf),
		xCase("dlx-cycle-two-queues-on-expiry-dropped", xDLXCycleTwo),
		xCase("dlx-missing-exchange-drops", xDLXMissing),
	)
}

// xDLXReject: basic.reject without requeue dead-letters the message to the
// queue's dead-letter exchange under its original routing key, with its
// properties and headers, without its expiration (kept in x-death as
// original-expiration), and with an x-death entry (count 1, reason
// "rejected", the queue, the exchange it was published to, its routing
// keys, the time) and the x-first-death-* headers.
func xDLXReject(t T, env *Env) {
	c, ch := env.Channel(t)
	dlx := xExchange(t, env, ch, "xdlx", "fanout", nil)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	aBind(t, ch, dlq, "", dlx, nil)
	src := xQueue(t, env, ch, "xsrc", amqp091.Table{"x-dead-letter-exchange": dlx})
	x := xExchange(t, env, ch, "xpub", "direct", nil)
	aBind(t, ch, src, "rk", x, nil)

	start := time.Now()
	xPub(t, c, x, "rk", "m1", amqp091.Publishing{
		Expiration: "600000", CorrelationId: "cid", ContentType: "text/plain",
		Headers: amqp091.Table{"h": "v"},
	})
	d := bGet(t, ch, src, false, "basic.get from the source queue")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	got := xGet1(t, c, dlq, "dead-lettered message")
	if string(got.Body) != "m1" || got.Exchange != dlx || got.RoutingKey != "rk" {
		t.Fatalf("dead-lettered %q via exchange %q key %q, want m1 via %q key rk", got.Body, got.Exchange, got.RoutingKey, dlx)
	}
	if got.CorrelationId != "cid" || got.ContentType != "text/plain" || got.Headers["h"] != "v" {
		t.Errorf("properties not kept: correlation-id %q content-type %q headers %v", got.CorrelationId, got.ContentType, got.Headers)
	}
	if got.Expiration != "" {
		t.Errorf("dead-lettered message has expiration %q, want none (RabbitMQ moves it to x-death original-expiration)", got.Expiration)
	}
	deaths := xDeaths(t, got.Headers, "dead-lettered message")
	if len(deaths) != 1 {
		t.Fatalf("x-death has %d entries %+v, want 1", len(deaths), deaths)
	}
	xExpectDeath(t, deaths[0], "x-death[0]", 1, "rejected", src, x, []string{"rk"}, start)
	if deaths[0].OriginalExpiration != "600000" {
		t.Errorf("x-death original-expiration %q, want \"600000\"", deaths[0].OriginalExpiration)
	}
	xExpectFirstDeath(t, got.Headers, "dead-lettered message", "rejected", src, x)
	xEmpty(t, c, src, "source queue after the reject")
}

// xDLXNack: basic.nack with multiple and without requeue dead-letters
// every message it covers, in order; reject or nack with requeue puts the
// message back instead.
func xDLXNack(t T, env *Env) {
	c, ch := env.Channel(t)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	src := xQueue(t, env, ch, "xsrc", amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
	bPublish(t, env, src, bNums(5)...)
	var last amqp091.Delivery
	for i := 0; i < 3; i++ {
		last = bGet(t, ch, src, false, "basic.get")
	}
	if err := ch.Nack(last.DeliveryTag, true, false); err != nil {
		t.Fatalf("basic.nack multiple: %v", err)
	}
	d := bGet(t, ch, src, false, "basic.get the 4th")
	if err := d.Reject(true); err != nil {
		t.Fatalf("basic.reject requeue: %v", err)
	}
	d = bGet(t, ch, src, false, "basic.get the 5th or the requeued 4th")
	if err := d.Nack(false, true); err != nil {
		t.Fatalf("basic.nack requeue: %v", err)
	}
	got := xGetN(t, c, dlq, 3, "nacked messages")
	xExpectBodies(t, bBodies(got), "dead-lettered by one nack", "1", "2", "3")
	for i, g := range got {
		deaths := xDeaths(t, g.Headers, "nacked message")
		if len(deaths) != 1 || deaths[0].Reason != "rejected" || deaths[0].Count != 1 || deaths[0].Queue != src {
			t.Fatalf("nacked message %d: x-death %+v, want one entry count 1 reason rejected queue %q", i+1, deaths, src)
		}
	}
	if got := aDrain(t, c, src); !aSameSet(got, []string{"4", "5"}) {
		t.Fatalf("source queue holds %q, want the requeued 4 and 5", got)
	}
	xEmpty(t, c, dlq, "dead-letter queue after the 3 nacked messages")
}

// xDLXRoutingKey: x-dead-letter-routing-key replaces the routing keys of
// the dead-lettered message, and the CC header goes; x-death still lists
// the original routing key and the CC keys.
func xDLXRoutingKey(t T, env *Env) {
	c, ch := env.Channel(t)
	dlx := xExchange(t, env, ch, "xdlx", "direct", nil)
	dlq := xQueue(t, env, ch, "xdlq", nil)
	aBind(t, ch, dlq, "dead", dlx, nil)
	other := xQueue(t, env, ch, "xdlo", nil)
	aBind(t, ch, other, "a", dlx, nil)
	aBind(t, ch, other, "b", dlx, nil)
	src := xQueue(t, env, ch, "xsrc", amqp091.Table{"x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "dead"})
	x := xExchange(t, env, ch, "xpub", "direct", nil)
	aBind(t, ch, src, "a", x, nil)
	aBind(t, ch, src, "b", x, nil)

	start := time.Now()
	xPub(t, c, x, "a", "m", amqp091.Publishing{Headers: amqp091.Table{"CC": []any{"b"}}})
	d := bGet(t, ch, src, false, "basic.get from the source queue")
	xEmpty(t, c, src, "source queue (one copy for key and CC key)")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	got := xGet1(t, c, dlq, "dead-lettered message")
	if got.RoutingKey != "dead" {
		t.Errorf("dead-lettered with routing key %q, want \"dead\"", got.RoutingKey)
	}
	if _, ok := got.Headers["CC"]; ok {
		t.Errorf("dead-lettered message keeps its CC header %v; RabbitMQ removes it with x-dead-letter-routing-key", got.Headers["CC"])
	}
	deaths := xDeaths(t, got.Headers, "dead-lettered message")
	if len(deaths) != 1 {
		t.Fatalf("x-death %+v, want 1 entry", deaths)
	}
	xExpectDeath(t, deaths[0], "x-death[0]", 1, "rejected", src, x, []string{"a", "b"}, start)
	xEmpty(t, c, other, "queue bound to the dead-letter exchange under the original keys")
}

// xDLXKeepsKeys: without x-dead-letter-routing-key the message is
// dead-lettered under its original routing key and its CC keys.
func xDLXKeepsKeys(t T, env *Env) {
	c, ch := env.Channel(t)
	dlx := xExchange(t, env, ch, "xdlx", "direct", nil)
	qa := xQueue(t, env, ch, "xdla", nil)
	aBind(t, ch, qa, "a", dlx, nil)
	qb := xQueue(t, env, ch, "xdlb", nil)
	aBind(t, ch, qb, "b", dlx, nil)
	src := xQueue(t, env, ch, "xsrc", amqp091.Table{"x-dead-letter-exchange": dlx})
	x := xExchange(t, env, ch, "xpub", "direct", nil)
	aBind(t, ch, src, "a", x, nil)

	xPub(t, c, x, "a", "m", amqp091.Publishing{Headers: amqp091.Table{"CC": []any{"b"}}})
	d := bGet(t, ch, src, false, "basic.get from the source queue")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	ga := xGet1(t, c, qa, "dead-lettered under the routing key")
	gb := xGet1(t, c, qb, "dead-lettered under the CC key")
	for _, g := range []amqp091.Delivery{ga, gb} {
		if g.RoutingKey != "a" {
			t.Errorf("delivered with routing key %q, want \"a\"", g.RoutingKey)
		}
		deaths := xDeaths(t, g.Headers, "dead-lettered message")
		if len(deaths) != 1 || len(deaths[0].RoutingKeys) != 2 || deaths[0].RoutingKeys[0] != "a" || deaths[0].RoutingKeys[1] != "b" {
			t.Errorf("x-death %+v, want one entry with routing-keys [a b]", deaths)
		}
	}
}

// xDLXCountIncrements: a queue that dead-letters to itself on rejection
// gets the message back each time (rejection is never a cycle); the x-death
// entry for (queue, reason) is updated in place, its count incremented,
// rather than a new entry added.
func xDLXCountIncrements(t T, env *Env) {
	c, ch := env.Channel(t)
	name := Name("xself")
	aDeleteQueueLater(t, env, name)
	if _, err := ch.QueueDeclare(name, false, false, false, false, amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name}); err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	start := time.Now()
	aPublish(t, c, "", false, []string{name}, amqp091.Publishing{Body: []byte("m")})
	d := bGet(t, ch, name, false, "first basic.get")
	if _, ok := d.Headers["x-death"]; ok {
		t.Fatalf("fresh message has x-death %v", d.Headers["x-death"])
	}
	for round := int64(1); round <= 3; round++ {
		if err := d.Reject(false); err != nil {
			t.Fatalf("basic.reject: %v", err)
		}
		d = xGetOn(t, ch, name, "message back after rejection")
		deaths := xDeaths(t, d.Headers, "message back after rejection")
		if len(deaths) != 1 {
			t.Fatalf("round %d: x-death %+v, want 1 entry", round, deaths)
		}
		xExpectDeath(t, deaths[0], "x-death[0]", round, "rejected", name, "", []string{name}, start)
		xExpectFirstDeath(t, d.Headers, "message back after rejection", "rejected", name, "")
	}
}

// xDLXRetryLoop: the retry pattern: a work queue dead-letters rejected
// messages to a retry queue whose TTL dead-letters them back. The cycle is
// not dropped because it passes through a rejection. x-death holds one
// entry per (queue, reason), most recent first, with counts incremented
// each round; x-first-death-* stay those of the first death.
func xDLXRetryLoop(t T, env *Env) {
	c, ch := env.Channel(t)
	work, retry := Name("xwork"), Name("xretry")
	aDeleteQueueLater(t, env, work)
	aDeleteQueueLater(t, env, retry)
	if _, err := ch.QueueDeclare(work, false, false, false, false, amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": retry}); err != nil {
		t.Fatalf("queue.declare work: %v", err)
	}
	if _, err := ch.QueueDeclare(retry, false, false, false, false, amqp091.Table{
		"x-message-ttl": int32(xTTL), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": work,
	}); err != nil {
		t.Fatalf("queue.declare retry: %v", err)
	}
	start := time.Now()
	aPublish(t, c, "", false, []string{work}, amqp091.Publishing{Body: []byte("job")})
	wch := aChannel(t, c)
	ds := bConsume(t, wch, work, "worker", false)
	d := xRecv(t, ds, "job delivery")
	for round := int64(1); round <= 2; round++ {
		if err := d.Reject(false); err != nil {
			t.Fatalf("basic.reject: %v", err)
		}
		d = xRecv(t, ds, "job back from the retry queue")
		deaths := xDeaths(t, d.Headers, "retried job")
		if len(deaths) != 2 {
			t.Fatalf("round %d: x-death %+v, want 2 entries", round, deaths)
		}
		xExpectDeath(t, deaths[0], "x-death[0]", round, "expired", retry, "", []string{retry}, start)
		xExpectDeath(t, deaths[1], "x-death[1]", round, "rejected", work, "", []string{work}, start)
		xExpectFirstDeath(t, d.Headers, "retried job", "rejected", work, "")
	}
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
}

// xDLXCycleSelf: a queue whose expired messages are dead-lettered back to
// itself is a cycle: RabbitMQ drops the message for that queue (the
// x-death header already names it with no rejection since), while other
// queues the dead-letter exchange routes to still get it.
func xDLXCycleSelf(t T, env *Env) {
	c, ch := env.Channel(t)
	fx := xExchange(t, env, ch, "xdlf", "fanout", nil)
	obs := xQueue(t, env, ch, "xobs", nil)
	aBind(t, ch, obs, "", fx, nil)
	q := xQueue(t, env, ch, "xcyc", amqp091.Table{"x-message-ttl": int32(xTTL), "x-dead-letter-exchange": fx})
	aBind(t, ch, q, "", fx, nil)
	start := time.Now()
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("m")})
	got := xGet1(t, c, obs, "dead-lettered copy in the observer queue")
	deaths := xDeaths(t, got.Headers, "observer copy")
	if len(deaths) != 1 {
		t.Fatalf("x-death %+v, want 1 entry", deaths)
	}
	xExpectDeath(t, deaths[0], "x-death[0]", 1, "expired", q, "", []string{q}, start)
	// Had the copy for q not been dropped, it would expire again and the
	// observer would get a second copy.
	time.Sleep(xPastTTL)
	xEmpty(t, c, q, "queue that dead-letters to itself")
	xEmpty(t, c, obs, "observer queue after the first copy")
}

// xDLXCycleTwo: two queues that dead-letter expired messages to each other
// form a cycle: the message goes from a to b once, and is dropped when it
// would return to a; an observer bound next to a gets the copy, with both
// deaths in x-death (most recent first).
func xDLXCycleTwo(t T, env *Env) {
	c, ch := env.Channel(t)
	fb := xExchange(t, env, ch, "xdlf", "fanout", nil)
	obs := xQueue(t, env, ch, "xobs", nil)
	aBind(t, ch, obs, "", fb, nil)
	b := Name("xcycb")
	aDeleteQueueLater(t, env, b)
	a := xQueue(t, env, ch, "xcyca", amqp091.Table{"x-message-ttl": int32(xTTL), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": b})
	aBind(t, ch, a, "", fb, nil)
	if _, err := ch.QueueDeclare(b, false, false, false, false, amqp091.Table{"x-message-ttl": int32(xTTL), "x-dead-letter-exchange": fb}); err != nil {
		t.Fatalf("queue.declare b: %v", err)
	}
	start := time.Now()
	aPublish(t, c, "", false, []string{a}, amqp091.Publishing{Body: []byte("m")})
	got := xGet1(t, c, obs, "copy in the observer queue")
	deaths := xDeaths(t, got.Headers, "observer copy")
	if len(deaths) != 2 {
		t.Fatalf("x-death %+v, want 2 entries", deaths)
	}
	xExpectDeath(t, deaths[0], "x-death[0]", 1, "expired", b, "", []string{b}, start)
	xExpectDeath(t, deaths[1], "x-death[1]", 1, "expired", a, "", []string{a}, start)
	xExpectFirstDeath(t, got.Headers, "observer copy", "expired", a, "")
	time.Sleep(2 * xPastTTL)
	xEmpty(t, c, a, "queue a after the cycle")
	xEmpty(t, c, b, "queue b after the cycle")
	xEmpty(t, c, obs, "observer queue after the first copy")
}

// xDLXMissing: a dead-letter exchange that does not exist drops the
// message quietly: no error, nothing requeued.
func xDLXMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	src := xQueue(t, env, ch, "xsrc", amqp091.Table{"x-dead-letter-exchange": Name("xnone")})
	aPublish(t, c, "", false, []string{src}, amqp091.Publishing{Body: []byte("m")})
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	d := bGet(t, ch, src, false, "basic.get")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	bStillOpen(t, ch, closes, "after rejecting to a missing dead-letter exchange")
	xEmpty(t, c, src, "source queue")
}
