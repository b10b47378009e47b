package conformance

// Priority queues (x-max-priority), consumer priorities (x-priority) and
// single active consumer (x-single-active-consumer).

import (
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		xCase("priority-queue-order", xPriorityOrder),
		xCase("priority-ignored-without-max-priority", xPriorityIgnored),
		xCase("priority-durable-persistent", xPriorityDurable),
		xCase("priority-requeued-keeps-priority", xPriorityRequeue),
		xCase("consumer-priority-highest-first", xConsumerPriority),
		xCase("consumer-priority-blocked-falls-to-lower", xConsumerPriorityBlocked),
		xCase("single-active-consumer-failover-on-cancel", xSAC(false)),
		xCase("single-active-consumer-failover-on-channel-close", xSAC(true)),
	)
}

// xPrioMsg is a message with a priority; amqp091-go sends priority 0 as
// no priority property.
type xPrioMsg struct {
	prio uint8
	body string
}

func xPublishPrio(t T, c *amqp091.Connection, q string, persistent bool, msgs []xPrioMsg) {
	t.Helper()
	for _, m := range msgs {
		p := amqp091.Publishing{Body: []byte(m.body), Priority: m.prio}
		if persistent {
			p.DeliveryMode = amqp091.Persistent
		}
		aPublish(t, c, "", false, []string{q}, p)
	}
}

// xPriorityOrder: a priority queue delivers higher priorities first, FIFO
// within one priority; a priority above x-max-priority counts as the
// maximum, and no priority as 0.
func xPriorityOrder(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xprio", amqp091.Table{"x-max-priority": int32(10)})
	xPublishPrio(t, c, q, false, []xPrioMsg{
		{1, "a1"}, {5, "b1"}, {0, "z1"}, {1, "a2"}, {9, "c1"},
		{5, "b2"}, {200, "top1"}, {10, "top2"}, {0, "z2"},
	})
	xExpectBodies(t, aDrain(t, c, q), "priority order", "top1", "top2", "c1", "b1", "b2", "a1", "a2", "z1", "z2")

	// The same for a consumer that attaches to a queue already holding
	// the messages.
	xPublishPrio(t, c, q, false, []xPrioMsg{{2, "low"}, {7, "high"}, {4, "mid"}})
	ds := bConsume(t, aChannel(t, c), q, "prio", true)
	xExpectBodies(t, bBodies(bRecvN(t, ds, 3, "consumer")), "priority order to a consumer", "high", "mid", "low")
}

// xPriorityIgnored: without x-max-priority the priority property does not
// reorder a queue.
func xPriorityIgnored(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xnoprio", nil)
	xPublishPrio(t, c, q, false, []xPrioMsg{{1, "1"}, {9, "2"}, {5, "3"}})
	xExpectBodies(t, aDrain(t, c, q), "FIFO order", "1", "2", "3")
}

// xPriorityDurable: a durable priority queue takes persistent messages and
// orders them. (That they survive a restart is tested in-process, not
// against a shared broker.)
func xPriorityDurable(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueueDurable(t, env, ch, "xpriod", true, amqp091.Table{"x-max-priority": int32(5)})
	xPublishPrio(t, c, q, true, []xPrioMsg{{1, "p1"}, {5, "p5"}, {3, "p3"}, {5, "p5b"}})
	var got []string
	for i := 0; i < 4; i++ {
		d := bGet(t, ch, q, true, "basic.get")
		if d.DeliveryMode != amqp091.Persistent {
			t.Errorf("message %q has delivery mode %d, want 2 (persistent)", d.Body, d.DeliveryMode)
		}
		got = append(got, string(d.Body))
	}
	xExpectBodies(t, got, "durable priority queue order", "p5", "p5b", "p3", "p1")
}

// xPriorityRequeue: a message requeued into a priority queue goes back
// ahead of lower priorities.
func xPriorityRequeue(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xprioreq", amqp091.Table{"x-max-priority": int32(10)})
	xPublishPrio(t, c, q, false, []xPrioMsg{{8, "high"}, {2, "low1"}, {2, "low2"}})
	d := bGet(t, ch, q, false, "basic.get")
	if string(d.Body) != "high" {
		t.Fatalf("got %q, want \"high\"", d.Body)
	}
	if err := d.Nack(false, true); err != nil {
		t.Fatalf("basic.nack requeue: %v", err)
	}
	xExpectBodies(t, aDrain(t, c, q), "after requeue", "high", "low1", "low2")
}

