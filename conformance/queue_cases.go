package conformance

import (
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "queue", Name: "declare", Run: qDeclare},
		Case{Section: "queue", Name: "declare-server-named", Run: qServerNamed},
		Case{Section: "queue", Name: "passive-missing-404", Run: qPassiveMissing},
		Case{Section: "queue", Name: "declare-ok-counts", Run: qDeclareOkCounts},
		Case{Section: "queue", Name: "redeclare-durable-406", Run: qRedeclareMismatch("durable")},
		Case{Section: "queue", Name: "redeclare-auto-delete-406", Run: qRedeclareMismatch("auto_delete")},
		Case{Section: "queue", Name: "redeclare-args-406", Run: qRedeclareMismatch("x-max-length")},
		Case{Section: "queue", Name: "redeclare-exclusive-405", Run: qRedeclareExclusive},
		Case{Section: "queue", Name: "declare-amq-prefix-403", Run: qAmqPrefix},
		Case{Section: "queue", Name: "exclusive-other-connection-405", Run: qExclusiveOther},
		Case{Section: "queue", Name: "exclusive-same-connection", Run: qExclusiveSame},
		Case{Section: "queue", Name: "exclusive-deleted-on-close", Run: qExclusiveGone},
		Case{Section: "queue", Name: "auto-delete-after-last-cancel", Run: qAutoDelete},
		Case{Section: "queue", Name: "auto-delete-on-channel-close", Run: qAutoDeleteChannelClose},
		Case{Section: "queue", Name: "bind-unbind", Run: qBindUnbind},
		Case{Section: "queue", Name: "unbind-missing-ok", Run: qUnbindMissing},
		Case{Section: "queue", Name: "bind-missing-404", Run: qBindMissing},
		Case{Section: "queue", Name: "purge", Run: qPurge},
		Case{Section: "queue", Name: "delete", Run: qDelete},
		Case{Section: "queue", Name: "delete-if-empty-406", Run: qDeleteIfEmpty},
		Case{Section: "queue", Name: "delete-if-unused-406", Run: qDeleteIfUnused},
		Case{Section: "queue", Name: "delete-missing-ok", Run: qDeleteMissing},
		Case{Section: "queue", Name: "delete-cancels-consumers", Run: qDeleteCancels},
		Case{Section: "queue", Name: "default-exchange-routes-by-name", Run: qDefaultExchange},
		Case{Section: "queue", Name: "empty-name-means-last-declared", Run: qLastDeclared},
	)
}

func qNotFound(env *Env, name string) string {
	return "NOT_FOUND - no queue '" + name + "' in vhost '" + aVhost(env) + "'"
}

func qLocked(env *Env, name string) string {
	return "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '" + name + "' in vhost '" + aVhost(env) + "'"
}

// qDeclare: declare-ok echoes the name with zero counts; redeclaring with
// the same properties and a passive declare succeed.
func qDeclare(t T, env *Env) {
	_, ch := env.Channel(t)
	name := Name("qdecl")
	aDeleteQueueLater(t, env, name)
	q, err := ch.QueueDeclare(name, true, false, false, false, amqp091.Table{"x-max-length": int32(100)})
	if err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	if q.Name != name || q.Messages != 0 || q.Consumers != 0 {
		t.Fatalf("declare-ok %+v, want name %q and zero counts", q, name)
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, amqp091.Table{"x-max-length": int32(100)}); err != nil {
		t.Fatalf("redeclare with the same properties: %v", err)
	}
	q, err = ch.QueueDeclarePassive(name, false, true, true, false, nil)
	if err != nil || q.Name != name {
		t.Fatalf("passive declare (other flags are ignored): %+v %v", q, err)
	}
}

