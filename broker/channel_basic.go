package broker

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

const classBasic = amqp.ClassBasic

func (ch *channel) basicQos(m *amqp.BasicQos) error {
	if m.PrefetchSize != 0 {
		return amqp.NewError(amqp.NotImplemented, classBasic, 10, "prefetch_size!=0 (%d)", m.PrefetchSize)
	}
	var kick []*Queue
	ch.mu.Lock()
	if m.Global {
		ch.global.SetLimit(uint32(m.PrefetchCount))
		for _, cs := range ch.consumers {
			kick = append(kick, cs.q)
		}
	} else {
		ch.prefetch = m.PrefetchCount
	}
	ch.mu.Unlock()
	ch.c.reply(ch.id, &amqp.BasicQosOk{})
	for _, q := range kick {
		q.Dispatch()
	}
	return nil
}

func (ch *channel) basicConsume(m *amqp.BasicConsume) error {
	if m.Queue == replyToName {
		return ch.consumeReplyTo(m)
	}
	q, err := ch.queueForUse(m.Queue, 20)
	if err != nil {
		return err
	}
	prio, err := consumerPriority(m.Arguments, q.name, ch.c.vhost.name)
	if err != nil {
		return err
	}
	tag := m.ConsumerTag
	if tag == "" {
		tag = "amq.ctag-" + randomName()
	}
	ch.mu.Lock()
	_, dup := ch.consumers[tag]
	prefetch := ch.prefetch
	ch.mu.Unlock()
	if dup {
		return amqp.NewError(amqp.NotAllowed, classBasic, 20, "attempt to reuse consumer tag '%s'", tag)
	}
	cs := &consumer{ch: ch, q: q, tag: tag, noAck: m.NoAck}
	limits := []*queue.Limiter{ch.global}
	if prefetch > 0 {
		limits = append(limits, queue.NewLimiter(uint32(prefetch)))
	}
	cs.qc = &queue.Consumer{Tag: tag, NoAck: m.NoAck, Exclusive: m.Exclusive, Priority: prio, Limits: limits, Sink: cs, Owner: ch}
	// consume-ok must precede the first deliver: the queue calls OnAdd
	// under its lock once the consumer is accepted, before dispatching.
	cs.qc.OnAdd = func() {
		if !m.NoWait {
			ch.c.reply(ch.id, &amqp.BasicConsumeOk{ConsumerTag: tag})
		}
	}
	ch.mu.Lock()
	ch.consumers[tag] = cs
	ch.mu.Unlock()
	if err := q.AddConsumer(cs.qc); err != nil {
		ch.mu.Lock()
		delete(ch.consumers, tag)
		ch.mu.Unlock()
		if errors.Is(err, queue.ErrExclusiveConsumer) {
			return amqp.NewError(amqp.AccessRefused, classBasic, 20,
				"queue '%s' in vhost '%s' in exclusive use", q.name, ch.c.vhost.name)
		}
		return amqp.NewError(amqp.NotFound, classBasic, 20, "no queue '%s' in vhost '%s'", q.name, ch.c.vhost.name)
	}
	q.consumed.Store(true)
	return nil
}

func (ch *channel) basicCancel(m *amqp.BasicCancel) error {
	if ch.cancelReplyTo(m.ConsumerTag) {
		if !m.NoWait {
			ch.c.reply(ch.id, &amqp.BasicCancelOk{ConsumerTag: m.ConsumerTag})
		}
		return nil
	}
	ch.mu.Lock()
	cs := ch.consumers[m.ConsumerTag]
	delete(ch.consumers, m.ConsumerTag)
	ch.mu.Unlock()
	if cs != nil {
		cs.detach()
	}
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.BasicCancelOk{ConsumerTag: m.ConsumerTag})
	}
	return nil
}

func (ch *channel) basicPublish(m *amqp.BasicPublish) error {
	if !ch.c.waitWhileBlocked() {
		return errConnClosed
	}
	ch.pub = pendingPublish{
		active:    true,
		exchange:  m.Exchange,
		key:       m.RoutingKey,
		mandatory: m.Mandatory,
		immediate: m.Immediate,
		props:     ch.pub.props,
	}
	return nil
}