// xConsumerPriority: messages go to the consumer with the highest
// x-priority while it can take them; when it goes, to the next one.
func xConsumerPriority(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xcprio", nil)
	lch, hch := aChannel(t, c), aChannel(t, c)
	low, err := lch.Consume(q, "low", true, false, false, false, amqp091.Table{"x-priority": int32(1)})
	if err != nil {
		t.Fatalf("basic.consume x-priority 1: %v", err)
	}
	high, err := hch.Consume(q, "high", true, false, false, false, amqp091.Table{"x-priority": int32(10)})
	if err != nil {
		t.Fatalf("basic.consume x-priority 10: %v", err)
	}
	def := bConsume(t, aChannel(t, c), q, "default", true) // priority 0
	aPublish(t, c, "", false, []string{q, q, q, q, q}, amqp091.Publishing{})
	bRecvN(t, high, 5, "highest-priority consumer")
	bNoDelivery(t, low, "lower-priority consumer")
	bNoDelivery(t, def, "default-priority consumer")
	if err := hch.Cancel("high", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	aPublish(t, c, "", false, []string{q, q}, amqp091.Publishing{})
	bRecvN(t, low, 2, "next-priority consumer after the highest is cancelled")
	bNoDelivery(t, def, "default-priority consumer")
}

// xConsumerPriorityBlocked: a higher-priority consumer whose prefetch is
// full does not hold messages back: they go to the lower one.
func xConsumerPriorityBlocked(t T, env *Env) {
	c, ch := env.Channel(t)
	q := xQueue(t, env, ch, "xcprio", nil)
	hch, lch := aChannel(t, c), aChannel(t, c)
	if err := hch.Qos(2, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	high, err := hch.Consume(q, "high", false, false, false, false, amqp091.Table{"x-priority": int32(5)})
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	low, err := lch.Consume(q, "low", false, false, false, false, amqp091.Table{"x-priority": int32(-5)})
	if err != nil {
		t.Fatalf("basic.consume with a negative x-priority: %v", err)
	}
	bPublish(t, env, q, bNums(5)...)
	hd := bRecvN(t, high, 2, "high-priority consumer up to its prefetch")
	ld := bRecvN(t, low, 3, "low-priority consumer gets the rest")
	xExpectBodies(t, bBodies(hd), "high-priority consumer", "1", "2")
	xExpectBodies(t, bBodies(ld), "low-priority consumer", "3", "4", "5")
	bNoDelivery(t, high, "high-priority consumer at its prefetch")
	// Room again: the next message goes to the high-priority consumer.
	if err := hd[1].Ack(true); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: []byte("6")})
	if d := bRecv(t, high, "high-priority consumer with room again"); string(d.Body) != "6" {
		t.Fatalf("got %q, want \"6\"", d.Body)
	}
	bNoDelivery(t, low, "low-priority consumer")
}

// xSAC: with x-single-active-consumer only the first consumer gets
// messages, the others stand by (the queue counts them all). When the
// active one goes, the next consumer in order of registration takes over.
// On channel.close the unacked messages of the old one are requeued and go
// to the new one first; after basic.cancel they stay with the old channel
// (as for any cancelled consumer) until it rejects them with requeue.
func xSAC(closeChannel bool) func(T, *Env) {
	return func(t T, env *Env) {
		c, ch := env.Channel(t)
		q := xQueue(t, env, ch, "xsac", amqp091.Table{"x-single-active-consumer": true})
		var chans []*amqp091.Channel
		var dss []<-chan amqp091.Delivery
		for i := 0; i < 3; i++ {
			cch := aChannel(t, c)
			chans = append(chans, cch)
			dss = append(dss, bConsume(t, cch, q, fmt.Sprintf("c%d", i), false))
		}
		if _, n := aCounts(t, c, q); n != 3 {
			t.Errorf("queue reports %d consumers, want 3", n)
		}
		bPublish(t, env, q, bNums(4)...)
		first := bRecvN(t, dss[0], 4, "active consumer")
		xExpectBodies(t, bBodies(first), "active consumer", "1", "2", "3", "4")
		bNoDelivery(t, dss[1], "second consumer while the first is active")
		bNoDelivery(t, dss[2], "third consumer while the first is active")
		if err := first[0].Ack(false); err != nil {
			t.Fatalf("basic.ack: %v", err)
		}
		expectRequeued := func() {
			t.Helper()
			got := bRecvN(t, dss[1], 3, "second consumer gets the requeued messages")
			xExpectBodies(t, bBodies(got), "requeued messages to the new active consumer", "2", "3", "4")
			for _, d := range got {
				if !d.Redelivered {
					t.Errorf("requeued message %q not flagged redelivered", d.Body)
				}
			}
		}
		if closeChannel {
			if err := chans[0].Close(); err != nil {
				t.Fatalf("channel.close: %v", err)
			}
			expectRequeued()
		} else if err := chans[0].Cancel("c0", false); err != nil {
			t.Fatalf("basic.cancel: %v", err)
		}
		bPublish(t, env, q, "5")
		if d := bRecv(t, dss[1], "new message to the new active consumer"); string(d.Body) != "5" {
			t.Fatalf("got %q, want \"5\"", d.Body)
		}
		if !closeChannel {
			if err := first[3].Nack(true, true); err != nil {
				t.Fatalf("basic.nack multiple requeue on the old channel: %v", err)
			}
			expectRequeued()
		}
		bNoDelivery(t, dss[2], "third consumer")
	}
}
