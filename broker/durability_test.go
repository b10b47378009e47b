package broker_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/broker/brokertest"
)

func channel(t *testing.T, url string) *amqp091.Channel {
	t.Helper()
	ch, err := dial(t, url).Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func publishConfirmed(t *testing.T, ch *amqp091.Channel, exchange, key string, bodies []string, persistent bool) {
	t.Helper()
	must(t, ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, len(bodies)))
	mode := amqp091.Transient
	if persistent {
		mode = amqp091.Persistent
	}
	for _, b := range bodies {
		must(t, ch.Publish(exchange, key, false, false, amqp091.Publishing{DeliveryMode: mode, Body: []byte(b)}))
	}
	for i := range bodies {
		select {
		case c := <-acks:
			if !c.Ack {
				t.Fatalf("publish %d nacked", c.DeliveryTag)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("confirm %d of %d not received", i+1, len(bodies))
		}
	}
}

func getAll(t *testing.T, ch *amqp091.Channel, q string) (bodies []string, redelivered []bool) {
	t.Helper()
	for {
		d, ok, err := ch.Get(q, true)
		must(t, err)
		if !ok {
			return bodies, redelivered
		}
		bodies = append(bodies, string(d.Body))
		redelivered = append(redelivered, d.Redelivered)
	}
}

func TestDefinitionsSurviveRestart(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	args := amqp091.Table{"x-max-length": int32(10), "x-custom": "kept"}
	_, err := ch.QueueDeclare("durable.q", true, false, false, false, args)
	must(t, err)
	_, err = ch.QueueDeclare("transient.q", false, false, false, false, nil)
	must(t, err)
	must(t, ch.ExchangeDeclare("durable.x", "topic", true, false, false, false, nil))
	must(t, ch.ExchangeDeclare("transient.x", "fanout", false, false, false, false, nil))
	must(t, ch.ExchangeDeclare("durable.e2e", "fanout", true, false, false, false, nil))
	must(t, ch.QueueBind("durable.q", "a.#", "durable.x", false, nil))
	must(t, ch.ExchangeBind("durable.x", "", "durable.e2e", false, nil))
	must(t, ch.QueueBind("durable.q", "k", "amq.direct", false, nil))

	s.Restart()
	ch = channel(t, s.URL())
	// Redeclaring with the same arguments succeeds only if they came back.
	_, err = ch.QueueDeclare("durable.q", true, false, false, false, args)
	must(t, err)
	must(t, ch.ExchangeDeclarePassive("durable.x", "topic", true, false, false, false, nil))
	must(t, ch.ExchangeDeclarePassive("durable.e2e", "fanout", true, false, false, false, nil))
	// Bindings: through the topic exchange, the exchange-to-exchange
	// binding and the built-in amq.direct.
	must(t, ch.Publish("durable.x", "a.b", false, false, amqp091.Publishing{Body: []byte("topic")}))
	must(t, ch.Publish("durable.e2e", "a.e2e", false, false, amqp091.Publishing{Body: []byte("e2e")}))
	must(t, ch.Publish("amq.direct", "k", false, false, amqp091.Publishing{Body: []byte("direct")}))
	got := waitGetAll(t, ch, "durable.q", 3)
	if fmt.Sprint(got) != "[topic e2e direct]" {
		t.Fatalf("routed after restart: %v, want [topic e2e direct]", got)
	}
	for _, name := range []string{"transient.q"} {
		c := channel(t, s.URL())
		if _, err := c.QueueDeclarePassive(name, false, false, false, false, nil); !isCode(err, 404) {
			t.Fatalf("transient queue %s after restart: %v, want 404", name, err)
		}
	}
	c := channel(t, s.URL())
	if err := c.ExchangeDeclarePassive("transient.x", "fanout", false, false, false, false, nil); !isCode(err, 404) {
		t.Fatalf("transient exchange after restart: %v, want 404", err)
	}
}

// waitGetAll gets n messages, waiting for ones still being routed.
func waitGetAll(t *testing.T, ch *amqp091.Channel, q string, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		b, _ := getAll(t, ch, q)
		got = append(got, b...)
		if len(got) < n {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return got
}

func isCode(err error, code int) bool {
	var ae *amqp091.Error
	return errors.As(err, &ae) && ae.Code == code
}

func TestPersistentMessagesSurviveRestart(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("dq", true, false, false, false, nil)
	must(t, err)
	_, err = ch.QueueDeclare("tq", false, false, false, false, nil)
	must(t, err)
	var bodies []string
	for i := range 50 {
		bodies = append(bodies, fmt.Sprint("m", i))
	}
	publishConfirmed(t, ch, "", "dq", bodies, true)
	publishConfirmed(t, ch, "", "dq", []string{"transient"}, false)
	publishConfirmed(t, channel(t, s.URL()), "", "tq", []string{"in a transient queue"}, true)

	s.Restart()
	ch = channel(t, s.URL())
	got, redelivered := getAll(t, ch, "dq")
	if fmt.Sprint(got) != fmt.Sprint(bodies) {
		t.Fatalf("after restart: %v\nwant %v", got, bodies)
	}
	for i, r := range redelivered {
		if !r {
			t.Fatalf("recovered message %d not marked redelivered", i)
		}
	}
	// Nothing comes back a second time: the gets above acked them.
	s.Restart()
	ch = channel(t, s.URL())
	if got, _ := getAll(t, ch, "dq"); len(got) != 0 {
		t.Fatalf("acked messages came back: %v", got)
	}
}

func TestUnackedComeBackAckedDoNot(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("q", true, false, false, false, nil)
	must(t, err)
	publishConfirmed(t, ch, "", "q", []string{"1", "2", "3", "4"}, true)
	// Ack 1 and 3, leave 2 and 4 delivered but unacked, then purge nothing.
	for i := 1; i <= 4; i++ {
		d, ok, err := ch.Get("q", false)
		must(t, err)
		if !ok {
			t.Fatalf("get %d: empty", i)
		}
		if i%2 == 1 {
			must(t, d.Ack(false))
		}
	}
	// The broker stops with 2 and 4 unacked: they come back, redelivered.
	s.Restart()
	ch = channel(t, s.URL())
	got, redelivered := getAll(t, ch, "q")
	if fmt.Sprint(got) != "[2 4]" || fmt.Sprint(redelivered) != "[true true]" {
		t.Fatalf("after restart: %v redelivered %v, want [2 4] [true true]", got, redelivered)
	}
}

func TestPurgeAndDeleteAreDurable(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	for _, q := range []string{"purged", "deleted"} {
		_, err := ch.QueueDeclare(q, true, false, false, false, nil)
		must(t, err)
		publishConfirmed(t, channel(t, s.URL()), "", q, []string{"a", "b"}, true)
	}
	n, err := ch.QueuePurge("purged", false)
	must(t, err)
	if n != 2 {
		t.Fatalf("purge: %d, want 2", n)
	}
	_, err = ch.QueueDelete("deleted", false, false, false)
	must(t, err)
	s.Restart()
	ch = channel(t, s.URL())
	if got, _ := getAll(t, ch, "purged"); len(got) != 0 {
		t.Fatalf("purged messages came back: %v", got)
	}
	if _, err := ch.QueueDeclarePassive("deleted", true, false, false, false, nil); !isCode(err, 404) {
		t.Fatalf("deleted queue after restart: %v, want 404", err)
	}
}

// failingStore fails every AppendOnce while fail is set.
type failingStore struct {
	broker.Persister
	fail atomic.Bool
}

func (f *failingStore) AppendOnce(qid, seq uint64, rec []byte, done func(error)) {
	if f.fail.Load() {
		done(errors.New("injected write failure"))
		return
	}
	f.Persister.AppendOnce(qid, seq, rec, done)
}

// TestStoreFailureNacks: a persistent publish whose write fails is nacked,
// never acked, and the broker keeps serving.
func TestStoreFailureNacks(t *testing.T) {
	var fs *failingStore
	s := brokertest.New(t, func(o *broker.Options) {
		fs = &failingStore{Persister: o.Store}
		o.Store = fs
	})
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("q", true, false, false, false, nil)
	must(t, err)
	must(t, ch.Confirm(false))
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 3))
	pub := func(body string) {
		must(t, ch.Publish("", "q", false, false, amqp091.Publishing{DeliveryMode: amqp091.Persistent, Body: []byte(body)}))
	}
	next := func() amqp091.Confirmation {
		select {
		case c := <-confirms:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no confirm")
			return amqp091.Confirmation{}
		}
	}
	pub("ok-1")
	if c := next(); !c.Ack || c.DeliveryTag != 1 {
		t.Fatalf("confirm 1: %+v, want ack", c)
	}
	fs.fail.Store(true)
	pub("lost")
	if c := next(); c.Ack || c.DeliveryTag != 2 {
		t.Fatalf("confirm 2: %+v, want nack", c)
	}
	fs.fail.Store(false)
	pub("ok-2")
	if c := next(); !c.Ack || c.DeliveryTag != 3 {
		t.Fatalf("confirm 3: %+v, want ack", c)
	}
}
