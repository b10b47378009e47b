package broker

import (
	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// consumer is a basic.consume: the queue.Sink that turns a queue's
// deliveries into basic.deliver frames on its channel.
type consumer struct {
	ch    *channel
	q     *Queue
	tag   string
	noAck bool
	qc    *queue.Consumer
}

// Deliver runs with the queue's lock held (queue.mu → channel.mu →
// conn.outMu), so the consumer sees messages in queue order.
func (cs *consumer) Deliver(q *queue.Queue, _ *queue.Consumer, e *queue.Entry) {
	ch := cs.ch
	via, _ := q.Via().(*conn)
	ch.mu.Lock()
	tag := ch.deliverLocked(cs.tag, e.Redelivered, e.Msg, via)
	if !cs.noAck {
		ch.unacked.add(tag, cs.q, e, cs, ch.c.s.coarseNow.Load())
	} else if cs.q.isStored(e) {
		// Delivered is done for no-ack: the stored copy goes now (an
		// in-memory enqueue, allowed under queue.mu).
		ch.c.s.store.Delete(cs.q.id, e.Seq)
	}
	ch.mu.Unlock()
}

// deliverLocked queues a basic.deliver of m for consumerTag and returns
// its delivery tag; via is the publishing connection when the delivery is
// part of its publish (see wakeFor). ch.mu is held.
func (ch *channel) deliverLocked(consumerTag string, redelivered bool, m *queue.Message, via *conn) uint64 {
	ch.deliveryTag++
	d := &ch.deliver
	d.ConsumerTag = consumerTag
	d.DeliveryTag = ch.deliveryTag
	d.Redelivered = redelivered
	d.Exchange = m.Exchange
	d.RoutingKey = m.RoutingKey
	ch.c.wakeFor(via, ch.c.appendContent(ch.id, d, m.Props, m.Body))
	return ch.deliveryTag
}

// detach removes the consumer from its queue and deletes an auto-delete
// queue whose last consumer this was.
func (cs *consumer) detach() {
	_, remaining := cs.q.RemoveConsumer(cs.qc)
	if remaining == 0 && cs.q.AutoDelete && !cs.q.deleted.Load() {
		cs.q.vhost.deleteQueue(cs.q)
		return
	}
	if remaining == 0 {
		cs.q.armLease() // x-expires counts from now
	}
}

// consumerCancelled is called when the queue of one of the channel's
// consumers is deleted: RabbitMQ's consumer cancel notification.
func (ch *channel) consumerCancelled(tag string) {
	ch.mu.Lock()
	_, ok := ch.consumers[tag]
	delete(ch.consumers, tag)
	released := ch.released
	ch.mu.Unlock()
	if ok && !released {
		ch.c.writeMethod(ch.id, &amqp.BasicCancel{ConsumerTag: tag, NoWait: true})
	}
}
