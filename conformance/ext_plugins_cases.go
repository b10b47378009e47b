package conformance

// Exchange types of RabbitMQ plugins: the consistent-hash exchange
// (rabbitmq_consistent_hash_exchange, shipped with RabbitMQ; the target
// must have it enabled) and the delayed-message exchange
// (rabbitmq_delayed_message_exchange, a community plugin that Debian's
// RabbitMQ does not ship: those cases run only against Warren).

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

const xNoDelayedPlugin = "the delayed-message exchange is a community plugin (rabbitmq_delayed_message_exchange) that RabbitMQ does not ship"

func init() {
	register(
		xCase("consistent-hash-routing-key-by-weight", xCHRoutingKey),
		xCase("consistent-hash-header", xCHHeader),
		xCase("consistent-hash-property", xCHProperty),
		xCase("consistent-hash-unbind-leaves-ring", xCHUnbind),
		xCase("consistent-hash-binding-key-invalid-406", xCHBadBinding),
		xCase("consistent-hash-arguments-invalid-406", xCHBadArgs),
		Case{Section: xSection, Name: "delayed-message-held-for-x-delay", Run: xDelayed, RabbitMQ: xNoDelayedPlugin},
		Case{Section: xSection, Name: "delayed-message-routes-by-delayed-type", Run: xDelayedTopic, RabbitMQ: xNoDelayedPlugin},
		Case{Section: xSection, Name: "delayed-message-type-required-406", Run: xDelayedNoType, RabbitMQ: xNoDelayedPlugin},
	)
}

// xCHExchange declares an x-consistent-hash exchange and binds a fresh
// queue to it per weight.
func xCHExchange(t T, env *Env, ch *amqp091.Channel, args amqp091.Table, weights ...string) (string, []string) {
	t.Helper()
	x := xExchange(t, env, ch, "xchx", "x-consistent-hash", args)
	var qs []string
	for _, w := range weights {
		q := xQueue(t, env, ch, "xchq", nil)
		aBind(t, ch, q, w, x, nil)
		qs = append(qs, q)
	}
	return x, qs
}

// xCHSpread drains qs and returns, for each body, the queues it reached
// (index into qs) and how many messages each queue got.
func xCHSpread(t T, c *amqp091.Connection, qs []string) (where map[string][]int, perQueue []int) {
	t.Helper()
	where = map[string][]int{}
	perQueue = make([]int, len(qs))
	for i, q := range qs {
		for _, b := range aDrain(t, c, q) {
			where[b] = append(where[b], i)
			perQueue[i]++
		}
	}
	return where, perQueue
}

// xCHConsistent checks that every body went to exactly one queue, all its
// copies to the same one, and returns the queue of each body.
func xCHConsistent(t T, where map[string][]int, copies int, what string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for b, qs := range where {
		if len(qs) != copies {
			t.Fatalf("%s: %q reached queues %v, want %d copies in one queue", what, b, qs, copies)
		}
		for _, q := range qs {
			if q != qs[0] {
				t.Fatalf("%s: copies of %q reached different queues %v", what, b, qs)
			}
		}
		out[b] = qs[0]
	}
	return out
}

// xCHRoutingKey: the exchange routes each message to exactly one bound
// queue, by a hash of the routing key: the same key always to the same
// queue, and keys spread in proportion to the binding keys (weights).
func xCHRoutingKey(t T, env *Env) {
	c, ch := env.Channel(t)
	x, qs := xCHExchange(t, env, ch, nil, "1", "3")
	const n = 400
	keys := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		keys = append(keys, fmt.Sprintf("key-%d", i))
	}
	keys = append(keys, keys...) // every key twice
	if r := aPublish(t, c, x, true, keys, amqp091.Publishing{}); len(r) != 0 {
		t.Fatalf("%d of %d mandatory messages returned", len(r), len(keys))
	}
	where, per := xCHSpread(t, c, qs)
	if len(where) != n {
		t.Fatalf("%d distinct keys arrived, want %d", len(where), n)
	}
	xCHConsistent(t, where, 2, "routing key hash")
	share := float64(per[1]) / float64(per[0]+per[1])
	if share < 0.6 || share > 0.9 {
		t.Errorf("the weight-3 queue got %d of %d messages (%.2f), want about 3/4", per[1], per[0]+per[1], share)
	}
}

