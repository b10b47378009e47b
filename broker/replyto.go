package broker

import (
	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// Direct reply-to: a no-ack consumer on amq.rabbitmq.reply-to gets a
// private address; publishes with reply_to amq.rabbitmq.reply-to on its
// channel carry that address, and replies published to it through the
// default exchange go straight to the consumer, with no queue in between.

// replyConsumer is a channel's direct reply-to consumer.
type replyConsumer struct {
	ch  *channel
	tag string
}

// consumeReplyTo is basic.consume on amq.rabbitmq.reply-to.
func (ch *channel) consumeReplyTo(m *amqp.BasicConsume) error {
	if !m.NoAck {
		return amqp.NewError(amqp.PreconditionFailed, classBasic, 20, "reply consumer cannot acknowledge")
	}
	tag := m.ConsumerTag
	if tag == "" {
		tag = "amq.ctag-" + randomName()
	}
	ch.mu.Lock()
	_, dup := ch.consumers[tag]
	exists := ch.reply != nil
	ch.mu.Unlock()
	if dup {
		return amqp.NewError(amqp.NotAllowed, classBasic, 20, "attempt to reuse consumer tag '%s'", tag)
	}
	if exists {
		return amqp.NewError(amqp.PreconditionFailed, classBasic, 20, "reply consumer already set")
	}
	token := randomName()
	rc := &replyConsumer{ch: ch, tag: tag}
	ch.mu.Lock()
	ch.reply, ch.replyTok = rc, token
	ch.mu.Unlock()
	ch.c.s.replyTo.Store(token, rc)
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.BasicConsumeOk{ConsumerTag: tag})
	}
	return nil
}

// replyToken is the channel's reply address, or "" without a consumer.
func (ch *channel) replyToken() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.replyTok
}

// cancelReplyTo removes the channel's reply consumer if tag is its tag
// (or for any tag when tag is ""); it reports whether it did.
func (ch *channel) cancelReplyTo(tag string) bool {
	ch.mu.Lock()
	rc, token := ch.reply, ch.replyTok
	if rc == nil || (tag != "" && rc.tag != tag) {
		ch.mu.Unlock()
		return false
	}
	ch.reply, ch.replyTok = nil, ""
	ch.mu.Unlock()
	ch.c.s.replyTo.Delete(token)
	return true
}

// deliverReply hands a reply to the consumer behind token; false when
// there is none (it went away), which makes the reply unroutable. via is
// the publishing connection (see wakeFor).
func (s *Server) deliverReply(token string, msg *queue.Message, via *conn) bool {
	v, ok := s.replyTo.Load(token)
	if !ok {
		return false
	}
	rc := v.(*replyConsumer)
	ch := rc.ch
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.released || ch.reply != rc {
		return false
	}
	ch.deliverLocked(rc.tag, false, msg, via)
	return true
}
