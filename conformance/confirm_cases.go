package conformance

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "confirm", Name: "acks-with-increasing-tags", Run: confirmAcks},
		Case{Section: "confirm", Name: "unroutable-is-acked", Run: confirmUnroutable},
		Case{Section: "confirm", Name: "persistent-to-durable-queue-acked", Run: confirmDurable},
		Case{Section: "confirm", Name: "mandatory-return-before-ack-raw", Run: confirmReturnBeforeAck},
		Case{Section: "confirm", Name: "select-twice-is-ok", Run: confirmSelectTwice},
		Case{Section: "confirm", Name: "tx-select-on-confirm-channel-406", Run: confirmThenTx},
		Case{Section: "confirm", Name: "confirm-select-on-tx-channel-406", Run: txThenConfirm},
		Case{Section: "confirm", Name: "deferred-confirmation-waits-ack", Run: confirmDeferred},
		Case{Section: "confirm", Name: "nack-when-queue-rejects-publish", Run: confirmNackOverflow},
	)
}

// cWaitConfirms reads n confirmations and checks that they are acks with
// tags from+0 .. from+n-1 in order.
func cWaitConfirms(t T, confirms <-chan amqp091.Confirmation, from uint64, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case c := <-confirms:
			if c.DeliveryTag != from+uint64(i) || !c.Ack {
				t.Fatalf("confirm %d: tag %d ack=%v, want tag %d ack=true", i+1, c.DeliveryTag, c.Ack, from+uint64(i))
			}
		case <-time.After(Timeout):
			t.Fatalf("confirm %d of %d not received within %v", i+1, n, Timeout)
		}
	}
}

func confirmAcks(t T, env *Env) {
	q := bQueue(t, env, "confirm.acks")
	_, ch := env.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 20))
	const n = 10
	for i := 1; i <= n; i++ {
		if got := ch.GetNextPublishSeqNo(); got != uint64(i) {
			t.Fatalf("next publish seq %d, want %d", got, i)
		}
		if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	cWaitConfirms(t, confirms, 1, n)
	bExpectReady(t, env, q, n, "after confirms")
}

func confirmUnroutable(t T, env *Env) {
	_, ch := env.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 4))
	returns := ch.NotifyReturn(make(chan amqp091.Return, 4))
	key := Name("confirm.noroute")
	if err := ch.Publish("amq.direct", key, false, false, amqp091.Publishing{Body: []byte("1")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	if err := ch.Publish("amq.direct", key, true, false, amqp091.Publishing{Body: []byte("2")}); err != nil {
		t.Fatalf("basic.publish mandatory: %v", err)
	}
	cWaitConfirms(t, confirms, 1, 2)
	select {
	case r := <-returns:
		if r.ReplyCode != 312 || string(r.Body) != "2" {
			t.Fatalf("basic.return %d %q for %q, want 312 for body 2", r.ReplyCode, r.ReplyText, r.Body)
		}
	case <-time.After(Timeout):
		t.Fatalf("no basic.return for the mandatory publish")
	}
}

func confirmDurable(t T, env *Env) {
	q := bQueueArgs(t, env, "confirm.durable", true, nil)
	_, ch := env.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 8))
	for i := 0; i < 5; i++ {
		if err := ch.Publish("", q, false, false, amqp091.Publishing{DeliveryMode: amqp091.Persistent, Body: []byte("p")}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	cWaitConfirms(t, confirms, 1, 5)
	bExpectReady(t, env, q, 5, "after confirms")
}

// confirmReturnBeforeAck checks the wire order with raw frames: for a
// mandatory unroutable publish on a confirm channel, basic.return (and its
// content) comes before the basic.ack of that publish.
func confirmReturnBeforeAck(t T, env *Env) {
	rc := bRawDial(t, env)
	var a bArgs
	rc.Send(1, 85, 10, a.U8(0).B) // confirm.select
	rc.Expect(1, 85, 11)
	key := Name("confirm.noroute")
	a = bArgs{}
	a.U16(0).Short("amq.direct").Short(key).U8(0x01) // mandatory
	rc.Send(1, 60, 40, a.B)
	rc.SendContent(1, 0, nil, []byte("ret"))

	f := rc.Read()
	if c, m := f.Method(); c != 60 || m != 50 {
		t.Fatalf("first frame after the publish: type %d method %d.%d, want basic.return (60.50)%s", f.Type, c, m, bCloseText(f))
	}
	if _, _, body := rc.ReadContent(1); string(body) != "ret" {
		t.Fatalf("returned body %q, want ret", body)
	}
	ack := rc.Expect(1, 60, 80)
	if tag := binary.BigEndian.Uint64(ack.Payload[4:]); tag != 1 {
		t.Fatalf("basic.ack delivery-tag %d, want 1", tag)
	}
}

func confirmSelectTwice(t T, env *Env) {
	q := bQueue(t, env, "confirm.twice")
	_, ch := env.Channel(t)
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 4))
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte("1")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	cWaitConfirms(t, confirms, 1, 1)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("second confirm.select: %v", err)
	}
	if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte("2")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	// The counter is not reset by a second confirm.select.
	cWaitConfirms(t, confirms, 2, 1)
}

func confirmThenTx(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	ExpectCode(t, ch.Tx(), 406, "tx.select on a confirm channel")
	bExpectClose(t, closes, 406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode", "tx.select on a confirm channel")
}

func txThenConfirm(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Tx(); err != nil {
		t.Fatalf("tx.select: %v", err)
	}
	ExpectCode(t, ch.Confirm(false), 406, "confirm.select on a tx channel")
	bExpectClose(t, closes, 406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode", "confirm.select on a tx channel")
}

func confirmDeferred(t T, env *Env) {
	q := bQueue(t, env, "confirm.deferred")
	_, ch := env.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var dcs []*amqp091.DeferredConfirmation
	for i := 0; i < 3; i++ {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", q, false, false, amqp091.Publishing{Body: []byte("d")})
		if err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
		if dc == nil {
			t.Fatalf("no deferred confirmation on a confirm channel")
		}
		if dc.DeliveryTag != uint64(i+1) {
			t.Errorf("deferred confirmation tag %d, want %d", dc.DeliveryTag, i+1)
		}
		dcs = append(dcs, dc)
	}
	for i, dc := range dcs {
		ok, err := dc.WaitContext(ctx)
		if err != nil {
			t.Fatalf("confirm %d: %v", i+1, err)
		}
		if !ok {
			t.Fatalf("confirm %d: nacked", i+1)
		}
	}
	bExpectReady(t, env, q, 3, "after deferred confirms")
}

// confirmNackOverflow: a queue with x-overflow=reject-publish that is full
// refuses the message, and the publisher gets basic.nack for it.
func confirmNackOverflow(t T, env *Env) {
	q := bQueueArgs(t, env, "confirm.overflow", false, amqp091.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	_, ch := env.Channel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 4))
	for i := 0; i < 3; i++ {
		if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte(fmt.Sprint(i + 1))}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	for i, wantAck := range []bool{true, false, false} {
		select {
		case c := <-confirms:
			if c.DeliveryTag != uint64(i+1) || c.Ack != wantAck {
				t.Fatalf("confirm %d: tag %d ack=%v, want tag %d ack=%v", i+1, c.DeliveryTag, c.Ack, i+1, wantAck)
			}
		case <-time.After(Timeout):
			t.Fatalf("confirm %d not received within %v", i+1, Timeout)
		}
	}
	bExpectReady(t, env, q, 1, "after overflow")
}
