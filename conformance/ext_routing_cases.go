package conformance

// Alternate exchanges, sender-selected distribution (CC and BCC headers)
// and validated user-id.

import (
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		xCase("alternate-exchange-unroutable", xAEUnroutable),
		xCase("alternate-exchange-satisfies-mandatory", xAEMandatory),
		xCase("alternate-exchange-chain-and-loop", xAEChain),
		xCase("cc-bcc-sender-selected-distribution", xCCBCC),
		xCase("cc-bcc-mandatory", xCCMandatory),
		xCase("cc-not-an-array-406", xCCInvalid),
		xCase("user-id-validated", xUserID),
	)
}

// xAEUnroutable: a message its exchange does not route goes to the
// alternate exchange; a routed one does not.
func xAEUnroutable(t T, env *Env) {
	c, ch := env.Channel(t)
	ae := xExchange(t, env, ch, "xae", "fanout", nil)
	aq := xQueue(t, env, ch, "xaeq", nil)
	aBind(t, ch, aq, "", ae, nil)
	x := xExchange(t, env, ch, "xmain", "direct", amqp091.Table{"alternate-exchange": ae})
	q := xQueue(t, env, ch, "xmainq", nil)
	aBind(t, ch, q, "k", x, nil)
	aPublish1(t, c, x, "k", "routed")
	aPublish1(t, c, x, "other", "unroutable")
	xExpectBodies(t, aDrain(t, c, q), "bound queue", "routed")
	d := bGet(t, ch, aq, true, "alternate exchange's queue")
	if string(d.Body) != "unroutable" || d.Exchange != x || d.RoutingKey != "other" {
		t.Fatalf("got %q via exchange %q key %q, want \"unroutable\" via %q key \"other\" (the original exchange and key)", d.Body, d.Exchange, d.RoutingKey, x)
	}
	xEmpty(t, c, aq, "alternate exchange's queue")
}

// xAEMandatory: a mandatory message that the alternate exchange routes is
// not returned; one that the alternate exchange cannot route either, or
// whose alternate exchange does not exist, is returned.
func xAEMandatory(t T, env *Env) {
	c, ch := env.Channel(t)
	ae := xExchange(t, env, ch, "xae", "direct", nil)
	aq := xQueue(t, env, ch, "xaeq", nil)
	aBind(t, ch, aq, "to-ae", ae, nil)
	x := xExchange(t, env, ch, "xmain", "direct", amqp091.Table{"alternate-exchange": ae})
	if r := aPublish(t, c, x, true, []string{"to-ae"}, amqp091.Publishing{}); len(r) != 0 {
		t.Errorf("message routed by the alternate exchange was returned")
	}
	if r := aPublish(t, c, x, true, []string{"nowhere"}, amqp091.Publishing{}); len(r) != 1 {
		t.Errorf("message neither exchange routes: %d returns, want 1", len(r))
	}
	xExpectBodies(t, aDrain(t, c, aq), "alternate exchange's queue", "to-ae")
	missing := xExchange(t, env, ch, "xmiss", "direct", amqp091.Table{"alternate-exchange": Name("xnone")})
	if r := aPublish(t, c, missing, true, []string{"k"}, amqp091.Publishing{}); len(r) != 1 {
		t.Errorf("alternate exchange that does not exist: %d returns, want 1", len(r))
	}
}

// xAEChain: alternate exchanges chain (the alternate's own alternate is
// tried), and a loop of alternates ends: the message is returned as
// unroutable, once.
func xAEChain(t T, env *Env) {
	c, ch := env.Channel(t)
	last := xExchange(t, env, ch, "xae3", "fanout", nil)
	q := xQueue(t, env, ch, "xaeq", nil)
	aBind(t, ch, q, "", last, nil)
	mid := xExchange(t, env, ch, "xae2", "direct", amqp091.Table{"alternate-exchange": last})
	first := xExchange(t, env, ch, "xae1", "direct", amqp091.Table{"alternate-exchange": mid})
	if r := aPublish(t, c, first, true, []string{"k"}, amqp091.Publishing{Body: []byte("chained")}); len(r) != 0 {
		t.Errorf("message routed two alternates down was returned")
	}
	xExpectBodies(t, aDrain(t, c, q), "queue of the last alternate", "chained")

	a, b := Name("xloopa"), Name("xloopb")
	aDeleteExchangeLater(t, env, a)
	aDeleteExchangeLater(t, env, b)
	if err := ch.ExchangeDeclare(a, "direct", false, false, false, false, amqp091.Table{"alternate-exchange": b}); err != nil {
		t.Fatalf("exchange.declare: %v", err)
	}
	if err := ch.ExchangeDeclare(b, "direct", false, false, false, false, amqp091.Table{"alternate-exchange": a}); err != nil {
		t.Fatalf("exchange.declare: %v", err)
	}
	if r := aPublish(t, c, a, true, []string{"k", "k2"}, amqp091.Publishing{}); len(r) != 2 {
		t.Errorf("two messages into a loop of alternates: %d returns, want 2", len(r))
	}
}