// qServerNamed: an empty name gets a fresh server-generated "amq.gen-"
// name, different each time.
func qServerNamed(t T, env *Env) {
	c, ch := env.Channel(t)
	var names []string
	for i := 0; i < 2; i++ {
		q, err := ch.QueueDeclare("", false, false, true, false, nil)
		if err != nil {
			t.Fatalf("queue.declare \"\": %v", err)
		}
		if !strings.HasPrefix(q.Name, "amq.gen-") || len(q.Name) <= len("amq.gen-") {
			t.Fatalf("server-named queue %q, want prefix amq.gen-", q.Name)
		}
		names = append(names, q.Name)
	}
	if names[0] == names[1] {
		t.Fatalf("two server-named queues share the name %q", names[0])
	}
	if _, err := ch.QueueDeclarePassive(names[0], false, false, true, false, nil); err != nil {
		t.Fatalf("passive declare of %q: %v", names[0], err)
	}
	aPublish1(t, c, "", names[1], "m")
	aExpectBodies(t, c, names[1], "server-named queue by the default exchange", "m")
}

// qPassiveMissing: passive declare of a missing queue is 404 and creates
// nothing.
func qPassiveMissing(t T, env *Env) {
	c := env.Dial(t)
	q := Name("noq")
	aChannelError(t, c, amqp091.NotFound, qNotFound(env, q), "passive queue.declare of a missing queue",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
			return err
		})
	if aQueueExists(t, c, q) {
		t.Fatalf("passive declare created %q", q)
	}
}

// qDeclareOkCounts: declare-ok's message count is the ready messages
// (unacknowledged deliveries excluded) and its consumer count the active
// consumers.
func qDeclareOkCounts(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qcounts")
	aPublish(t, c, "", false, []string{q, q, q}, amqp091.Publishing{Body: []byte("m")})
	st, err := ch.QueueDeclare(q, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("redeclare: %v", err)
	}
	if st.Messages != 3 || st.Consumers != 0 {
		t.Fatalf("declare-ok counts %d/%d, want 3 messages 0 consumers", st.Messages, st.Consumers)
	}
	cch := aChannel(t, c)
	if err := cch.Qos(1, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	var dss []<-chan amqp091.Delivery
	for i := 0; i < 2; i++ {
		ds, err := cch.Consume(q, "", false, false, false, false, nil)
		if err != nil {
			t.Fatalf("basic.consume: %v", err)
		}
		dss = append(dss, ds)
	}
	for i, ds := range dss {
		select {
		case <-ds:
		case <-time.After(Timeout):
			t.Fatalf("consumer %d got nothing", i+1)
		}
	}
	st, err = ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive declare: %v", err)
	}
	if st.Messages != 1 || st.Consumers != 2 {
		t.Fatalf("declare-ok counts %d/%d, want 1 message (2 unacked) and 2 consumers", st.Messages, st.Consumers)
	}
}

// qRedeclareMismatch: redeclaring with a different durable, auto-delete or
// argument is 406 "inequivalent arg"; the queue keeps its properties and
// messages.
func qRedeclareMismatch(field string) func(T, *Env) {
	return func(t T, env *Env) {
		c, ch := env.Channel(t)
		q := aQueue(t, env, ch, "qre")
		aPublish1(t, c, "", q, "kept")
		durable, autoDelete := false, false
		var args amqp091.Table
		prefix := "PRECONDITION_FAILED - inequivalent arg '" + field + "' for queue '" + q + "' in vhost '" + aVhost(env) + "': received "
		var text string
		switch field {
		case "durable":
			durable, text = true, prefix+"'true' but current is 'false'"
		case "auto_delete":
			autoDelete, text = true, prefix+"'true' but current is 'false'"
		case "x-max-length":
			args, text = amqp091.Table{"x-max-length": int32(10)}, prefix+"the value '10' of type 'signedint' but current is none"
		}
		aChannelError(t, c, amqp091.PreconditionFailed, text, "redeclare with a different "+field,
			func(ch *amqp091.Channel) error {
				_, err := ch.QueueDeclare(q, durable, autoDelete, false, false, args)
				return err
			})
		st, err := aChannel(t, c).QueueDeclare(q, false, false, false, false, nil)
		if err != nil {
			t.Fatalf("redeclare with the original properties: %v", err)
		}
		if st.Messages != 1 {
			t.Fatalf("queue has %d messages after the failed redeclare, want 1", st.Messages)
		}
	}
}