// xCHHeader: with the hash-header argument the exchange hashes that header
// instead of the routing key; a message without the header still goes to
// exactly one queue.
func xCHHeader(t T, env *Env) {
	c, ch := env.Channel(t)
	x, qs := xCHExchange(t, env, ch, amqp091.Table{"hash-header": "user"}, "1", "1")
	pch := aChannel(t, c)
	if err := pch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := pch.NotifyPublish(make(chan amqp091.Confirmation, 401))
	for i := 0; i < 200; i++ {
		user := fmt.Sprintf("user-%d", i%50)
		body := fmt.Sprintf("%s/%d", user, i)
		// Routing keys differ for every message.
		if err := pch.Publish(x, strconv.Itoa(i), false, false, amqp091.Publishing{Body: []byte(body), Headers: amqp091.Table{"user": user}}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	if err := pch.Publish(x, "k", false, false, amqp091.Publishing{Body: []byte("no-header")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	for i := 0; i < 201; i++ {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish nacked")
			}
		case <-time.After(Timeout):
			t.Fatalf("no confirm within %v", Timeout)
		}
	}
	where, per := xCHSpread(t, c, qs)
	if len(where["no-header"]) != 1 {
		t.Errorf("message without the header reached queues %v, want exactly one", where["no-header"])
	}
	delete(where, "no-header")
	byUser := map[string]int{}
	for b, q := range xCHConsistent(t, where, 1, "header hash") {
		user, _, _ := strings.Cut(b, "/")
		if prev, ok := byUser[user]; ok && prev != q {
			t.Fatalf("messages with header user=%s reached different queues", user)
		}
		byUser[user] = q
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("50 header values all went to one queue: %v", per)
	}
}

// xCHProperty: with hash-property message_id the exchange hashes the
// message-id property; correlation_id and timestamp are accepted too.
func xCHProperty(t T, env *Env) {
	c, ch := env.Channel(t)
	for _, p := range []string{"correlation_id", "timestamp"} {
		xExchange(t, env, ch, "xchx", "x-consistent-hash", amqp091.Table{"hash-property": p})
	}
	x, qs := xCHExchange(t, env, ch, amqp091.Table{"hash-property": "message_id"}, "1", "1")
	pch := aChannel(t, c)
	if err := pch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := pch.NotifyPublish(make(chan amqp091.Confirmation, 200))
	for i := 0; i < 200; i++ {
		id := fmt.Sprintf("id-%d", i%50)
		if err := pch.Publish(x, strconv.Itoa(i), false, false, amqp091.Publishing{MessageId: id, Body: []byte(fmt.Sprintf("%s/%d", id, i))}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	for i := 0; i < 200; i++ {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish nacked")
			}
		case <-time.After(Timeout):
			t.Fatalf("no confirm within %v", Timeout)
		}
	}
	where, per := xCHSpread(t, c, qs)
	byID := map[string]int{}
	for b, q := range xCHConsistent(t, where, 1, "message_id hash") {
		id, _, _ := strings.Cut(b, "/")
		if prev, ok := byID[id]; ok && prev != q {
			t.Fatalf("messages with message_id %s reached different queues", id)
		}
		byID[id] = q
	}
	if len(byID) != 50 {
		t.Fatalf("%d message ids arrived, want 50", len(byID))
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("50 message ids all went to one queue: %v", per)
	}
}

// xCHUnbind: unbinding a queue takes it out of the ring: everything goes
// to the queues left.
func xCHUnbind(t T, env *Env) {
	c, ch := env.Channel(t)
	x, qs := xCHExchange(t, env, ch, nil, "2", "2")
	if err := ch.QueueUnbind(qs[1], "2", x, nil); err != nil {
		t.Fatalf("queue.unbind: %v", err)
	}
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	if r := aPublish(t, c, x, true, keys, amqp091.Publishing{}); len(r) != 0 {
		t.Fatalf("%d messages returned with one queue still bound", len(r))
	}
	if _, per := xCHSpread(t, c, qs); per[0] != 50 || per[1] != 0 {
		t.Fatalf("messages per queue %v, want all 50 in the queue still bound", per)
	}
}

// xCHBadBinding: the binding key is the weight: it must be an integer
// greater than 0.
func xCHBadBinding(t T, env *Env) {
	c, ch := env.Channel(t)
	x := xExchange(t, env, ch, "xchx", "x-consistent-hash", nil)
	q := xQueue(t, env, ch, "xchq", nil)
	for _, tc := range []struct{ key, text string }{
		{"abc", `PRECONDITION_FAILED - The binding key must be an integer: <<"abc">>`},
		{"", `PRECONDITION_FAILED - The binding key must be an integer: <<>>`},
		{"1.5", `PRECONDITION_FAILED - The binding key must be an integer: <<"1.5">>`},
		{"0", "PRECONDITION_FAILED - The binding key must be greater than 0"},
		{"-3", "PRECONDITION_FAILED - The binding key must be greater than 0"},
	} {
		xChannelClose(t, c, amqp091.PreconditionFailed, tc.text, "queue.bind with key "+strconv.Quote(tc.key),
			func(ch *amqp091.Channel) error { return ch.QueueBind(q, tc.key, x, false, nil) })
	}
}

// xCHBadArgs: hash-header and hash-property exclude each other, and
// hash-property names one of message_id, correlation_id, timestamp.
func xCHBadArgs(t T, env *Env) {
	c := env.Dial(t)
	for _, tc := range []struct {
		args amqp091.Table
		text string
	}{
		{amqp091.Table{"hash-header": "h", "hash-property": "message_id"}, "PRECONDITION_FAILED - hash-header and hash-property are mutually exclusive"},
		{amqp091.Table{"hash-property": "app_id"}, "PRECONDITION_FAILED - Unsupported property: app_id"},
	} {
		x := Name("xchx")
		aDeleteExchangeLater(t, env, x)
		xChannelClose(t, c, amqp091.PreconditionFailed, tc.text, fmt.Sprintf("exchange.declare with %v", tc.args),
			func(ch *amqp091.Channel) error {
				return ch.ExchangeDeclare(x, "x-consistent-hash", false, false, false, false, tc.args)
			})
		if aExchangeExists(t, c, x) {
			t.Errorf("refused exchange %q exists", x)
		}
	}
}

// xDelayed: an x-delayed-message exchange holds a message for its x-delay
// header's milliseconds, then routes it by its x-delayed-type; a message
// without x-delay, or with one not above 0, is routed at once.
func xDelayed(t T, env *Env) {
	c, ch := env.Channel(t)
	x := xExchange(t, env, ch, "xdelay", "x-delayed-message", amqp091.Table{"x-delayed-type": "direct"})
	q := xQueue(t, env, ch, "xdelayq", nil)
	aBind(t, ch, q, "k", x, nil)
	ds := bConsume(t, aChannel(t, c), q, "delayed", true)
	start := time.Now()
	delays := map[string]time.Duration{"late": 1500 * time.Millisecond, "early": 400 * time.Millisecond}
	xPub(t, c, x, "k", "late", amqp091.Publishing{Headers: amqp091.Table{"x-delay": int32(1500)}})
	xPub(t, c, x, "k", "early", amqp091.Publishing{Headers: amqp091.Table{"x-delay": int64(400)}})
	xPub(t, c, x, "k", "now", amqp091.Publishing{})
	xPub(t, c, x, "k", "negative", amqp091.Publishing{Headers: amqp091.Table{"x-delay": int32(-100)}})
	var got []string
	for i := 0; i < 4; i++ {
		d := xRecv(t, ds, "delayed message")
		got = append(got, string(d.Body))
		if min, ok := delays[string(d.Body)]; ok && time.Since(start) < min {
			t.Errorf("%q delivered %v after publishing, before its x-delay of %v", d.Body, time.Since(start), min)
		}
	}
	if len(got) != 4 || got[2] != "early" || got[3] != "late" {
		t.Fatalf("delivery order %q, want now and negative (any order), then early, then late", got)
	}
}

// xDelayedTopic: the delayed message is routed by the x-delayed-type's
// rules once its delay is over.
func xDelayedTopic(t T, env *Env) {
	c, ch := env.Channel(t)
	x := xExchange(t, env, ch, "xdelay", "x-delayed-message", amqp091.Table{"x-delayed-type": "topic"})
	q := xQueue(t, env, ch, "xdelayq", nil)
	aBind(t, ch, q, "a.*", x, nil)
	xPub(t, c, x, "a.b", "match", amqp091.Publishing{Headers: amqp091.Table{"x-delay": int32(xTTL)}})
	xPub(t, c, x, "b.c", "nomatch", amqp091.Publishing{Headers: amqp091.Table{"x-delay": int32(xTTL)}})
	d := xGet1(t, c, q, "delayed message matching a.*")
	if string(d.Body) != "match" || d.RoutingKey != "a.b" || d.Exchange != x {
		t.Fatalf("got %q via %q key %q, want \"match\" via %q key a.b", d.Body, d.Exchange, d.RoutingKey, x)
	}
	time.Sleep(xPastTTL)
	xEmpty(t, c, q, "queue (the other message does not match)")
}

// xDelayedNoType: an x-delayed-message exchange needs x-delayed-type.
func xDelayedNoType(t T, env *Env) {
	c := env.Dial(t)
	x := Name("xdelay")
	aDeleteExchangeLater(t, env, x)
	aChannelError(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
		"exchange.declare x-delayed-message without x-delayed-type", func(ch *amqp091.Channel) error {
			return ch.ExchangeDeclare(x, "x-delayed-message", false, false, false, false, nil)
		})
}
