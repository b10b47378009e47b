package broker_test

import (
	"fmt"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/broker/brokertest"
)

// The persistent parts of RabbitMQ's extensions across a restart.

func TestDelayedMessagesSurviveRestart(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	must(t, ch.ExchangeDeclare("delayed", "x-delayed-message", true, false, false, false,
		amqp091.Table{"x-delayed-type": "direct"}))
	_, err := ch.QueueDeclare("dq", true, false, false, false, nil)
	must(t, err)
	must(t, ch.QueueBind("dq", "k", "delayed", false, nil))
	must(t, ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, 1))
	must(t, ch.Publish("delayed", "k", false, false, amqp091.Publishing{
		DeliveryMode: amqp091.Persistent, Headers: amqp091.Table{"x-delay": int32(1500)}, Body: []byte("later")}))
	if c := <-acks; !c.Ack {
		t.Fatal("delayed publish nacked")
	}
	published := time.Now()
	s.Restart()
	ch = channel(t, s.URL())
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		got, _ = getAll(t, ch, "dq")
		if len(got) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if fmt.Sprint(got) != "[later]" {
		t.Fatalf("after restart: %v, want the delayed message", got)
	}
	if held := time.Since(published); held < 1500*time.Millisecond {
		t.Fatalf("delivered %v after publishing, before its 1.5 s delay", held)
	}
}

func TestPriorityQueueSurvivesRestart(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("prio", true, false, false, false, amqp091.Table{"x-max-priority": int32(10)})
	must(t, err)
	must(t, ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, 4))
	for _, p := range []uint8{1, 9, 5, 0} {
		must(t, ch.Publish("", "prio", false, false, amqp091.Publishing{
			DeliveryMode: amqp091.Persistent, Priority: p, Body: []byte(fmt.Sprint("p", p))}))
	}
	for range 4 {
		if c := <-acks; !c.Ack {
			t.Fatal("nack")
		}
	}
	s.Restart()
	got, _ := getAll(t, channel(t, s.URL()), "prio")
	if fmt.Sprint(got) != "[p9 p5 p1 p0]" {
		t.Fatalf("after restart: %v, want [p9 p5 p1 p0]", got)
	}
}

// TestTTLDeadlineSurvivesRestart: a persistent message keeps its expiry
// across a restart; it is dead-lettered when it runs out, not kept.
func TestTTLDeadlineSurvivesRestart(t *testing.T) {
	s := brokertest.New(t)
	ch := channel(t, s.URL())
	_, err := ch.QueueDeclare("dead", true, false, false, false, nil)
	must(t, err)
	_, err = ch.QueueDeclare("ttl", true, false, false, false, amqp091.Table{
		"x-message-ttl": int32(60000), "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"})
	must(t, err)
	must(t, ch.Confirm(false))
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, 2))
	must(t, ch.Publish("", "ttl", false, false, amqp091.Publishing{DeliveryMode: amqp091.Persistent,
		Expiration: "800", Body: []byte("short")}))
	must(t, ch.Publish("", "ttl", false, false, amqp091.Publishing{DeliveryMode: amqp091.Persistent,
		Body: []byte("long")}))
	for range 2 {
		if c := <-acks; !c.Ack {
			t.Fatal("nack")
		}
	}
	s.Restart()
	ch = channel(t, s.URL())
	var dead []string
	deadline := time.Now().Add(10 * time.Second)
	for len(dead) == 0 && time.Now().Before(deadline) {
		dead, _ = getAll(t, ch, "dead")
		if len(dead) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if fmt.Sprint(dead) != "[short]" {
		t.Fatalf("dead-lettered after restart: %v, want [short]", dead)
	}
	if got, _ := getAll(t, ch, "ttl"); fmt.Sprint(got) != "[long]" {
		t.Fatalf("left in the TTL queue: %v, want [long]", got)
	}
}
