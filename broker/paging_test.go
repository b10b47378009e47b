package broker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/broker/brokertest"
)

func smallMemory(o *broker.Options) { o.QueueMemoryMessages = 8 }

// TestPagedQueueKeepsOrder: far more messages than a queue may hold in
// memory, persistent and transient mixed, come out in publish order to a
// consumer, and the persistent ones survive a restart even when they were
// only in the store.
func TestPagedQueueKeepsOrder(t *testing.T) {
	s := brokertest.New(t, smallMemory)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("long", true, false, false, false, nil)
	must(t, err)
	want := numbered(0, 200)
	wantDurable := publishMixed(t, ch, "long", want)
	st, err := ch.QueueDeclarePassive("long", true, false, false, false, nil)
	must(t, err)
	if st.Messages != 200 {
		t.Fatalf("message count %d, want 200 (paged ones included)", st.Messages)
	}

	s.Restart()
	ch = channel(t, s.URL())
	got, _ := getAll(t, ch, "long")
	if fmt.Sprint(got) != fmt.Sprint(wantDurable) {
		t.Fatalf("after restart got %d messages %v\nwant %d %v", len(got), got, len(wantDurable), wantDurable)
	}

	// And with a consumer instead of gets, on a transient queue.
	_, err = ch.QueueDeclare("long-transient", false, false, false, false, nil)
	must(t, err)
	for _, b := range want {
		must(t, ch.Publish("", "long-transient", false, false, amqp091.Publishing{Body: []byte(b)}))
	}
	c2 := channel(t, s.URL())
	must(t, c2.Qos(5, 0, false))
	ds, err := c2.Consume("long-transient", "", false, false, false, false, nil)
	must(t, err)
	for i, w := range want {
		select {
		case d := <-ds:
			if string(d.Body) != w {
				t.Fatalf("delivery %d: %q, want %q", i, d.Body, w)
			}
			must(t, d.Ack(false))
		case <-time.After(5 * time.Second):
			t.Fatalf("delivery %d missing", i)
		}
	}
}

// TestPagedAckedStayGone: messages acked after being read back from the
// store do not return after a restart.
func TestPagedAckedStayGone(t *testing.T) {
	s := brokertest.New(t, smallMemory)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("q", true, false, false, false, nil)
	must(t, err)
	var bodies []string
	for i := range 50 {
		bodies = append(bodies, fmt.Sprint(i))
	}
	publishConfirmed(t, ch, "", "q", bodies, true)
	for i := range 40 { // ack the first 40, leave 10
		d, ok, err := ch.Get("q", false)
		must(t, err)
		if !ok || string(d.Body) != bodies[i] {
			t.Fatalf("get %d: %v %q", i, ok, d.Body)
		}
		must(t, d.Ack(false))
	}
	// basic.ack has no reply: a synchronous method on the same channel
	// proves the broker has processed the acks before the restart.
	_, err = ch.QueueDeclarePassive("q", true, false, false, false, nil)
	must(t, err)
	s.Restart()
	got, _ := getAll(t, channel(t, s.URL()), "q")
	if fmt.Sprint(got) != fmt.Sprint(bodies[40:]) {
		t.Fatalf("after restart: %v, want %v", got, bodies[40:])
	}
}

// publishMixed publishes bodies to queue q, every other one persistent,
// with confirms, and returns the bodies of the persistent ones.
func publishMixed(t *testing.T, ch *amqp091.Channel, q string, bodies []string) (durable []string) {
	t.Helper()
	must(t, ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, len(bodies)))
	for i, b := range bodies {
		mode := amqp091.Transient
		if i%2 == 0 {
			mode = amqp091.Persistent
			durable = append(durable, b)
		}
		must(t, ch.Publish("", q, false, false, amqp091.Publishing{DeliveryMode: mode, Body: []byte(b)}))
	}
	for range bodies {
		select {
		case c := <-acks:
			if !c.Ack {
				t.Fatalf("nack %d", c.DeliveryTag)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("confirm missing")
		}
	}
	return durable
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// TestPagedMixedTailMergesInOrder: a durable queue's paged tail holds
// persistent messages in the store and transient ones in the spool; read
// back, they interleave in publish order, also after a purge of the tail.
func TestPagedMixedTailMergesInOrder(t *testing.T) {
	s := brokertest.New(t, smallMemory)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("mixed", true, false, false, false, nil)
	must(t, err)
	first := numbered(0, 300)
	publishMixed(t, ch, "mixed", first)
	got, _ := getAll(t, ch, "mixed")
	if fmt.Sprint(got) != fmt.Sprint(first) {
		t.Fatalf("got %d messages %v\nwant %d %v", len(got), got, len(first), first)
	}

	publishMixed(t, ch, "mixed", numbered(300, 400))
	n, err := ch.QueuePurge("mixed", false)
	must(t, err)
	if n != 100 {
		t.Fatalf("purged %d, want 100", n)
	}
	second := numbered(400, 500)
	durable := publishMixed(t, ch, "mixed", second)
	s.Restart()
	ch = channel(t, s.URL())
	got, _ = getAll(t, ch, "mixed")
	if fmt.Sprint(got) != fmt.Sprint(durable) {
		t.Fatalf("after purge and restart got %v\nwant the persistent ones %v", got, durable)
	}
}

// spoolFiles counts this process's open files in a spool directory (they
// are unlinked, so the directory listing shows none).
func spoolFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.Contains(target, string(filepath.Separator)+"spool"+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// TestDeletedQueueReleasesItsSpool: the spool file of a paged transient
// queue is open while the queue pages, and closed when the queue goes.
func TestDeletedQueueReleasesItsSpool(t *testing.T) {
	s := brokertest.New(t, smallMemory)
	ch := channel(t, s.URL())
	before := spoolFiles(t)
	_, err := ch.QueueDeclare("spooled", false, false, false, false, nil)
	must(t, err)
	for _, b := range numbered(0, 100) {
		must(t, ch.Publish("", "spooled", false, false, amqp091.Publishing{Body: []byte(b)}))
	}
	st, err := ch.QueueDeclarePassive("spooled", false, false, false, false, nil)
	must(t, err)
	if st.Messages != 100 {
		t.Fatalf("%d messages, want 100", st.Messages)
	}
	if n := spoolFiles(t); n != before+1 {
		t.Fatalf("%d spool files open while the queue pages, want %d", n, before+1)
	}
	_, err = ch.QueueDelete("spooled", false, false, false)
	must(t, err)
	if n := spoolFiles(t); n != before {
		t.Fatalf("%d spool files open after the queue was deleted, want %d", n, before)
	}
}
