package broker

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// channel is one AMQP channel of a connection. Fields above mu belong to
// the connection's reader goroutine; fields below it are shared with the
// goroutines that deliver to this channel's consumers.
type channel struct {
	id uint16
	c  *conn

	// closing: we sent channel.close and wait for close-ok (spec 2.2.5);
	// until then frames on this channel are discarded.
	closing bool
	// timedOut is set by the housekeeper when a delivery was not acked in
	// time: it has sent channel.close, and the reader takes the channel as
	// closing.
	timedOut atomic.Bool
	pub      pendingPublish
	lastX    *Exchange // one-entry cache of the exchange last published to
	// lastQueue is the queue last declared on this channel, which an
	// empty queue name refers to (spec 1.7.2.1).
	lastQueue string

	confirm  bool
	confirms confirmTracker
	// confirmQueued: on the connection's list of channels with confirms
	// ready to send (guarded by conn.confirmMu).
	confirmQueued bool

	tx *txState

	mu          sync.Mutex
	deliveryTag uint64
	unacked     unackedList
	consumers   map[string]*consumer
	// prefetch applies to consumers created after basic.qos global=false.
	prefetch uint16
	// global is the channel-wide limit of basic.qos global=true, shared by
	// every consumer of the channel (RabbitMQ 3.x semantics).
	global      *queue.Limiter
	deliver     amqp.BasicDeliver // scratch, under mu
	kickScratch []*Queue          // scratch of the reader goroutine
	// reply is the direct reply-to consumer, replyTok its address.
	reply    *replyConsumer
	replyTok string
	released bool
}

// pendingPublish is a basic.publish whose content is still arriving.
type pendingPublish struct {
	active    bool
	exchange  string
	key       string
	mandatory bool
	immediate bool
	haveHdr   bool
	size      uint64
	props     []byte
	body      []byte
}

func newChannel(c *conn, id uint16) *channel {
	ch := &channel{id: id, c: c, consumers: map[string]*consumer{}, global: queue.NewLimiter(0)}
	c.s.channels.Store(ch, struct{}{})
	return ch
}

func (ch *channel) handleFrame(f amqp.Frame) error {
	if ch.timedOut.Load() && !ch.closing {
		ch.closing = true
		ch.pub = pendingPublish{}
		ch.tx = nil
	}
	if ch.closing {
		if f.Type == amqp.FrameMethod {
			m, err := ch.c.dec.Decode(f.Payload)
			if err == nil {
				switch m.(type) {
				case *amqp.ChannelCloseOk:
					delete(ch.c.channels, ch.id)
				case *amqp.ChannelClose:
					ch.c.reply(ch.id, &amqp.ChannelCloseOk{})
					delete(ch.c.channels, ch.id)
				}
			}
		}
		return nil
	}
	var err error
	switch f.Type {
	case amqp.FrameMethod:
		err = ch.handleMethodFrame(f.Payload)
	case amqp.FrameHeader:
		err = ch.handleHeader(f.Payload)
	case amqp.FrameBody:
		err = ch.handleBody(f.Payload)
	}
	if err == nil {
		return nil
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		ae = &amqp.Error{Code: amqp.InternalError, Text: "INTERNAL_ERROR - " + err.Error()}
		ch.c.logAt(zerolog.ErrorLevel).Err(err).Uint16("channel", ch.id).Msg("internal error")
	}
	if ae.Connection() {
		return ae
	}
	ch.closeWithError(ae)
	return nil
}

// closeWithError closes the channel from our side with a soft error.
func (ch *channel) closeWithError(e *amqp.Error) {
	ch.c.logAt(zerolog.DebugLevel).Uint16("channel", ch.id).Uint16("code", e.Code).Str("reason", e.Text).Msg("closing channel on error")
	ch.release()
	ch.closing = true
	ch.c.writeMethod(ch.id, &amqp.ChannelClose{ReplyCode: e.Code, ReplyText: e.Text, ClassID: e.ClassID, MethodID: e.MethodID})
}

func (ch *channel) handleMethodFrame(payload []byte) error {
	m, err := ch.c.dec.Decode(payload)
	if err != nil {
		return err
	}
	if ch.pub.active {
		if ch.pub.haveHdr {
			return errPublish("expected content body, got non content body frame instead")
		}
		return errPublish("expected content header for class 60, got non content header frame instead")
	}
	return ch.dispatch(m)
}

func (ch *channel) handleHeader(payload []byte) error {
	if !ch.pub.active {
		return errNoMethod
	}
	if ch.pub.haveHdr {
		return errPublish("expected content body, got non content body frame instead")
	}
	h, err := amqp.DecodeContentHeader(payload)
	if err != nil {
		return err
	}
	if h.ClassID != amqp.ClassBasic {
		return errPublish(fmt.Sprintf("expected content header for class 60, got one for class %d instead", h.ClassID))
	}
	if max := ch.c.s.opts.MaxMessageSize; h.BodySize > max {
		ch.pub = pendingPublish{}
		return amqp.NewError(amqp.PreconditionFailed, amqp.ClassBasic, 40,
			"message size %d is larger than configured max size %d", h.BodySize, max)
	}
	p := &ch.pub
	p.haveHdr = true
	p.size = h.BodySize
	// Properties and body share one allocation, made once at the size the
	// header declares (bounded above): the message is immutable from here.
	n := len(h.Props)
	buf := make([]byte, n, n+int(h.BodySize))
	copy(buf, h.Props)
	p.props = buf[:n:n]
	p.body = buf[n:n]
	if h.BodySize == 0 {
		return ch.completePublish()
	}
	return nil
}

