package conformance

import (
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "tx", Name: "commit-makes-publishes-visible", Run: txCommitPublishes},
		Case{Section: "tx", Name: "rollback-discards-publishes", Run: txRollbackPublishes},
		Case{Section: "tx", Name: "channel-stays-transactional-after-commit", Run: txStaysTransactional},
		Case{Section: "tx", Name: "ack-takes-effect-at-commit", Run: txAckAtCommit},
		Case{Section: "tx", Name: "ack-discarded-by-rollback", Run: txAckRollback},
		Case{Section: "tx", Name: "reject-discarded-by-rollback", Run: txRejectRollback},
		Case{Section: "tx", Name: "nack-requeue-applies-at-commit", Run: txNackAtCommit},
		Case{Section: "tx", Name: "close-discards-uncommitted-publishes", Run: txCloseDiscards},
		Case{Section: "tx", Name: "mandatory-return-sent-at-commit-raw", Run: txReturnAtCommit},
		Case{Section: "tx", Name: "publish-missing-exchange-404-before-commit", Run: txPublishMissingExchange},
		Case{Section: "tx", Name: "select-twice-is-ok", Run: txSelectTwice},
		Case{Section: "tx", Name: "commit-without-select-406", Run: txCommitWithoutSelect},
		Case{Section: "tx", Name: "rollback-without-select-406", Run: txRollbackWithoutSelect},
	)
}

// txChannel opens a channel in tx mode.
func txChannel(t T, env *Env) (*amqp091.Connection, *amqp091.Channel) {
	t.Helper()
	c, ch := env.Channel(t)
	if err := ch.Tx(); err != nil {
		t.Fatalf("tx.select: %v", err)
	}
	return c, ch
}

// txPublish publishes bodies to q on ch and then makes a synchronous round
// trip on ch, so the broker has handled the publishes when it returns.
func txPublish(t T, ch *amqp091.Channel, q string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte(b)}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	if _, err := ch.QueueDeclarePassive(q, false, false, false, false, nil); err != nil {
		t.Fatalf("passive queue.declare: %v", err)
	}
}

func txCommitPublishes(t T, env *Env) {
	q := bQueue(t, env, "tx.commit")
	_, ch := txChannel(t, env)
	txPublish(t, ch, q, "1", "2", "3")
	bExpectReady(t, env, q, 0, "before tx.commit")
	_, other := env.Channel(t)
	bGetEmpty(t, other, q, "get before tx.commit")
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	bExpectReady(t, env, q, 3, "after tx.commit")
	bExpectRequeued(t, env, q, 0, "1", "2", "3")
}

func txRollbackPublishes(t T, env *Env) {
	q := bQueue(t, env, "tx.rollback")
	_, ch := txChannel(t, env)
	txPublish(t, ch, q, "1", "2")
	if err := ch.TxRollback(); err != nil {
		t.Fatalf("tx.rollback: %v", err)
	}
	bExpectReady(t, env, q, 0, "after tx.rollback")
	// A commit after the rollback has nothing to publish.
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	bExpectReady(t, env, q, 0, "after tx.rollback and an empty tx.commit")
}

func txStaysTransactional(t T, env *Env) {
	q := bQueue(t, env, "tx.again")
	_, ch := txChannel(t, env)
	txPublish(t, ch, q, "1")
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	txPublish(t, ch, q, "2")
	bExpectReady(t, env, q, 1, "second publish before the second tx.commit")
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("second tx.commit: %v", err)
	}
	bExpectReady(t, env, q, 2, "after the second tx.commit")
}

func txAckAtCommit(t T, env *Env) {
	q := bQueue(t, env, "tx.ack")
	_, ch := txChannel(t, env)
	bPublish(t, env, q, "1", "2")
	d1 := bGet(t, ch, q, false, "get 1")
	d2 := bGet(t, ch, q, false, "get 2")
	if err := d1.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	// 1 was acked and committed; 2 is still unacked; an uncommitted ack of
	// 2 dies with the channel.
	if err := d2.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 1, "after channel.close")
	bExpectRequeued(t, env, q, 1, "2")
}

func txAckRollback(t T, env *Env) {
	q := bQueue(t, env, "tx.ackrb")
	_, ch := txChannel(t, env)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	bPublish(t, env, q, "1", "2")
	d1 := bGet(t, ch, q, false, "get 1")
	d2 := bGet(t, ch, q, false, "get 2")
	if err := ch.Ack(d2.DeliveryTag, true); err != nil {
		t.Fatalf("basic.ack multiple: %v", err)
	}
	if err := ch.TxRollback(); err != nil {
		t.Fatalf("tx.rollback: %v", err)
	}
	// Both are still unacked: acking 1 again is legal (not an unknown tag).
	if err := d1.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	bStillOpen(t, ch, closes, "after re-ack of a rolled-back ack")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 1, "after channel.close")
	bExpectRequeued(t, env, q, 1, "2")
}

