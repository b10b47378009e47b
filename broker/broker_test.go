package broker_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/broker/brokertest"
)

func dial(t testing.TB, url string) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.Dial(url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestPublishConsumeAck(t *testing.T) {
	s := brokertest.New(t)
	c := dial(t, s.URL())
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	// Exclusive, not auto-delete: the queue must outlive the consuming
	// channel so that the test can look at what is left in it.
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		if err := ch.Publish("", q.Name, false, false, amqp091.Publishing{Body: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := ch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		select {
		case d := <-msgs:
			if got := string(d.Body); got != fmt.Sprint(i) {
				t.Fatalf("message %d: body %q", i, got)
			}
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for message %d", i)
		}
	}
	// Everything was acked: nothing comes back after the channel closes.
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	ch2, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	st, err := ch2.QueueDeclarePassive(q.Name, false, false, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 0 {
		t.Fatalf("%d messages left after acking all", st.Messages)
	}
}

// TestNoGoroutineLeakPerConnection opens and closes connections with
// channels, consumers and unacked messages, and checks that the broker's
// goroutine count returns to where it started.
func TestNoGoroutineLeakPerConnection(t *testing.T) {
	s := brokertest.New(t)
	before := countBrokerGoroutines()
	for i := range 20 {
		c, err := amqp091.Dial(s.URL())
		if err != nil {
			t.Fatal(err)
		}
		ch, err := c.Channel()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ch.QueueDeclare(fmt.Sprintf("leak-%d", i), false, false, true, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.Publish("", q.Name, false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Consume(q.Name, "", false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			_ = c.Close()
		} else {
			// An abrupt disconnect must release everything too.
			_ = c.CloseDeadline(time.Now())
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		after := countBrokerGoroutines()
		if after <= before && s.ConnectionCount() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker goroutines: %d before, %d after closing every connection (%d connections open)",
				before, after, s.ConnectionCount())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countBrokerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "warren/broker.(*conn)") {
			n++
		}
	}
	return n
}

// TestShutdownClosesWith320 checks that clients learn why they were
// disconnected.
func TestShutdownClosesWith320(t *testing.T) {
	s := brokertest.New(t)
	c := dial(t, s.URL())
	closed := c.NotifyClose(make(chan *amqp091.Error, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != 320 {
			t.Fatalf("close: %v, want 320 CONNECTION_FORCED", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed by shutdown")
	}
}

// TestConnectionBlocked: while the server is blocked, a publishing
// connection gets connection.blocked and its publishes wait; Unblock sends
// connection.unblocked and lets them through.
func TestConnectionBlocked(t *testing.T) {
	s := brokertest.New(t)
	c := dial(t, s.URL())
	blocks := c.NotifyBlocked(make(chan amqp091.Blocking, 2))
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("blocked-q", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Block("low on memory")
	if err := ch.Publish("", q.Name, false, false, amqp091.Publishing{Body: []byte("held")}); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-blocks:
		if !b.Active || b.Reason != "low on memory" {
			t.Fatalf("blocking notification %+v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection.blocked")
	}
	// The publish is held: another connection sees an empty queue.
	other, err := dial(t, s.URL()).Channel()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := other.QueueDeclarePassive(q.Name, false, false, false, false, nil); err != nil || st.Messages != 0 {
		t.Fatalf("while blocked: %+v %v, want an empty queue", st, err)
	}
	s.Unblock()
	select {
	case b := <-blocks:
		if b.Active {
			t.Fatalf("want unblocked, got %+v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection.unblocked")
	}
	got := waitGetAll(t, ch, q.Name, 1)
	if len(got) != 1 || got[0] != "held" {
		t.Fatalf("after unblock: %v", got)
	}
}

// writerGoroutines counts the connection writer goroutines running.
func writerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*conn).writeLoop(")
}

// TestIdleConnectionHasNoWriterGoroutine: the handshake and the replies
// to synchronous methods are written by the connection's reader, so a
// connection that only opens, declares and waits holds one goroutine
// (memory per idle connection is measured); deliveries under load start
// the writer.
func TestIdleConnectionHasNoWriterGoroutine(t *testing.T) {
	s := brokertest.New(t)
	before := writerGoroutines()
	conn := dial(t, s.URL())
	ch, err := conn.Channel()
	must(t, err)
	_, err = ch.QueueDeclare("idle", false, false, false, false, nil)
	must(t, err)
	must(t, ch.Qos(10, 0, false))
	if n := writerGoroutines() - before; n != 0 {
		t.Fatalf("%d writer goroutines for an idle connection, want 0", n)
	}
	// Output the reader cannot write inline (a delivery that another
	// connection's publish makes while that publisher has more input)
	// still gets written.
	ds, err := ch.Consume("idle", "", true, false, false, false, nil)
	must(t, err)
	pub := channel(t, s.URL())
	for i := range 50 {
		must(t, pub.Publish("", "idle", false, false, amqp091.Publishing{Body: []byte(fmt.Sprint(i))}))
	}
	for i := range 50 {
		select {
		case d := <-ds:
			if string(d.Body) != fmt.Sprint(i) {
				t.Fatalf("delivery %d: %q", i, d.Body)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("delivery %d missing", i)
		}
	}
}