// qRedeclareExclusive: the exclusive flag is not compared like the others
// (406) but through the exclusive-owner check (405 RESOURCE_LOCKED):
// redeclaring a shared queue as exclusive, or even the owner redeclaring
// its exclusive queue without the flag, is 405. A passive declare by the
// owner ignores the flag.
func qRedeclareExclusive(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qrex")
	aChannelError(t, c, amqp091.ResourceLocked, qLocked(env, q), "redeclare a shared queue as exclusive",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, true, false, nil)
			return err
		})
	ex := Name("qrex") // exclusive: goes with the connection
	ch2 := aChannel(t, c)
	if _, err := ch2.QueueDeclare(ex, false, false, true, false, nil); err != nil {
		t.Fatalf("declare exclusive: %v", err)
	}
	aChannelError(t, c, amqp091.ResourceLocked, qLocked(env, ex), "owner redeclares its exclusive queue without the flag",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(ex, false, false, false, false, nil)
			return err
		})
	ch3 := aChannel(t, c)
	if _, err := ch3.QueueDeclarePassive(ex, false, false, false, false, nil); err != nil {
		t.Fatalf("owner's passive declare without the flag: %v", err)
	}
	if _, err := ch3.QueueDeclare(ex, false, false, true, false, nil); err != nil {
		t.Fatalf("owner redeclares with the same flags: %v", err)
	}
}

// qAmqPrefix: queue names starting "amq." are reserved (403); a passive
// declare of one that does not exist is 404.
func qAmqPrefix(t T, env *Env) {
	c := env.Dial(t)
	q := "amq." + Name("q")
	aChannelError(t, c, amqp091.AccessRefused,
		"ACCESS_REFUSED - queue name '"+q+"' contains reserved prefix 'amq.*'", "declare "+q,
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, false, false, nil)
			return err
		})
	aChannelError(t, c, amqp091.NotFound, qNotFound(env, q), "passive declare "+q,
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
			return err
		})
}

// qExclusiveOther: another connection gets 405 RESOURCE_LOCKED for every
// queue method (even a passive declare) and for consume/get on an
// exclusive queue, but may publish to it; the owner is not disturbed.
func qExclusiveOther(t T, env *Env) {
	owner, och := env.Channel(t)
	q := Name("qexcl") // exclusive: goes with the connection
	if _, err := och.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatalf("declare exclusive: %v", err)
	}
	aBind(t, och, q, q, "amq.direct", nil)
	other := env.Dial(t)
	text := qLocked(env, q)
	ops := []struct {
		what string
		f    func(ch *amqp091.Channel) error
	}{
		{"queue.declare (same flags)", func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, true, false, nil)
			return err
		}},
		{"queue.declare (not exclusive)", func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclare(q, false, false, false, false, nil)
			return err
		}},
		{"passive queue.declare", func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(q, false, false, true, false, nil)
			return err
		}},
		{"basic.consume", func(ch *amqp091.Channel) error {
			_, err := ch.Consume(q, "", true, false, false, false, nil)
			return err
		}},
		{"basic.get", func(ch *amqp091.Channel) error {
			_, _, err := ch.Get(q, true)
			return err
		}},
		{"queue.bind", func(ch *amqp091.Channel) error { return ch.QueueBind(q, "k", "amq.direct", false, nil) }},
		{"queue.unbind", func(ch *amqp091.Channel) error { return ch.QueueUnbind(q, q, "amq.direct", nil) }},
		{"queue.purge", func(ch *amqp091.Channel) error {
			_, err := ch.QueuePurge(q, false)
			return err
		}},
		{"queue.delete", func(ch *amqp091.Channel) error {
			_, err := ch.QueueDelete(q, false, false, false)
			return err
		}},
	}
	for _, op := range ops {
		aChannelError(t, other, amqp091.ResourceLocked, text, op.what+" from another connection", op.f)
	}
	// RabbitMQ answers an unbind of a binding that does not exist with
	// unbind-ok before it looks at exclusivity.
	if err := aChannel(t, other).QueueUnbind(q, "never-bound", "amq.direct", nil); err != nil {
		t.Errorf("queue.unbind of a missing binding from another connection: %v, want unbind-ok", err)
	}
	// Publishing to it is allowed from anywhere, and the owner's binding
	// survived the refused unbind.
	aPublish1(t, other, "", q, "from-other")
	aPublish1(t, other, "amq.direct", q, "via-binding")
	for _, want := range []string{"from-other", "via-binding"} {
		d, ok, err := och.Get(q, true)
		if err != nil || !ok || string(d.Body) != want {
			t.Fatalf("owner basic.get: %q ok=%v err=%v, want %q", d.Body, ok, err, want)
		}
	}
	if owner.IsClosed() {
		t.Fatalf("owner connection closed")
	}
}