// completePublish runs when the last body frame of a publish arrives.
func (ch *channel) completePublish() error {
	p := ch.pub
	ch.pub = pendingPublish{}
	if p.immediate {
		return amqp.NewError(amqp.NotImplemented, classBasic, 40, "immediate=true")
	}
	x, err := ch.exchangeForPublish(p.exchange)
	if err != nil {
		return err
	}
	ttl, err := ch.checkProperties(p.props)
	if err != nil {
		return err
	}
	keys, props, err := ch.rewriteProperties(p.props, p.key)
	if err != nil {
		return err
	}
	p.props = props
	mode, prio := amqp.PeekProperties(p.props)
	msg := &queue.Message{
		Exchange:   p.exchange,
		RoutingKey: p.key,
		Props:      p.props,
		Body:       p.body,
		Persistent: mode == 2,
		Priority:   prio,
	}
	if ttl >= 0 {
		// Per-message TTL counts from arrival; the clock is read only for
		// messages that carry an expiration.
		now := time.Now().UnixNano()
		msg.ArrivedAt = now
		msg.ExpiresAt = now + ttl*int64(time.Millisecond)
		if msg.ExpiresAt == now {
			msg.ExpiresAt = now + 1 // 0 means "never"; expiration 0 is immediate
		}
	}
	if ch.tx != nil {
		ch.tx.publishes = append(ch.tx.publishes, txPublish{x: x, msg: msg, keys: keys, mandatory: p.mandatory})
		return nil
	}
	var tag uint64
	if ch.confirm {
		// Hold the confirm while routing; each store write adds a hold.
		tag = ch.confirms.add(1, false)
	}
	var rejected bool
	if delay := x.delayFor(msg); delay > 0 {
		x.delay.hold(msg, delay, confirmHold{ch: ch, tag: tag})
	} else {
		rejected = ch.route(x, msg, keys, p.mandatory, tag)
	}
	if tag != 0 {
		var err error
		if rejected {
			err = errRejected
		}
		if ch.confirms.complete(tag, err) {
			ch.c.confirmReady(ch, false)
		}
	}
	return nil
}

// errRejected nacks a publish that a queue refused (x-overflow
// reject-publish).
var errRejected = errors.New("rejected by a queue")

// route delivers msg to the queues x routes it to, or returns it to a
// mandatory publisher. It reports whether a queue refused the message
// (x-overflow reject-publish), which a confirm channel answers with nack.
//
// With tag != 0 (confirm mode), every store write of the message holds the
// confirm of tag until it is fsynced.
func (ch *channel) route(x *Exchange, msg *queue.Message, keys []string, mandatory bool, tag uint64) (rejected bool) {
	if x.Name == "" {
		if token, ok := isReplyAddress(msg.RoutingKey); ok {
			if !ch.c.s.deliverReply(token, msg, ch.c) && mandatory {
				ch.c.writeContent(ch.id, &amqp.BasicReturn{ReplyCode: amqp.NoRoute, ReplyText: "NO_ROUTE",
					Exchange: msg.Exchange, RoutingKey: msg.RoutingKey}, msg.Props, msg.Body)
			}
			return false
		}
	}
	ch.c.rt.props = msg.Props
	var qs []*Queue
	if len(keys) > 0 {
		qs = ch.c.vhost.routeKeys(&ch.c.rt, x, keys)
	} else {
		qs = ch.c.vhost.route(&ch.c.rt, x, msg.RoutingKey)
	}
	if len(qs) == 0 {
		if mandatory {
			ch.c.writeContent(ch.id, &amqp.BasicReturn{
				ReplyCode: amqp.NoRoute, ReplyText: "NO_ROUTE",
				Exchange: msg.Exchange, RoutingKey: msg.RoutingKey,
			}, msg.Props, msg.Body)
		}
		return false
	}
	return enqueue(qs, msg, confirmHold{ch: ch, tag: tag})
}

func (ch *channel) exchangeForPublish(name string) (*Exchange, error) {
	if x := ch.lastX; x != nil && x.Name == name && !x.deleted.Load() {
		return x, nil
	}
	x := ch.c.vhost.exchange(name)
	if x == nil {
		return nil, amqp.NewError(amqp.NotFound, classBasic, 40, "no exchange '%s' in vhost '%s'", name, ch.c.vhost.name)
	}
	if x.Internal {
		return nil, amqp.NewError(amqp.AccessRefused, classBasic, 40,
			"cannot publish to internal exchange '%s' in vhost '%s'", name, ch.c.vhost.name)
	}
	ch.lastX = x
	return x, nil
}

