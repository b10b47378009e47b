package broker

import (
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// Dead-lettering, as RabbitMQ's rabbit_dead_letter does it: a message a
// queue rejects (reject/nack without requeue), expires or drops for its
// length limit is republished to the queue's x-dead-letter-exchange, with
// x-dead-letter-routing-key or its original routing keys, carrying the
// history of its deaths in the x-death header.

// dlxConfig is a queue's dead-letter arguments.
type dlxConfig struct {
	set      bool
	exchange string
	keySet   bool
	key      string
}

func dlxOf(args amqp.Table) dlxConfig {
	var d dlxConfig
	if v, ok := args.Get("x-dead-letter-exchange"); ok {
		d.exchange, d.set = v.(string)
	}
	if v, ok := args.Get("x-dead-letter-routing-key"); ok {
		d.key, d.keySet = v.(string)
	}
	return d
}

// deadLetter republishes msgs that q no longer holds for reason
// ("rejected", "expired", "maxlen").
func (q *Queue) deadLetter(msgs []*queue.Message, reason string) {
	d := q.dlx
	if !d.set || len(msgs) == 0 {
		return
	}
	v := q.vhost
	x := v.exchange(d.exchange)
	if x == nil {
		return // RabbitMQ drops the message when its DLX does not exist
	}
	now := time.Now()
	var rt router
	for _, m := range msgs {
		var p amqp.Properties
		if _, err := amqp.DecodeProperties(m.Props, &p); err != nil {
			continue
		}
		keys := []string{m.RoutingKey}
		if cc, ok := p.Headers.Get("CC"); ok {
			if arr, ok := cc.([]any); ok {
				for _, k := range arr {
					if s, ok := k.(string); ok {
						keys = append(keys, s)
					}
				}
			}
		}
		death := amqp.Table{
			{Key: "count", Value: int64(1)},
			{Key: "reason", Value: reason},
			{Key: "queue", Value: q.name},
			{Key: "time", Value: now.Truncate(time.Second)},
			{Key: "exchange", Value: m.Exchange},
			{Key: "routing-keys", Value: stringsToArray(keys)},
		}
		if p.Flags&amqp.FlagExpiration != 0 {
			// The per-message TTL must not expire it again downstream.
			death = append(death, amqp.Field{Key: "original-expiration", Value: p.Expiration})
			p.Flags &^= amqp.FlagExpiration
			p.Expiration = ""
		}
		deaths := addDeath(p.Headers, death, q.name, reason)
		hs := p.Headers.Delete("x-death")
		hs = append(hs, amqp.Field{Key: "x-death", Value: deaths})
		if !hs.Has("x-first-death-reason") {
			hs = append(hs,
				amqp.Field{Key: "x-first-death-reason", Value: reason},
				amqp.Field{Key: "x-first-death-queue", Value: q.name},
				amqp.Field{Key: "x-first-death-exchange", Value: m.Exchange})
		}
		if d.keySet {
			// The dead-letter routing key replaces the original keys, CC
			// included (RabbitMQ removes the header).
			hs = hs.Delete("CC")
		}
		p.Headers = hs
		p.Flags |= amqp.FlagHeaders
		out := &queue.Message{
			Exchange:   d.exchange,
			RoutingKey: m.RoutingKey,
			Props:      amqp.AppendProperties(nil, &p),
			Body:       m.Body,
			Persistent: m.Persistent,
			Priority:   m.Priority,
		}
		routeKeys := keys
		if d.keySet {
			out.RoutingKey = d.key
			routeKeys = []string{d.key}
		}
		rt.props = out.Props
		targets := v.routeKeys(&rt, x, routeKeys)
		enqueue(withoutCycles(targets, deaths, reason), out, confirmHold{})
	}
}

// addDeath puts this death first in x-death: an entry for the same queue
// and reason has its count raised and moves to the front.
func addDeath(headers amqp.Table, death amqp.Table, queueName, reason string) []any {
	old, _ := headers.Get("x-death")
	prev, _ := old.([]any)
	out := make([]any, 0, len(prev)+1)
	for _, e := range prev {
		t, ok := e.(amqp.Table)
		if ok && tableString(t, "queue") == queueName && tableString(t, "reason") == reason {
			n, _ := t.Get("count")
			count, _ := integerArg(n)
			death = death.Set("count", count+1)
			continue
		}
		out = append(out, e)
	}
	return append([]any{death}, out...)
}

// withoutCycles drops the queues a message would reach again by a cycle of
// dead-lettering with no rejection in it (RabbitMQ's is_cycle): such a
// message would circulate forever.
func withoutCycles(qs []*Queue, deaths []any, reason string) []*Queue {
	if reason == "rejected" {
		return qs
	}
	out := qs[:0:0]
	for _, q := range qs {
		cycle := false
		for i, e := range deaths {
			t, _ := e.(amqp.Table)
			if tableString(t, "queue") != q.name {
				continue
			}
			cycle = true
			for _, f := range deaths[:i+1] {
				if ft, _ := f.(amqp.Table); tableString(ft, "reason") == "rejected" {
					cycle = false
				}
			}
			break
		}
		if !cycle {
			out = append(out, q)
		}
	}
	return out
}

func stringsToArray(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
