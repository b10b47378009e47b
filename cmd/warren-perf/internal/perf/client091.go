package perf

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The amqp091-go client: what an ordinary Go application gets. Each
// publish is one write system call and a few allocations; each delivery
// is an allocated amqp091.Delivery. It drives the broker exactly as the
// pipelined client does (same topology, routing, acks and confirm
// window), only slower.

func (r *run) amqp091Producer(p *producer, ready chan<- error) error {
	conn, err := r.dial091("producer " + strconv.Itoa(p.id))
	if err != nil {
		ready <- err
		return err
	}
	p.closer.Store(conn)
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		ready <- err
		return err
	}
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	blocked := conn.NotifyBlocked(make(chan amqp091.Blocking, 4))
	var confirmsDone chan struct{}
	if p.win != nil {
		if err := ch.Confirm(false); err != nil {
			ready <- err
			return err
		}
		confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, r.cfg.Confirm+1))
		confirmsDone = make(chan struct{})
		go func() {
			defer close(confirmsDone)
			for c := range confirms {
				p.win.resolve(c.DeliveryTag, false, c.Ack)
			}
			p.win.shut()
		}()
	}
	var brokerErr atomic.Pointer[amqp091.Error]
	var closing atomic.Bool // our own Close races amqp091-go's reader to report the EOF that follows close-ok
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case e, ok := <-closed:
				if ok && e != nil && !closing.Load() {
					brokerErr.CompareAndSwap(nil, e)
				}
				return
			case e, ok := <-chClosed:
				if ok && e != nil {
					brokerErr.CompareAndSwap(nil, e)
				}
				chClosed = nil
			case b, ok := <-blocked:
				if !ok {
					blocked = nil
					continue
				}
				if b.Active {
					p.blocked.Add(1)
					r.warnf("producer %d: broker blocked the connection: %s", p.id, b.Reason)
				}
			}
		}
	}()
	ready <- nil

	select {
	case <-r.startCh:
	case <-r.stopCh:
	}
	mode := amqp091.Transient
	if r.cfg.Persistent {
		mode = amqp091.Persistent
	}
	body := make([]byte, r.cfg.Size)
	msg := amqp091.Publishing{DeliveryMode: mode, Body: body}
	ctx := context.Background()
	pace := pacer{rate: r.cfg.Rate, start: time.Now()}
	var sent uint64
	var perr error
	for !r.stopping.Load() && brokerErr.Load() == nil {
		if r.cfg.PMessages > 0 && sent >= r.cfg.PMessages {
			break
		}
		if r.cfg.Rate > 0 {
			if due, wait := pace.allowance(sent, time.Now()); due == 0 {
				if !r.sleep(wait) {
					break
				}
				continue
			}
		}
		if p.win != nil && p.win.reserve(1) == 0 {
			break
		}
		// Publish writes the frames before it returns, so body can be
		// reused.
		PutStamp(body, sent, uint16(p.id), time.Now().UnixNano())
		if perr = ch.PublishWithContext(ctx, p.exchange, p.key, false, false, msg); perr != nil {
			if p.win != nil {
				p.win.unreserve(1)
			}
			break
		}
		sent++
		p.sent.Store(sent)
	}
	clean := perr == nil && brokerErr.Load() == nil
	if clean && p.win != nil {
		clean = p.win.waitAll(r.cfg.DrainTimeout)
		if !clean && brokerErr.Load() == nil {
			acked, nacked, _ := p.win.counts()
			r.warnf("producer %d: %d of %d publishes unconfirmed after %v", p.id, sent-acked-nacked, sent, r.cfg.DrainTimeout)
		}
	}
	// Close waits for close-ok, which the broker sends only after it has
	// handled every publish before it.
	closing.Store(true)
	if cerr := conn.Close(); cerr != nil && brokerErr.Load() == nil {
		clean = false
		if perr == nil {
			perr = cerr
		}
	}
	<-watchDone
	if confirmsDone != nil {
		<-confirmsDone
	}
	if e := brokerErr.Load(); e != nil {
		return fmt.Errorf("broker closed the connection: %d %s", e.Code, e.Reason)
	}
	if perr != nil {
		return fmt.Errorf("publish: %w", perr)
	}
	p.clean = clean
	return nil
}

func (r *run) amqp091Consumer(c *consumer, ready chan<- error) error {
	conn, err := r.dial091("consumer " + strconv.Itoa(c.id))
	if err != nil {
		ready <- err
		return err
	}
	c.closer.Store(conn)
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		ready <- err
		return err
	}
	manual := !r.cfg.AutoAck
	if manual && r.cfg.Prefetch > 0 {
		if err := ch.Qos(r.cfg.Prefetch, 0, false); err != nil {
			ready <- err
			return err
		}
	}
	tag := "warren-perf-" + strconv.Itoa(c.id)
	deliveries, err := ch.Consume(r.queues[c.queue], tag, !manual, false, false, false, nil)
	if err != nil {
		ready <- err
		return err
	}
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	var cancelled atomic.Bool
	cancel := func() {
		if !cancelled.Swap(true) {
			// Cancel waits for cancel-ok, after which amqp091-go closes
			// the deliveries channel; what came before stays readable.
			go func() { _ = ch.Cancel(tag, false) }()
		}
	}
	c.setStop(cancel)
	ready <- nil

	var (
		tracker  = r.trackers[c.queue]
		limit    = r.cfg.CMessages
		multi    = uint64(r.multiAck)
		count    uint64
		pending  uint64
		last     amqp091.Delivery
		limitHit bool
		ackErr   error
	)
	for d := range deliveries {
		if limitHit && manual {
			continue // not counted, not acked: requeued when we close
		}
		now := time.Now().UnixNano()
		if st, err := ReadStamp(d.Body); err == nil {
			c.hist.Record(now - st.SentAt)
			tracker.Record(st)
		} else {
			tracker.RecordForeign()
		}
		count++
		c.received.Store(count)
		if manual {
			pending++
			last = d
			if multi == 0 {
				ackErr = d.Ack(false)
				pending = 0
			} else if pending >= multi {
				ackErr = d.Ack(true)
				pending = 0
			}
			if ackErr != nil {
				break
			}
		}
		if limit > 0 && count >= limit && !limitHit {
			limitHit = true
			cancel()
		}
	}
	if pending > 0 && ackErr == nil {
		ackErr = last.Ack(true)
	}
	select {
	case e := <-closed:
		if e != nil {
			return fmt.Errorf("broker closed the connection: %d %s", e.Code, e.Reason)
		}
	default:
	}
	if !cancelled.Load() {
		return fmt.Errorf("the broker cancelled the consumer, or the channel closed")
	}
	if ackErr != nil {
		return fmt.Errorf("ack: %w", ackErr)
	}
	return conn.Close()
}