func (ch *channel) basicGet(m *amqp.BasicGet) error {
	q, err := ch.queueForUse(m.Queue, 70)
	if err != nil {
		return err
	}
	e, ok := q.Get()
	if !ok {
		ch.c.reply(ch.id, &amqp.BasicGetEmpty{})
		return nil
	}
	ch.mu.Lock()
	ch.deliveryTag++
	tag := ch.deliveryTag
	if !m.NoAck {
		ch.unacked.add(tag, q, e, nil, ch.c.s.coarseNow.Load())
	}
	ch.mu.Unlock()
	if m.NoAck && q.isStored(e) {
		ch.c.s.store.Delete(q.id, e.Seq)
	}
	ch.c.writeContent(ch.id, &amqp.BasicGetOk{
		DeliveryTag: tag, Redelivered: e.Redelivered,
		Exchange: e.Msg.Exchange, RoutingKey: e.Msg.RoutingKey,
		MessageCount: uint32(q.Len()),
	}, e.Msg.Props, e.Msg.Body)
	return nil
}

func (ch *channel) basicAck(m *amqp.BasicAck) error {
	if ch.tx != nil {
		if err := ch.checkTags(m.DeliveryTag, m.Multiple, amqp.MethodBasicAck); err != nil {
			return err
		}
		ch.tx.acks = append(ch.tx.acks, txAck{tag: m.DeliveryTag, multiple: m.Multiple, ack: true})
		return nil
	}
	return ch.settle(m.DeliveryTag, m.Multiple, true, false, amqp.MethodBasicAck)
}

func (ch *channel) basicReject(tag uint64, multiple, requeue bool, method uint32) error {
	if ch.tx != nil {
		if err := ch.checkTags(tag, multiple, method); err != nil {
			return err
		}
		ch.tx.acks = append(ch.tx.acks, txAck{tag: tag, multiple: multiple, requeue: requeue})
		return nil
	}
	return ch.settle(tag, multiple, false, requeue, method)
}

// settle acks, or rejects with or without requeue, one or many tags.
func (ch *channel) settle(tag uint64, multiple, ack, requeue bool, method uint32) error {
	ch.mu.Lock()
	items, ok := ch.unacked.take(tag, multiple, nil)
	ch.mu.Unlock()
	if !ok {
		return unknownTag(tag, method)
	}
	if len(items) == 0 {
		return nil
	}
	if requeue && !ack {
		requeueItems(items)
		return nil
	}
	if !ack {
		deadLetterItems(items)
	}
	deleteStored(items)
	releaseCredit(items)
	ch.kick(items)
	return nil
}

// kick lets the queues this channel consumes from hand out the credit
// just released. All of them, not only those of the settled messages: a
// channel-wide (global) limit frees credit for every consumer.
func (ch *channel) kick(items []unackedItem) {
	if len(items) == 0 {
		return
	}
	ch.mu.Lock()
	qs := ch.kickScratch[:0]
	for _, cs := range ch.consumers {
		dup := false
		for _, q := range qs {
			dup = dup || q == cs.q
		}
		if !dup {
			qs = append(qs, cs.q)
		}
	}
	ch.kickScratch = qs
	ch.mu.Unlock()
	for _, q := range qs {
		q.Dispatch()
	}
}

func unknownTag(tag uint64, method uint32) error {
	return amqp.NewError(amqp.PreconditionFailed, amqp.ClassOf(method), amqp.MethodOf(method), "unknown delivery tag %d", tag)
}

// checkTags validates a tag acked inside a transaction at the time of the
// ack, as RabbitMQ does.
func (ch *channel) checkTags(tag uint64, multiple bool, method uint32) error {
	if multiple && tag == 0 {
		return nil
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if !ch.unacked.has(tag) {
		return unknownTag(tag, method)
	}
	return nil
}

// recover requeues every unacked delivery of the channel (basic.recover
// with requeue=true; RabbitMQ treats requeue=false the same way).
func (ch *channel) recover() {
	ch.mu.Lock()
	items := ch.unacked.takeAll()
	ch.mu.Unlock()
	requeueItems(items)
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// deadLetterItems dead-letters rejected deliveries, per queue.
func deadLetterItems(items []unackedItem) {
	var msgs []*queue.Message
	for i, it := range items {
		if !it.q.dlx.set {
			continue
		}
		msgs = append(msgs, it.e.Msg)
		if i == len(items)-1 || items[i+1].q != it.q {
			it.q.deadLetter(msgs, "rejected")
			msgs = msgs[:0]
		}
	}
}

// delayFor is how long a delayed-message exchange holds msg (0: route now).
func (x *Exchange) delayFor(msg *queue.Message) time.Duration {
	if x.delay == nil {
		return 0
	}
	return time.Duration(delayOf(msg.Props)) * time.Millisecond
}