// qExclusiveSame: every channel of the owning connection may use the
// exclusive queue.
func qExclusiveSame(t T, env *Env) {
	c, ch := env.Channel(t)
	q := Name("qexcl") // exclusive: goes with the connection
	if _, err := ch.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatalf("declare exclusive: %v", err)
	}
	ch2 := aChannel(t, c)
	if _, err := ch2.QueueDeclarePassive(q, false, false, true, false, nil); err != nil {
		t.Fatalf("passive declare from a sibling channel: %v", err)
	}
	aBind(t, ch2, q, q, "amq.direct", nil)
	if _, err := ch2.Consume(q, "", true, false, false, false, nil); err != nil {
		t.Fatalf("basic.consume from a sibling channel: %v", err)
	}
	if _, err := ch2.QueuePurge(q, false); err != nil {
		t.Fatalf("queue.purge from a sibling channel: %v", err)
	}
}

// qExclusiveGone: an exclusive queue is deleted when its connection closes.
func qExclusiveGone(t T, env *Env) {
	observer := env.Dial(t)
	c, err := aDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ch := aChannel(t, c)
	q := Name("qexcl")
	aDeleteQueueLater(t, env, q)
	if _, err := ch.QueueDeclare(q, false, false, true, false, nil); err != nil {
		t.Fatalf("declare exclusive: %v", err)
	}
	// While the owner lives, another connection's passive declare is 405.
	aChannelError(t, observer, amqp091.ResourceLocked, qLocked(env, q), "passive declare from another connection",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDeclarePassive(q, false, false, true, false, nil)
			return err
		})
	if err := c.Close(); err != nil {
		t.Fatalf("connection.close: %v", err)
	}
	aEventually(t, "exclusive queue deleted after its connection closed", func() bool {
		return !aQueueExists(t, observer, q)
	})
	// The name is free again for anyone.
	ch2 := aChannel(t, observer)
	if _, err := ch2.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatalf("declare %q after its exclusive owner left: %v", q, err)
	}
}

// qAutoDelete: an auto-delete queue is not deleted before its first
// consumer, nor while a consumer remains; it is deleted when the last
// consumer cancels.
func qAutoDelete(t T, env *Env) {
	c, ch := env.Channel(t)
	q := Name("qad")
	aDeleteQueueLater(t, env, q)
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete: %v", err)
	}
	aPublish1(t, c, "", q, "m")
	if _, ok, err := ch.Get(q, true); err != nil || !ok {
		t.Fatalf("basic.get: ok=%v err=%v", ok, err)
	}
	if !aQueueExists(t, c, q) {
		t.Fatalf("auto-delete queue vanished before it ever had a consumer")
	}
	for _, tag := range []string{"c1", "c2"} {
		if _, err := ch.Consume(q, tag, true, false, false, false, nil); err != nil {
			t.Fatalf("basic.consume %s: %v", tag, err)
		}
	}
	if err := ch.Cancel("c1", false); err != nil {
		t.Fatalf("basic.cancel c1: %v", err)
	}
	if !aQueueExists(t, c, q) {
		t.Fatalf("auto-delete queue vanished while a consumer remained")
	}
	if err := ch.Cancel("c2", false); err != nil {
		t.Fatalf("basic.cancel c2: %v", err)
	}
	aEventually(t, "auto-delete queue deleted after its last consumer cancelled", func() bool {
		return !aQueueExists(t, c, q)
	})
}

