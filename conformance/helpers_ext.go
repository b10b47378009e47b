package conformance

// Helpers for the cases of RabbitMQ's extensions (section "extensions").
// Names carry an "x" prefix so they cannot collide with helpers of other
// sections.

import (
	"fmt"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// xSlow bounds waits for effects that take real time: message and queue
// expiry, delayed delivery, consumer timeouts. It is generous on purpose
// (the suite runs on busy machines): cases never assert that something
// happens quickly, only that it happens within xSlow.
const xSlow = 10 * time.Second

// xTTL is the short TTL (ms) of expiry cases, and xPastTTL a wait after
// which a message with that TTL has certainly expired.
const (
	xTTL     = 200
	xPastTTL = 5 * xTTL * time.Millisecond
)

// xSection is the section of every case here.
const xSection = "extensions"

// xCase is a Case of this section.
func xCase(name string, run func(T, *Env)) Case {
	return Case{Section: xSection, Name: name, Run: run}
}

// xQueue declares a non-durable queue with arguments and a unique name on
// ch, and deletes it when the case ends.
func xQueue(t T, env *Env, ch *amqp091.Channel, prefix string, args amqp091.Table) string {
	t.Helper()
	return xQueueDurable(t, env, ch, prefix, false, args)
}

// xQueueDurable is xQueue with durability.
func xQueueDurable(t T, env *Env, ch *amqp091.Channel, prefix string, durable bool, args amqp091.Table) string {
	t.Helper()
	name := Name(prefix)
	aDeleteQueueLater(t, env, name)
	if _, err := ch.QueueDeclare(name, durable, false, false, false, args); err != nil {
		t.Fatalf("queue.declare %q %v: %v", name, args, err)
	}
	return name
}

// xExchange declares a non-durable exchange with arguments and a unique
// name on ch, and deletes it when the case ends.
func xExchange(t T, env *Env, ch *amqp091.Channel, prefix, kind string, args amqp091.Table) string {
	t.Helper()
	name := Name(prefix)
	aDeleteExchangeLater(t, env, name)
	if err := ch.ExchangeDeclare(name, kind, false, false, false, false, args); err != nil {
		t.Fatalf("exchange.declare %q (%s) %v: %v", name, kind, args, err)
	}
	return name
}

// xPub publishes one message with body and the given properties to
// exchange under key, and waits for its confirm (which must be an ack).
func xPub(t T, c *amqp091.Connection, exchange, key, body string, msg amqp091.Publishing) {
	t.Helper()
	msg.Body = []byte(body)
	aPublish(t, c, exchange, false, []string{key}, msg)
}

// xPubConfirm publishes msgs (their bodies as given) to exchange under key
// on a confirm-mode channel and returns, in publish order, whether each was
// acked (true) or nacked (false).
func xPubConfirm(t T, c *amqp091.Connection, exchange, key string, msgs ...amqp091.Publishing) []bool {
	t.Helper()
	ch := aChannel(t, c)
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, len(msgs)+1))
	for _, m := range msgs {
		if err := ch.Publish(exchange, key, false, false, m); err != nil {
			t.Fatalf("basic.publish to %q key %q: %v", exchange, key, err)
		}
	}
	acks := make([]bool, len(msgs))
	for range msgs {
		select {
		case cf := <-confirms:
			if cf.DeliveryTag < 1 || int(cf.DeliveryTag) > len(msgs) {
				t.Fatalf("confirm for unknown delivery tag %d", cf.DeliveryTag)
			}
			acks[cf.DeliveryTag-1] = cf.Ack
		case <-time.After(Timeout):
			t.Fatalf("publish to %q: not every message confirmed within %v", exchange, Timeout)
		}
	}
	return acks
}

// xBodyMsgs returns one Publishing per body.
func xBodyMsgs(bodies ...string) []amqp091.Publishing {
	out := make([]amqp091.Publishing, len(bodies))
	for i, b := range bodies {
		out[i] = amqp091.Publishing{Body: []byte(b)}
	}
	return out
}