// xCCBCC: the CC and BCC headers (arrays of long strings) add routing keys
// to a publish; every queue gets one copy; BCC is removed from every copy,
// CC kept; the delivery's routing key is the one published.
func xCCBCC(t T, env *Env) {
	c, ch := env.Channel(t)
	x := xExchange(t, env, ch, "xcc", "direct", nil)
	var qs []string
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		q := xQueue(t, env, ch, "xcc"+k, nil)
		aBind(t, ch, q, k, x, nil)
		qs = append(qs, q)
	}
	both := xQueue(t, env, ch, "xccboth", nil)
	aBind(t, ch, both, "k1", x, nil)
	aBind(t, ch, both, "k2", x, nil)
	aBind(t, ch, both, "k3", x, nil)
	xPub(t, c, x, "k1", "m", amqp091.Publishing{Headers: amqp091.Table{
		"CC": []any{"k2"}, "BCC": []any{"k3"}, "other": "kept",
	}})
	for i, q := range qs[:3] {
		d := bGet(t, ch, q, true, "queue bound to k"+string(rune('1'+i)))
		if d.RoutingKey != "k1" || d.Exchange != x {
			t.Errorf("delivered via %q key %q, want %q key k1", d.Exchange, d.RoutingKey, x)
		}
		if _, ok := d.Headers["BCC"]; ok {
			t.Errorf("BCC header delivered: %v", d.Headers)
		}
		cc, ok := d.Headers["CC"].([]any)
		if !ok || len(cc) != 1 || cc[0] != "k2" || d.Headers["other"] != "kept" {
			t.Errorf("headers %v, want CC [k2] and other=kept", d.Headers)
		}
	}
	xEmpty(t, c, qs[3], "queue bound to a key not named")
	if got := aDrain(t, c, both); len(got) != 1 {
		t.Errorf("queue bound to all three keys got %d copies, want 1", len(got))
	}
}

// xCCMandatory: a mandatory message routed only through its CC or BCC
// keys is not returned.
func xCCMandatory(t T, env *Env) {
	c, ch := env.Channel(t)
	x := xExchange(t, env, ch, "xcc", "direct", nil)
	q := xQueue(t, env, ch, "xccq", nil)
	aBind(t, ch, q, "bound", x, nil)
	for _, h := range []string{"CC", "BCC"} {
		if r := aPublish(t, c, x, true, []string{"unbound"}, amqp091.Publishing{Headers: amqp091.Table{h: []any{"bound"}}}); len(r) != 0 {
			t.Errorf("mandatory message routed by %s returned", h)
		}
	}
	if r := aPublish(t, c, x, true, []string{"unbound"}, amqp091.Publishing{Headers: amqp091.Table{"CC": []any{"nope"}}}); len(r) != 1 {
		t.Errorf("mandatory message neither key nor CC routes: %d returns, want 1", len(r))
	}
	if got := aDrain(t, c, q); len(got) != 2 {
		t.Errorf("queue got %d messages, want 2", len(got))
	}
}

// xCCInvalid: a CC header that is not an array closes the channel with
// 406.
func xCCInvalid(t T, env *Env) {
	c := env.Dial(t)
	for _, h := range []string{"CC", "BCC"} {
		xChannelClose(t, c, amqp091.PreconditionFailed,
			`PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,"`+h+`",longstr}`, h+" header as a string",
			func(ch *amqp091.Channel) error {
				return ch.Publish("amq.direct", "k", false, false, amqp091.Publishing{Headers: amqp091.Table{h: "k2"}})
			})
	}
}

// xUserID: a user_id property must name the user the connection
// authenticated as; another name closes the channel with 406 and the
// message goes nowhere. The right name passes through to the consumer.
func xUserID(t T, env *Env) {
	c, ch := env.Channel(t)
	user, _, _ := rCreds(t, env)
	q := xQueue(t, env, ch, "xuid", nil)
	xPub(t, c, "", q, "ok", amqp091.Publishing{UserId: user})
	d := bGet(t, ch, q, true, "message with the right user_id")
	if d.UserId != user {
		t.Errorf("user_id %q delivered, want %q", d.UserId, user)
	}
	other := user + "-not"
	xChannelClose(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - user_id property set to '"+other+"' but authenticated user was '"+user+"'",
		"publish with another user's user_id", func(ch *amqp091.Channel) error {
			return ch.Publish("", q, false, false, amqp091.Publishing{UserId: other, Body: []byte("forged")})
		})
	time.Sleep(bQuiet)
	xEmpty(t, c, q, "queue after the refused publish")
}