// qAutoDeleteChannelClose: closing the channel of the last consumer counts
// as its cancellation.
func qAutoDeleteChannelClose(t T, env *Env) {
	c, ch := env.Channel(t)
	q := Name("qad")
	aDeleteQueueLater(t, env, q)
	if _, err := ch.QueueDeclare(q, false, true, false, false, nil); err != nil {
		t.Fatalf("declare auto-delete: %v", err)
	}
	cch := aChannel(t, c)
	if _, err := cch.Consume(q, "", true, false, false, false, nil); err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	if err := cch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	aEventually(t, "auto-delete queue deleted after its consumer's channel closed", func() bool {
		return !aQueueExists(t, c, q)
	})
}

// qBindUnbind: a binding routes, unbinding stops it; binding twice is one
// binding.
func qBindUnbind(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "qbind", "direct")
	q := aQueue(t, env, ch, "qbind")
	aBind(t, ch, q, "k", x, nil)
	aBind(t, ch, q, "k", x, nil)
	aPublish1(t, c, x, "k", "bound")
	aExpectBodies(t, c, q, "after queue.bind", "bound")
	if err := ch.QueueUnbind(q, "k", x, nil); err != nil {
		t.Fatalf("queue.unbind: %v", err)
	}
	aPublish1(t, c, x, "k", "unbound")
	aExpectBodies(t, c, q, "after queue.unbind")
}

// qUnbindMissing: unbinding a binding that does not exist succeeds
// (RabbitMQ 3.x), whether the queue and exchange exist or not.
func qUnbindMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "qunb", "direct")
	q := aQueue(t, env, ch, "qunb")
	if err := ch.QueueUnbind(q, "never-bound", x, nil); err != nil {
		t.Fatalf("queue.unbind of a missing binding: %v", err)
	}
	if err := ch.QueueUnbind(Name("noq"), "k", x, nil); err != nil {
		t.Fatalf("queue.unbind of a missing queue: %v", err)
	}
	if err := ch.QueueUnbind(q, "k", Name("nox"), nil); err != nil {
		t.Fatalf("queue.unbind from a missing exchange: %v", err)
	}
	aConnUsable(t, c, "after unbinding missing bindings")
}

// qBindMissing: binding to a missing exchange or binding a missing queue is
// 404.
func qBindMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qbm")
	nox, noq := Name("nox"), Name("noq")
	aChannelError(t, c, amqp091.NotFound, exNotFound(env, nox), "queue.bind to a missing exchange",
		func(ch *amqp091.Channel) error { return ch.QueueBind(q, "k", nox, false, nil) })
	aChannelError(t, c, amqp091.NotFound, qNotFound(env, noq), "queue.bind of a missing queue",
		func(ch *amqp091.Channel) error { return ch.QueueBind(noq, "k", "amq.direct", false, nil) })
}