// xGetN takes n messages from q with basic.get (auto-ack), polling while
// the queue is empty, for at most xSlow. It is for messages that arrive in
// q some time after the action that causes them (dead-lettering on
// expiry).
func xGetN(t T, c *amqp091.Connection, q string, n int, what string) []amqp091.Delivery {
	t.Helper()
	ch := aChannel(t, c)
	defer ch.Close()
	var out []amqp091.Delivery
	deadline := time.Now().Add(xSlow)
	for len(out) < n {
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatalf("%s: basic.get %q: %v", what, q, err)
		}
		if ok {
			out = append(out, d)
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: queue %q gave %d of %d messages (%q) within %v", what, q, len(out), n, bBodies(out), xSlow)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out
}

// xGetOn takes one message from q with basic.get on ch without acking it,
// polling while the queue is empty, for at most xSlow.
func xGetOn(t T, ch *amqp091.Channel, q string, what string) amqp091.Delivery {
	t.Helper()
	deadline := time.Now().Add(xSlow)
	for {
		d, ok, err := ch.Get(q, false)
		if err != nil {
			t.Fatalf("%s: basic.get %q: %v", what, q, err)
		}
		if ok {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: queue %q empty for %v", what, q, xSlow)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// xGet1 is xGetN for one message.
func xGet1(t T, c *amqp091.Connection, q string, what string) amqp091.Delivery {
	t.Helper()
	return xGetN(t, c, q, 1, what)[0]
}

// xEmpty fails unless q holds no ready message (a basic.get answers
// get-empty).
func xEmpty(t T, c *amqp091.Connection, q string, what string) {
	t.Helper()
	if got := aDrain(t, c, q); len(got) > 0 {
		t.Fatalf("%s: queue %q holds %q, want it empty", what, q, got)
	}
}

// xExpectBodies compares bodies in order.
func xExpectBodies(t T, got []string, what string, want ...string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != len(want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// xDeath is one entry of the x-death header, decoded with RabbitMQ's field
// types enforced.
type xDeath struct {
	Count              int64
	Reason             string
	Queue              string
	Exchange           string
	Time               time.Time
	RoutingKeys        []string
	OriginalExpiration string // "" if absent
}

// xDeathFields are the fields an x-death entry may have; the last is
// present only when the message had an expiration property.
var xDeathFields = []string{"count", "reason", "queue", "time", "exchange", "routing-keys", "original-expiration"}

// xDeaths decodes the x-death header of h. Its wire types are RabbitMQ's:
// an array of tables; count a long (64-bit signed: int64 in amqp091-go),
// time a timestamp (time.Time), routing-keys an array of long strings, the
// other fields long strings. Any other type, a missing field or an unknown
// field fails the case.
func xDeaths(t T, h amqp091.Table, what string) []xDeath {
	t.Helper()
	raw, ok := h["x-death"]
	if !ok {
		t.Fatalf("%s: no x-death header in %v", what, h)
	}
	arr, ok := raw.([]any)
	if !ok {
		t.Fatalf("%s: x-death is %T, want a field array", what, raw)
	}
	out := make([]xDeath, 0, len(arr))
	for i, e := range arr {
		tab, ok := e.(amqp091.Table)
		if !ok {
			t.Fatalf("%s: x-death[%d] is %T, want a field table", what, i, e)
		}
		for k := range tab {
			known := false
			for _, f := range xDeathFields {
				known = known || k == f
			}
			if !known {
				t.Errorf("%s: x-death[%d] has unexpected field %q", what, i, k)
			}
		}
		var d xDeath
		str := func(k string, opt bool) string {
			v, ok := tab[k]
			if !ok {
				if !opt {
					t.Fatalf("%s: x-death[%d] lacks %q: %v", what, i, k, tab)
				}
				return ""
			}
			s, ok := v.(string)
			if !ok {
				t.Fatalf("%s: x-death[%d].%s is %T, want a long string", what, i, k, v)
			}
			return s
		}
		d.Reason, d.Queue, d.Exchange = str("reason", false), str("queue", false), str("exchange", false)
		d.OriginalExpiration = str("original-expiration", true)
		switch v := tab["count"].(type) {
		case int64:
			d.Count = v
		default:
			t.Fatalf("%s: x-death[%d].count is %T (%v), want a long (int64)", what, i, v, v)
		}
		switch v := tab["time"].(type) {
		case time.Time:
			d.Time = v
		default:
			t.Fatalf("%s: x-death[%d].time is %T (%v), want a timestamp", what, i, v, v)
		}
		rks, ok := tab["routing-keys"].([]any)
		if !ok {
			t.Fatalf("%s: x-death[%d].routing-keys is %T, want a field array", what, i, tab["routing-keys"])
		}
		for j, rk := range rks {
			s, ok := rk.(string)
			if !ok {
				t.Fatalf("%s: x-death[%d].routing-keys[%d] is %T, want a long string", what, i, j, rk)
			}
			d.RoutingKeys = append(d.RoutingKeys, s)
		}
		out = append(out, d)
	}
	return out
}

// xExpectDeath checks one x-death entry: count, reason, queue, exchange and
// routing keys exactly, and time between since (truncated to the second,
// the timestamp's resolution) and now.
func xExpectDeath(t T, d xDeath, what string, count int64, reason, queue, exchange string, keys []string, since time.Time) {
	t.Helper()
	if d.Count != count || d.Reason != reason || d.Queue != queue || d.Exchange != exchange ||
		strings.Join(d.RoutingKeys, ",") != strings.Join(keys, ",") || len(d.RoutingKeys) != len(keys) {
		t.Fatalf("%s: x-death entry %+v, want count %d reason %q queue %q exchange %q routing-keys %q",
			what, d, count, reason, queue, exchange, keys)
	}
	lo, hi := since.Truncate(time.Second).Add(-time.Second), time.Now().Add(time.Second)
	if d.Time.Before(lo) || d.Time.After(hi) {
		t.Fatalf("%s: x-death time %v, want between %v and %v", what, d.Time, lo, hi)
	}
}

// xExpectFirstDeath checks the x-first-death-* headers (long strings).
func xExpectFirstDeath(t T, h amqp091.Table, what, reason, queue, exchange string) {
	t.Helper()
	for _, kv := range [][2]string{{"x-first-death-reason", reason}, {"x-first-death-queue", queue}, {"x-first-death-exchange", exchange}} {
		v, ok := h[kv[0]]
		if !ok {
			t.Fatalf("%s: no %s header in %v", what, kv[0], h)
		}
		if s, ok := v.(string); !ok || s != kv[1] {
			t.Fatalf("%s: %s = %#v (%T), want long string %q", what, kv[0], v, v, kv[1])
		}
	}
}

// xChannelClose runs op on a fresh channel of c and checks that the server
// closes the channel with code and exactly text (whether op itself returns
// the error, as a synchronous method does, or not, as basic.publish).
func xChannelClose(t T, c *amqp091.Connection, code int, text, what string, op func(ch *amqp091.Channel) error) {
	t.Helper()
	ch := aChannel(t, c)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := op(ch); err != nil && ReplyCode(err) != code {
		t.Fatalf("%s: %v, want reply code %d", what, err, code)
	}
	bExpectClose(t, closes, code, text, what)
	aConnUsable(t, c, what)
}

// xRecv waits up to xSlow for a delivery.
func xRecv(t T, ds <-chan amqp091.Delivery, what string) amqp091.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatalf("%s: delivery channel closed", what)
		}
		return d
	case <-time.After(xSlow):
		t.Fatalf("%s: no delivery within %v", what, xSlow)
	}
	return amqp091.Delivery{}
}

// xQueueGone waits until q, declared with x-expires shorter than a
// second, no longer exists. A passive queue.declare counts as a use of the
// queue and starts its x-expires period again (RabbitMQ), so the checks
// are a second apart.
func xQueueGone(t T, c *amqp091.Connection, q, what string) {
	t.Helper()
	deadline := time.Now().Add(xSlow)
	for {
		time.Sleep(time.Second)
		if !aQueueExists(t, c, q) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, xSlow)
		}
	}
}

// xInvalidArg is RabbitMQ's reply text for a queue argument that fails
// validation: detail is the Erlang term of the error.
func xInvalidArg(env *Env, arg, queue, detail string) string {
	return fmt.Sprintf("PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost '%s': %s", arg, queue, aVhost(env), detail)
}