func (ch *channel) handleBody(payload []byte) error {
	p := &ch.pub
	if !p.active {
		return errNoMethod
	}
	if !p.haveHdr {
		return errPublish("expected content header for class 60, got non content header frame instead")
	}
	if uint64(len(p.body))+uint64(len(payload)) > p.size {
		return errPublish(fmt.Sprintf("content body exceeds the declared size %d", p.size))
	}
	p.body = append(p.body, payload...)
	if uint64(len(p.body)) == p.size {
		return ch.completePublish()
	}
	return nil
}

func (ch *channel) dispatch(m amqp.Method) error {
	switch m := m.(type) {
	case *amqp.ChannelClose:
		ch.release()
		ch.c.reply(ch.id, &amqp.ChannelCloseOk{})
		delete(ch.c.channels, ch.id)
		return nil
	case *amqp.ChannelOpen:
		return amqp.NewError(amqp.ChannelError, amqp.ClassChannel, 10, "second 'channel.open' seen")
	case *amqp.ChannelFlow:
		if !m.Active {
			// RabbitMQ does not let clients pause deliveries this way.
			return amqp.NewError(amqp.NotImplemented, amqp.ClassChannel, 20, "active=false")
		}
		ch.c.reply(ch.id, &amqp.ChannelFlowOk{Active: true})
		return nil
	case *amqp.ChannelFlowOk:
		return nil

	case *amqp.ExchangeDeclare:
		return ch.exchangeDeclare(m)
	case *amqp.ExchangeDelete:
		return ch.exchangeDelete(m)
	case *amqp.ExchangeBind:
		return ch.exchangeBind(m)
	case *amqp.ExchangeUnbind:
		return ch.exchangeUnbind(m)

	case *amqp.QueueDeclare:
		return ch.queueDeclare(m)
	case *amqp.QueueBind:
		return ch.queueBind(m)
	case *amqp.QueueUnbind:
		return ch.queueUnbind(m)
	case *amqp.QueuePurge:
		return ch.queuePurge(m)
	case *amqp.QueueDelete:
		return ch.queueDelete(m)

	case *amqp.BasicQos:
		return ch.basicQos(m)
	case *amqp.BasicConsume:
		return ch.basicConsume(m)
	case *amqp.BasicCancel:
		return ch.basicCancel(m)
	case *amqp.BasicPublish:
		return ch.basicPublish(m)
	case *amqp.BasicGet:
		return ch.basicGet(m)
	case *amqp.BasicAck:
		return ch.basicAck(m)
	case *amqp.BasicReject:
		return ch.basicReject(m.DeliveryTag, false, m.Requeue, amqp.MethodBasicReject)
	case *amqp.BasicNack:
		return ch.basicReject(m.DeliveryTag, m.Multiple, m.Requeue, amqp.MethodBasicNack)
	case *amqp.BasicRecover:
		if !m.Requeue {
			return amqp.NewError(amqp.NotImplemented, amqp.ClassBasic, 110, "requeue=false")
		}
		ch.recover()
		ch.c.reply(ch.id, &amqp.BasicRecoverOk{})
		return nil
	case *amqp.BasicRecoverAsync:
		if !m.Requeue {
			return amqp.NewError(amqp.NotImplemented, amqp.ClassBasic, 100, "requeue=false")
		}
		ch.recover()
		return nil

	case *amqp.ConfirmSelect:
		return ch.confirmSelect(m)
	case *amqp.TxSelect:
		return ch.txSelect()
	case *amqp.TxCommit:
		return ch.txCommit()
	case *amqp.TxRollback:
		return ch.txRollback()
	}
	return errUnimplemented(m)
}

// errNoMethod: a content frame where a method frame must come.
var errNoMethod = &amqp.Error{Code: amqp.UnexpectedFrame,
	Text: "UNEXPECTED_FRAME - expected method frame, got non method frame instead"}

// errPublish is a 505 about the content of the pending basic.publish,
// which RabbitMQ blames on that method.
func errPublish(text string) error {
	return &amqp.Error{Code: amqp.UnexpectedFrame, Text: "UNEXPECTED_FRAME - " + text,
		ClassID: amqp.ClassBasic, MethodID: 40}
}

// release ends the channel's part in everything: its consumers are
// removed from their queues, then its unacked messages are requeued with
// redelivered set (in that order, so no delivery lands after the sweep).
// It runs on the reader goroutine.
func (ch *channel) release() {
	ch.releaseShared()
	ch.pub = pendingPublish{}
	ch.tx = nil
}

// releaseShared is the part of release that other goroutines may run (the
// housekeeper, on a consumer timeout): everything it touches is guarded by
// ch.mu or by the queues.
func (ch *channel) releaseShared() {
	ch.mu.Lock()
	if ch.released {
		ch.mu.Unlock()
		return
	}
	ch.released = true
	cons := make([]*consumer, 0, len(ch.consumers))
	for _, cs := range ch.consumers {
		cons = append(cons, cs)
	}
	ch.consumers = map[string]*consumer{}
	ch.mu.Unlock()
	for _, cs := range cons {
		cs.detach()
	}
	ch.cancelReplyTo("")
	ch.mu.Lock()
	items := ch.unacked.takeAll()
	ch.mu.Unlock()
	requeueItems(items)
	ch.confirms.close()
	ch.c.s.channels.Delete(ch)
}