// qPurge: purge removes the ready messages and returns their count;
// unacknowledged deliveries are not purged and come back when their
// channel closes.
func qPurge(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qpurge")
	aPublish(t, c, "", false, []string{q, q, q, q}, amqp091.Publishing{Body: []byte("m")})
	gch := aChannel(t, c)
	if _, ok, err := gch.Get(q, false); err != nil || !ok {
		t.Fatalf("basic.get: ok=%v err=%v", ok, err)
	}
	n, err := ch.QueuePurge(q, false)
	if err != nil {
		t.Fatalf("queue.purge: %v", err)
	}
	if n != 3 {
		t.Fatalf("purge-ok message count %d, want 3 (one is unacked)", n)
	}
	if m, _ := aCounts(t, c, q); m != 0 {
		t.Fatalf("queue has %d messages after purge", m)
	}
	if n, err := ch.QueuePurge(q, false); err != nil || n != 0 {
		t.Fatalf("second purge: %d %v, want 0", n, err)
	}
	if err := gch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	if m, _ := aCounts(t, c, q); m != 1 {
		t.Fatalf("queue has %d messages after the unacked one's channel closed, want 1", m)
	}
	missing := Name("noq")
	aChannelError(t, c, amqp091.NotFound, qNotFound(env, missing), "purge of a missing queue",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueuePurge(missing, false)
			return err
		})
}

// qDelete: delete returns the ready message count, removes the queue and
// its bindings.
func qDelete(t T, env *Env) {
	c, ch := env.Channel(t)
	x := aExchange(t, env, ch, "qdel", "fanout")
	q := aQueue(t, env, ch, "qdel")
	aBind(t, ch, q, "", x, nil)
	aPublish(t, c, "", false, []string{q, q}, amqp091.Publishing{Body: []byte("m")})
	n, err := ch.QueueDelete(q, false, false, false)
	if err != nil {
		t.Fatalf("queue.delete: %v", err)
	}
	if n != 2 {
		t.Fatalf("delete-ok message count %d, want 2", n)
	}
	if aQueueExists(t, c, q) {
		t.Fatalf("queue still exists after delete")
	}
	// Re-created under the same name, it has no binding to x.
	if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
		t.Fatalf("redeclare: %v", err)
	}
	aPublish1(t, c, x, "", "after")
	if m, _ := aCounts(t, c, q); m != 0 {
		t.Fatalf("re-created queue got %d messages through the old binding", m)
	}
}

// qDeleteIfEmpty: delete if-empty of a queue with messages is 406; the
// queue and its messages stay. On an empty queue it succeeds.
func qDeleteIfEmpty(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qife")
	aPublish1(t, c, "", q, "m")
	aChannelError(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - queue '"+q+"' in vhost '"+aVhost(env)+"' not empty", "delete if-empty",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDelete(q, false, true, false)
			return err
		})
	if m, _ := aCounts(t, c, q); m != 1 {
		t.Fatalf("queue has %d messages after the refused delete, want 1", m)
	}
	aDrain(t, c, q)
	ch2 := aChannel(t, c)
	if n, err := ch2.QueueDelete(q, false, true, false); err != nil || n != 0 {
		t.Fatalf("delete if-empty of an empty queue: %d %v", n, err)
	}
}

