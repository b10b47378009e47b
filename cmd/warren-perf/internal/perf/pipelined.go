package perf

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// The pipelined client. A publisher builds one message's frames once
// (basic.publish + content header + body), then for every batch appends
// copies of that template to a write buffer, patches each copy's stamp
// in place and writes the whole buffer with one system call. The batch is
// as large as the write buffer allows, unless the rate limiter or the
// confirm window allows fewer: at a low rate each message goes out alone
// the moment it is due. A reader goroutine takes basic.ack/nack (single
// or multiple) off the socket.
//
// A consumer reads through a large bufio.Reader and amqp.FrameReader into
// reused buffers, decodes basic.deliver with a reused amqp.MethodDecoder
// and copies only the 16-byte stamp out of the body: no allocation per
// message. Its acks go into a buffer that is written when the read buffer
// runs dry, i.e. once per batch of deliveries.

// msgTemplate is the wire form of one publish, with the offset of the
// body's stamp.
type msgTemplate struct {
	frames   []byte
	stampOff int
}

func newTemplate(exchange, key string, size int, persistent bool, frameMax uint32) msgTemplate {
	mode := uint8(1)
	if persistent {
		mode = 2
	}
	props := amqp.AppendProperties(nil, &amqp.Properties{Flags: amqp.FlagDeliveryMode, DeliveryMode: mode})
	b := amqp.AppendMethodFrame(nil, wireChannel, &amqp.BasicPublish{Exchange: exchange, RoutingKey: key})
	b = amqp.AppendHeaderFrame(b, wireChannel, amqp.ClassBasic, uint64(size), props)
	off := len(b) + 7 // the first body frame's payload
	b = amqp.AppendBodyFrames(b, wireChannel, make([]byte, size), frameMax)
	return msgTemplate{frames: b, stampOff: off}
}

// appendMessages appends n copies of t stamped with sequences seq… of
// producer id. The send time is read once per 64 messages: a batch takes
// microseconds to build and is written right after.
func (t *msgTemplate) appendMessages(buf []byte, n, seq uint64, id uint16) []byte {
	var now int64
	for i := range n {
		if i&63 == 0 {
			now = time.Now().UnixNano()
		}
		off := len(buf)
		buf = append(buf, t.frames...)
		PutStamp(buf[off+t.stampOff:], seq+i, id, now)
	}
	return buf
}

func (r *run) pipelinedProducer(p *producer, ready chan<- error) error {
	wc, err := dialWire(r.ctx, r.uri, 64<<10)
	if err != nil {
		ready <- err
		return err
	}
	p.closer.Store(wc.c)
	defer wc.c.Close()
	if p.win != nil {
		if err := wc.sendNow(&amqp.ConfirmSelect{}); err != nil {
			ready <- err
			return err
		}
		if _, err := wc.expect(amqp.MethodConfirmSelectOk); err != nil {
			ready <- err
			return err
		}
	}
	tmpl := newTemplate(p.exchange, p.key, r.cfg.Size, r.cfg.Persistent, wc.frameMax)
	batch := uint64(max(1, r.cfg.WriteBuffer/len(tmpl.frames)))
	buf := make([]byte, 0, int(batch)*len(tmpl.frames))

	// The reader: confirms, blocked/unblocked, and closes.
	var (
		brokerErr atomic.Pointer[BrokerError]
		closeOK   = make(chan struct{})
		readDone  = make(chan error, 1)
		closing   atomic.Bool
	)
	go func() {
		readDone <- r.producerReader(p, wc, &brokerErr, closeOK, &closing)
	}()
	ready <- nil

	select {
	case <-r.startCh:
	case <-r.stopCh:
	}
	pace := pacer{rate: r.cfg.Rate, start: time.Now()}
	var sent uint64
	var werr error
	for !r.stopping.Load() && brokerErr.Load() == nil {
		n := batch
		if r.cfg.PMessages > 0 {
			if n = min(n, r.cfg.PMessages-sent); n == 0 {
				break
			}
		}
		if r.cfg.Rate > 0 {
			due, wait := pace.allowance(sent, time.Now())
			if due == 0 {
				if !r.sleep(wait) {
					break
				}
				continue
			}
			n = min(n, due)
		}
		if p.win != nil {
			if n = p.win.reserve(n); n == 0 {
				break // stopping, or the reader failed
			}
		}
		buf = tmpl.appendMessages(buf[:0], n, sent, uint16(p.id))
		wc.wmu.Lock()
		_, werr = wc.c.Write(buf)
		wc.wmu.Unlock()
		if werr != nil {
			if p.win != nil {
				p.win.unreserve(n)
			}
			break
		}
		sent += n
		p.sent.Store(sent)
	}

	clean := werr == nil && brokerErr.Load() == nil
	if clean && p.win != nil {
		clean = p.win.waitAll(r.cfg.DrainTimeout)
		if !clean && brokerErr.Load() == nil {
			acked, nacked, _ := p.win.counts()
			r.warnf("producer %d: %d of %d publishes unconfirmed after %v", p.id, sent-acked-nacked, sent, r.cfg.DrainTimeout)
		}
	}
	// connection.close is answered only after the broker has handled
	// every frame before it: close-ok means every publish arrived.
	if brokerErr.Load() == nil && werr == nil {
		closing.Store(true)
		if err := wc.sendNow(&amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "bye"}); err != nil {
			clean = false
		} else {
			// A broker applying flow control may still have a backlog
			// of our publishes to read: give it the drain's time.
			select {
			case <-closeOK:
			case <-time.After(r.cfg.DrainTimeout):
				clean = false
				r.warnf("producer %d: no connection.close-ok within %v, so some publishes may never have been read", p.id, r.cfg.DrainTimeout)
			}
		}
	}
	_ = wc.c.Close()
	rerr := <-readDone
	if p.win != nil {
		p.win.shut()
	}
	if be := brokerErr.Load(); be != nil {
		return be
	}
	if werr != nil {
		return fmt.Errorf("write: %w", werr)
	}
	if rerr != nil {
		return rerr
	}
	p.clean = clean
	return nil
}