func txRejectRollback(t T, env *Env) {
	q := bQueue(t, env, "tx.rejrb")
	_, ch := txChannel(t, env)
	bPublish(t, env, q, "1")
	d := bGet(t, ch, q, false, "get")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	if err := ch.TxRollback(); err != nil {
		t.Fatalf("tx.rollback: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 1, "after channel.close")
	bExpectRequeued(t, env, q, 1, "1")
}

func txCloseDiscards(t T, env *Env) {
	q := bQueue(t, env, "tx.close")
	_, ch := txChannel(t, env)
	txPublish(t, ch, q, "1", "2")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after closing a channel with uncommitted publishes")
}

// txReturnAtCommit: in a transaction, routing happens at commit, so the
// basic.return of a mandatory unroutable publish arrives after tx.commit and
// before tx.commit-ok, not at publish time.
func txReturnAtCommit(t T, env *Env) {
	rc := bRawDial(t, env)
	rc.Send(1, 90, 10, nil) // tx.select
	rc.Expect(1, 90, 11)
	key := Name("tx.noroute")
	var a bArgs
	a.U16(0).Short("amq.direct").Short(key).U8(0x01) // mandatory
	rc.Send(1, 60, 40, a.B)
	rc.SendContent(1, 0, nil, []byte("ret"))
	a = bArgs{}
	a.U32(0).U16(0).U8(0)
	rc.Send(1, 60, 10, a.B) // basic.qos as a round trip
	f := rc.Read()
	if c, m := f.Method(); c != 60 || m != 11 {
		t.Fatalf("after an uncommitted mandatory publish: got method %d.%d, want basic.qos-ok (no return before commit)%s", c, m, bCloseText(f))
	}
	rc.Send(1, 90, 20, nil) // tx.commit
	rc.Expect(1, 60, 50)    // basic.return
	if _, _, body := rc.ReadContent(1); string(body) != "ret" {
		t.Fatalf("returned body %q, want ret", body)
	}
	rc.Expect(1, 90, 21) // tx.commit-ok
}

func txPublishMissingExchange(t T, env *Env) {
	_, ch := txChannel(t, env)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	x := Name("tx.nox")
	if err := ch.Publish(x, "k", false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 404, fmt.Sprintf("NOT_FOUND - no exchange '%s' in vhost '%s'", x, bVhost(t, env)), "publish to a missing exchange in a transaction")
}

func txSelectTwice(t T, env *Env) {
	q := bQueue(t, env, "tx.twice")
	_, ch := txChannel(t, env)
	txPublish(t, ch, q, "1")
	if err := ch.Tx(); err != nil {
		t.Fatalf("second tx.select: %v", err)
	}
	// A second tx.select does not discard the open transaction.
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	bExpectReady(t, env, q, 1, "after tx.commit")
}

func txCommitWithoutSelect(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	ExpectCode(t, ch.TxCommit(), 406, "tx.commit without tx.select")
	bExpectClose(t, closes, 406, "PRECONDITION_FAILED - channel is not transactional", "tx.commit without tx.select")
}

func txRollbackWithoutSelect(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	ExpectCode(t, ch.TxRollback(), 406, "tx.rollback without tx.select")
	bExpectClose(t, closes, 406, "PRECONDITION_FAILED - channel is not transactional", "tx.rollback without tx.select")
}

func txNackAtCommit(t T, env *Env) {
	q := bQueue(t, env, "tx.nack")
	_, ch := txChannel(t, env)
	bPublish(t, env, q, "1")
	d := bGet(t, ch, q, false, "get")
	if err := d.Nack(false, true); err != nil {
		t.Fatalf("basic.nack: %v", err)
	}
	// A synchronous round trip, so the nack has been handled.
	if _, err := ch.QueueDeclarePassive(q, false, false, false, false, nil); err != nil {
		t.Fatalf("passive queue.declare: %v", err)
	}
	bExpectReady(t, env, q, 0, "after an uncommitted nack requeue")
	if err := ch.TxCommit(); err != nil {
		t.Fatalf("tx.commit: %v", err)
	}
	bWaitReady(t, env, q, 1, "after tx.commit")
	bExpectRequeued(t, env, q, 1, "1")
}