// qDeleteIfUnused: delete if-unused of a queue with a consumer is 406; the
// consumer keeps receiving. Without consumers it succeeds.
func qDeleteIfUnused(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qifu")
	ds, err := ch.Consume(q, "keeps", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	aChannelError(t, c, amqp091.PreconditionFailed,
		"PRECONDITION_FAILED - queue '"+q+"' in vhost '"+aVhost(env)+"' in use", "delete if-unused",
		func(ch *amqp091.Channel) error {
			_, err := ch.QueueDelete(q, true, false, false)
			return err
		})
	aPublish1(t, c, "", q, "still")
	select {
	case d := <-ds:
		if string(d.Body) != "still" {
			t.Fatalf("consumer got %q", d.Body)
		}
	case <-time.After(Timeout):
		t.Fatalf("consumer got nothing after the refused delete")
	}
	if err := ch.Cancel("keeps", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	ch2 := aChannel(t, c)
	if _, err := ch2.QueueDelete(q, true, false, false); err != nil {
		t.Fatalf("delete if-unused without consumers: %v", err)
	}
}

// qDeleteMissing: deleting a missing queue succeeds with count 0 (RabbitMQ
// 3.x made queue.delete idempotent).
func qDeleteMissing(t T, env *Env) {
	c, ch := env.Channel(t)
	for _, f := range [][2]bool{{false, false}, {true, true}} {
		n, err := ch.QueueDelete(Name("noq"), f[0], f[1], false)
		if err != nil || n != 0 {
			t.Fatalf("queue.delete (if-unused %v, if-empty %v) of a missing queue: %d %v", f[0], f[1], n, err)
		}
	}
	aConnUsable(t, c, "after deleting missing queues")
}

// qDeleteCancels: deleting a queue cancels its consumers with a
// server-sent basic.cancel (consumer_cancel_notify).
func qDeleteCancels(t T, env *Env) {
	c, ch := env.Channel(t)
	q := aQueue(t, env, ch, "qdc")
	cch := aChannel(t, c)
	cancels := cch.NotifyCancel(make(chan string, 1))
	ds, err := cch.Consume(q, "doomed", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	if _, err := ch.QueueDelete(q, false, false, false); err != nil {
		t.Fatalf("queue.delete: %v", err)
	}
	select {
	case tag := <-cancels:
		if tag != "doomed" {
			t.Fatalf("basic.cancel for %q, want %q", tag, "doomed")
		}
	case <-time.After(Timeout):
		t.Fatalf("no basic.cancel within %v", Timeout)
	}
	select {
	case _, ok := <-ds:
		if ok {
			t.Fatalf("delivery after the queue was deleted")
		}
	case <-time.After(Timeout):
		t.Fatalf("delivery channel not closed after basic.cancel")
	}
	aConnUsable(t, c, "after the consumer was cancelled")
	if cch.IsClosed() {
		t.Fatalf("consumer's channel closed")
	}
}

// qDefaultExchange: every queue is bound to the default exchange under its
// own name and nothing else; a mandatory message to an unknown name comes
// back.
func qDefaultExchange(t T, env *Env) {
	c, ch := env.Channel(t)
	q1 := aQueue(t, env, ch, "qdef")
	q2 := aQueue(t, env, ch, "qdef")
	missing := Name("noq")
	returned := aPublish(t, c, "", true, []string{q1, q2, q2, missing}, amqp091.Publishing{})
	if len(returned) != 1 || returned[0] != missing {
		t.Errorf("returned %q, want only %q", returned, missing)
	}
	aExpectBodies(t, c, q1, "default exchange to q1", q1)
	aExpectBodies(t, c, q2, "default exchange to q2", q2, q2)
}

// qLastDeclared: an empty queue name in queue.bind, basic.get, queue.purge
// and queue.delete means the queue last declared on the channel; on a
// channel that declared none it is an error.
func qLastDeclared(t T, env *Env) {
	c, ch := env.Channel(t)
	st, err := ch.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	q := st.Name // exclusive: goes with the connection
	if err := ch.QueueBind("", q, "amq.direct", false, nil); err != nil {
		t.Fatalf("queue.bind \"\": %v", err)
	}
	aPublish(t, c, "amq.direct", false, []string{q, q}, amqp091.Publishing{})
	d, ok, err := ch.Get("", true)
	if err != nil || !ok || string(d.Body) != q {
		t.Fatalf("basic.get \"\": %q ok=%v err=%v", d.Body, ok, err)
	}
	if n, err := ch.QueuePurge("", false); err != nil || n != 1 {
		t.Fatalf("queue.purge \"\": %d %v, want 1", n, err)
	}
	if _, err := ch.QueueDelete("", false, false, false); err != nil {
		t.Fatalf("queue.delete \"\": %v", err)
	}
	if aQueueExists(t, c, q) {
		t.Fatalf("queue.delete \"\" did not delete %q", q)
	}
	aChannelError(t, c, amqp091.NotFound, "NOT_FOUND - no previously declared queue", "basic.get \"\" on a fresh channel",
		func(ch *amqp091.Channel) error {
			_, _, err := ch.Get("", true)
			return err
		})
}
