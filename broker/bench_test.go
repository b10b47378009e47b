package broker_test

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
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
