package broker_test

import (
	"fmt"
	"sync"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/broker/brokertest"
)

// BenchmarkEndToEnd is publish → route → queue → deliver → ack of 1 KB
// messages through an in-process broker, with amqp091-go on both sides.
// Its rate is bounded by the client (one write per publish), so it guards
// against regressions rather than measuring the broker's ceiling; that is
// warren-perf's job.
func BenchmarkEndToEnd(b *testing.B) {
	s := brokertest.New(b)
	pc := dial(b, s.URL())
	cc := dial(b, s.URL())
	pch, err := pc.Channel()
	if err != nil {
		b.Fatal(err)
	}
	cch, err := cc.Channel()
	if err != nil {
		b.Fatal(err)
	}
	q, err := cch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := cch.Qos(500, 0, false); err != nil {
		b.Fatal(err)
	}
	msgs, err := cch.Consume(q.Name, "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= b.N; i++ {
			d := <-msgs
			if i%100 == 0 || i == b.N {
				_ = d.Ack(true)
			}
		}
	}()
	for range b.N {
		if err := pch.Publish("", q.Name, false, false, amqp091.Publishing{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPersistentConfirm publishes persistent 1 KB messages to durable
// queues with confirms (a window of 100 per producer) and counts a message
// when its confirm arrives, that is, when it is fsynced: the group commit
// under 1 and 10 concurrent producers. amqp091-go bounds the client side.
func BenchmarkPersistentConfirm(b *testing.B) {
	for _, producers := range []int{1, 10} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			s := brokertest.New(b)
			body := make([]byte, 1024)
			per := (b.N + producers - 1) / producers
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			var wg sync.WaitGroup
			errs := make(chan error, producers)
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- publishWithConfirms(s.URL(), fmt.Sprintf("bench-%d", p), body, per, 100)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(per*producers)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func publishWithConfirms(url, queue string, body []byte, n, window int) error {
	c, err := amqp091.Dial(url)
	if err != nil {
		return err
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	acks := ch.NotifyPublish(make(chan amqp091.Confirmation, window))
	out := 0
	for i := 0; i < n; i++ {
		if out == window {
			if c := <-acks; !c.Ack {
				return fmt.Errorf("publish %d nacked", c.DeliveryTag)
			}
			out--
		}
		if err := ch.Publish("", queue, false, false, amqp091.Publishing{DeliveryMode: 2, Body: body}); err != nil {
			return err
		}
		out++
	}
	for ; out > 0; out-- {
		if c := <-acks; !c.Ack {
			return fmt.Errorf("publish %d nacked", c.DeliveryTag)
		}
	}
	return nil
}

// BenchmarkPagedDrain fills a queue far beyond its in-memory limit (1,000
// messages), so nearly every 1 KB message is paged to the store, then
// times a consumer draining it: the page-in path. The fill is not timed.
func BenchmarkPagedDrain(b *testing.B) {
	s := brokertest.New(b, func(o *broker.Options) { o.QueueMemoryMessages = 1000 })
	pc := dial(b, s.URL())
	pch, err := pc.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pch.QueueDeclare("paged", true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	for range b.N {
		if err := pch.Publish("", "paged", false, false, amqp091.Publishing{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	// A synchronous method orders the check after every publish above.
	if st, err := pch.QueueDeclarePassive("paged", true, false, false, false, nil); err != nil || st.Messages != b.N {
		b.Fatalf("queue holds %d messages (%v), want %d", st.Messages, err, b.N)
	}
	cch, err := dial(b, s.URL()).Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := cch.Qos(1000, 0, false); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	ds, err := cch.Consume("paged", "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= b.N; i++ {
		d := <-ds
		if i%250 == 0 || i == b.N {
			if err := d.Ack(true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