// producerReader reads what the broker sends a publisher until the
// connection closes.
func (r *run) producerReader(p *producer, wc *wireConn, brokerErr *atomic.Pointer[BrokerError], closeOK chan struct{}, closing *atomic.Bool) error {
	for {
		f, err := wc.fr.ReadFrame()
		if err != nil {
			if closing.Load() || errClosed(err) {
				return nil
			}
			if p.win != nil {
				p.win.shut()
			}
			return fmt.Errorf("read: %w", err)
		}
		if f.Type != amqp.FrameMethod {
			continue // heartbeats; header and body of a basic.return
		}
		m, err := wc.dec.Decode(f.Payload)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *amqp.BasicAck:
			if p.win != nil {
				p.win.resolve(m.DeliveryTag, m.Multiple, true)
			}
		case *amqp.BasicNack:
			if p.win != nil {
				p.win.resolve(m.DeliveryTag, m.Multiple, false)
			}
		case *amqp.ConnectionCloseOk:
			close(closeOK)
			return nil
		case *amqp.ConnectionBlocked:
			p.blocked.Add(1)
			r.warnf("producer %d: broker blocked the connection: %s", p.id, m.Reason)
		case *amqp.ConnectionClose, *amqp.ChannelClose:
			be := wc.brokerClose(m)
			brokerErr.Store(be)
			if p.win != nil {
				p.win.shut()
			}
			if be.Channel {
				// The connection is still open: close it politely.
				closing.Store(true)
				_ = wc.sendNow(&amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "bye"})
				continue
			}
			return nil
		}
	}
}

// sleep waits d or until the producers are stopped; it reports whether
// the producer should go on.
func (r *run) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stopCh:
		return false
	}
}

// consumerState is the parse state of the pipelined consumer between
// frames.
type consumerState int

const (
	awaitMethod consumerState = iota
	awaitHeader
	awaitBody
)

func (r *run) pipelinedConsumer(c *consumer, ready chan<- error) error {
	wc, err := dialWire(r.ctx, r.uri, 256<<10)
	if err != nil {
		ready <- err
		return err
	}
	c.closer.Store(wc.c)
	defer wc.c.Close()
	manual := !r.cfg.AutoAck
	if manual && r.cfg.Prefetch > 0 {
		if err := wc.sendNow(&amqp.BasicQos{PrefetchCount: uint16(r.cfg.Prefetch)}); err != nil {
			ready <- err
			return err
		}
		if _, err := wc.expect(amqp.MethodBasicQosOk); err != nil {
			ready <- err
			return err
		}
	}
	tag := "warren-perf-" + strconv.Itoa(c.id)
	if err := wc.sendNow(&amqp.BasicConsume{Queue: r.queues[c.queue], ConsumerTag: tag, NoAck: !manual}); err != nil {
		ready <- err
		return err
	}
	if _, err := wc.expect(amqp.MethodBasicConsumeOk); err != nil {
		ready <- err
		return err
	}
	var cancelSent, closeSent bool // under wc.wmu
	c.setStop(func() {
		wc.wmu.Lock()
		defer wc.wmu.Unlock()
		if !cancelSent && !closeSent {
			cancelSent = true
			wc.appendMethod(&amqp.BasicCancel{ConsumerTag: tag})
			_ = wc.flushLocked()
		}
	})
	ready <- nil

	var (
		tracker  = r.trackers[c.queue]
		limit    = r.cfg.CMessages
		multi    = uint64(r.multiAck)
		state    = awaitMethod
		tag64    uint64 // delivery tag of the message being read
		lastTag  uint64 // newest delivery tag not yet acked
		pending  uint64 // messages received but not acked
		count    uint64
		remain   uint64
		stamp    [StampSize]byte
		stampN   int
		abuf     = make([]byte, 0, 64<<10)
		ack      amqp.BasicAck
		limitHit bool
		brokerE  error
	)
	flush := func() error {
		if len(abuf) == 0 {
			return nil
		}
		wc.wmu.Lock()
		_, err := wc.c.Write(abuf)
		wc.wmu.Unlock()
		abuf = abuf[:0]
		return err
	}
	ackPending := func() {
		if pending > 0 {
			ack = amqp.BasicAck{DeliveryTag: lastTag, Multiple: true}
			abuf = amqp.AppendMethodFrame(abuf, wireChannel, &ack)
			pending = 0
		}
	}
	finish := func() { // the delivery whose body just ended
		if limitHit && manual {
			return // not counted, not acked: the broker requeues it
		}
		now := time.Now().UnixNano()
		if st, err := ReadStamp(stamp[:stampN]); err == nil {
			c.hist.Record(now - st.SentAt)
			tracker.Record(st)
		} else {
			tracker.RecordForeign()
		}
		count++
		c.received.Store(count)
		if manual {
			lastTag = tag64
			pending++
			if multi == 0 {
				ack = amqp.BasicAck{DeliveryTag: tag64}
				abuf = amqp.AppendMethodFrame(abuf, wireChannel, &ack)
				pending = 0
			} else if pending >= multi {
				ackPending()
			}
		}
		if limit > 0 && count >= limit && !limitHit {
			limitHit = true
			ackPending()
			c.stop()
		}
	}
	// sendClose acks what is pending and closes the connection; the loop
	// then reads until close-ok.
	sendClose := func() error {
		ackPending()
		wc.wmu.Lock()
		closeSent = true
		abuf = amqp.AppendMethodFrame(abuf, 0, &amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "bye"})
		wc.wmu.Unlock()
		return flush()
	}

	for {
		if wc.br.Buffered() == 0 || len(abuf) >= 60<<10 {
			if err := flush(); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		f, err := wc.fr.ReadFrame()
		if err != nil {
			if brokerE != nil {
				return brokerE
			}
			return fmt.Errorf("read: %w", err)
		}
		switch f.Type {
		case amqp.FrameMethod:
			if state != awaitMethod {
				return fmt.Errorf("method frame in the middle of a delivery")
			}
			if len(f.Payload) >= 4 && binary.BigEndian.Uint32(f.Payload) == amqp.MethodBasicDeliver {
				m, err := wc.dec.Decode(f.Payload)
				if err != nil {
					return err
				}
				tag64 = m.(*amqp.BasicDeliver).DeliveryTag
				state = awaitHeader
				continue
			}
			m, err := wc.dec.Decode(f.Payload)
			if err != nil {
				return err
			}
			switch m := m.(type) {
			case *amqp.BasicCancelOk:
				if err := sendClose(); err != nil {
					return err
				}
			case *amqp.BasicCancel:
				brokerE = fmt.Errorf("the broker cancelled the consumer (queue deleted?)")
				if err := sendClose(); err != nil {
					return err
				}
			case *amqp.ConnectionCloseOk:
				return brokerE
			case *amqp.ConnectionClose:
				return wc.brokerClose(m)
			case *amqp.ChannelClose:
				brokerE = wc.brokerClose(m)
				if err := sendClose(); err != nil {
					return err
				}
			}
		case amqp.FrameHeader:
			if state != awaitHeader {
				return fmt.Errorf("unexpected content header")
			}
			h, err := amqp.DecodeContentHeader(f.Payload)
			if err != nil {
				return err
			}
			remain, stampN = h.BodySize, 0
			state = awaitBody
			if remain == 0 {
				finish()
				state = awaitMethod
			}
		case amqp.FrameBody:
			if state != awaitBody {
				return fmt.Errorf("unexpected body frame")
			}
			if stampN < StampSize {
				stampN += copy(stamp[stampN:], f.Payload)
			}
			if uint64(len(f.Payload)) > remain {
				return fmt.Errorf("body longer than its header said")
			}
			remain -= uint64(len(f.Payload))
			if remain == 0 {
				finish()
				state = awaitMethod
			}
		}
	}
}
