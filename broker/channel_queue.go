package broker

import (
	"errors"
	"strings"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
	"github.com/warrenmq/warren/exchange"
)

const classQueue = amqp.ClassQueue

// queueArgsChecked are the arguments RabbitMQ compares on redeclare.
var queueArgsChecked = []string{
	"x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
	"x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow",
	"x-queue-mode", "x-queue-version", "x-single-active-consumer", "x-queue-type",
	"x-queue-master-locator",
}

func (ch *channel) queueDeclare(m *amqp.QueueDeclare) error {
	v := ch.c.vhost
	name := m.Queue
	if m.Passive && strings.HasPrefix(name, replyToName) {
		// Direct reply-to: the pseudo queue always exists, and a reply
		// address exists while its consumer does; clients probe both
		// this way (RabbitMQ answers 0 messages, 1 consumer).
		if token, ok := isReplyAddress(name); ok {
			if _, live := ch.c.s.replyTo.Load(token); !live {
				return amqp.NewError(amqp.NotFound, classQueue, 10, "no queue '%s' in vhost '%s'", name, ch.c.vhost.name)
			}
		} else if name != replyToName {
			return amqp.NewError(amqp.NotFound, classQueue, 10, "no queue '%s' in vhost '%s'", name, ch.c.vhost.name)
		}
		if !m.NoWait {
			ch.c.reply(ch.id, &amqp.QueueDeclareOk{Queue: name, ConsumerCount: 1})
		}
		return nil
	}
	if m.Passive {
		q, err := ch.queueForUse(name, 10)
		if err != nil {
			return err
		}
		q.Touch(time.Now())
		ch.lastQueue = q.name
		ch.declareOk(m.NoWait, q)
		return nil
	}
	if name == "" {
		name = "amq.gen-" + randomName()
	} else if strings.HasPrefix(name, "amq.") {
		return amqp.NewError(amqp.AccessRefused, classQueue, 10,
			"queue name '%s' contains reserved prefix 'amq.*'", name)
	}
	v.mu.Lock()
	q := v.queues[name]
	if q == nil {
		// Arguments are validated for a new queue; a redeclaration is
		// compared with what exists (RabbitMQ's order).
		if err := validateQueueArgs(m.Arguments, name, v.name); err != nil {
			v.mu.Unlock()
			return err
		}
		q = v.newQueue(name, m.Durable, m.Exclusive, m.AutoDelete, m.Arguments, 0)
		if m.Exclusive {
			q.owner = ch.c
		}
		if err := v.persistQueue(q); err != nil {
			v.mu.Unlock()
			return err
		}
		v.queues[name] = q
		v.mu.Unlock()
		q.armLease()
	} else {
		v.mu.Unlock()
		// The exclusive flag is judged by ownership (405), not compared
		// like the other properties.
		if q.lockedBy(ch.c) || q.Exclusive != m.Exclusive {
			return errLocked(q, 10)
		}
		if err := q.equivalent(m); err != nil {
			return err
		}
		q.Touch(time.Now()) // a redeclare is a use (x-expires)
	}
	ch.lastQueue = name
	ch.declareOk(m.NoWait, q)
	return nil
}

func (ch *channel) declareOk(noWait bool, q *Queue) {
	if noWait {
		return
	}
	ch.c.reply(ch.id, &amqp.QueueDeclareOk{Queue: q.name, MessageCount: uint32(q.Len()), ConsumerCount: uint32(q.ConsumerCount())})
}

func (q *Queue) equivalent(m *amqp.QueueDeclare) error {
	diff := func(field string, received, current bool) error {
		return amqp.NewError(amqp.PreconditionFailed, classQueue, 10,
			"inequivalent arg '%s' for queue '%s' in vhost '%s': received '%s' but current is '%s'",
			field, q.name, q.vhost.name, boolText(received), boolText(current))
	}
	switch {
	case m.Durable != q.Durable:
		return diff("durable", m.Durable, q.Durable)
	case m.AutoDelete != q.AutoDelete:
		return diff("auto_delete", m.AutoDelete, q.AutoDelete)
	}
	return argsEquivalent(m.Arguments, q.Args, queueArgsChecked, "queue", q.name, q.vhost.name, classQueue, 10)
}

func errLocked(q *Queue, method uint16) error {
	return amqp.NewError(amqp.ResourceLocked, classQueue, method,
		"cannot obtain exclusive access to locked queue '%s' in vhost '%s'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
		q.name, q.vhost.name)
}

// queueForUse resolves a queue name for bind, consume, get, purge and
// delete: "" means the channel's last declared queue (spec 1.7.2.1), a
// missing queue is 404, another connection's exclusive queue is 405.
func (ch *channel) queueForUse(name string, method uint16) (*Queue, error) {
	class := classQueue
	if method == 20 || method == 70 {
		class = classBasic // consume, get
	}
	if name == "" {
		if ch.lastQueue == "" {
			return nil, amqp.NewError(amqp.NotFound, class, method, "no previously declared queue")
		}
		name = ch.lastQueue
	}
	q := ch.c.vhost.queue(name)
	if q == nil {
		return nil, amqp.NewError(amqp.NotFound, class, method, "no queue '%s' in vhost '%s'", name, ch.c.vhost.name)
	}
	if q.lockedBy(ch.c) {
		return nil, errLocked(q, method)
	}
	return q, nil
}

func (ch *channel) queueBind(m *amqp.QueueBind) error {
	if m.Exchange == "" {
		return amqp.NewError(amqp.AccessRefused, classQueue, 20, "operation not permitted on the default exchange")
	}
	q, err := ch.queueForUse(m.Queue, 20)
	if err != nil {
		return err
	}
	key := m.RoutingKey
	if key == "" && m.Queue == "" {
		key = q.name // spec 1.7.2.3: empty queue and key mean the last queue's name
	}
	v := ch.c.vhost
	v.mu.Lock()
	x := v.exchanges[m.Exchange]
	if x == nil {
		v.mu.Unlock()
		return amqp.NewError(amqp.NotFound, classQueue, 20, "no exchange '%s' in vhost '%s'", m.Exchange, v.name)
	}
	if q.deleted.Load() {
		v.mu.Unlock()
		return amqp.NewError(amqp.NotFound, classQueue, 20, "no queue '%s' in vhost '%s'", q.name, v.name)
	}
	if err := exchange.ValidateBindingKey(x.Kind, key, m.Arguments); err != nil {
		v.mu.Unlock()
		return bindingError(err, classQueue, 20)
	}
	if x.router.Bind(exchange.Binding[dest]{Key: key, Dest: dest{q: q}, Args: m.Arguments}) {
		if err := v.persistBinding(x, dest{q: q}, key, m.Arguments); err != nil {
			x.router.Unbind(exchange.Binding[dest]{Key: key, Dest: dest{q: q}, Args: m.Arguments})
			v.mu.Unlock()
			return err
		}
	}
	v.mu.Unlock()
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.QueueBindOk{})
	}
	return nil
}

func (ch *channel) queueUnbind(m *amqp.QueueUnbind) error {
	if m.Exchange == "" {
		return amqp.NewError(amqp.AccessRefused, classQueue, 50, "operation not permitted on the default exchange")
	}
	name := m.Queue
	if name == "" {
		if ch.lastQueue == "" {
			return amqp.NewError(amqp.NotFound, classQueue, 50, "no previously declared queue")
		}
		name = ch.lastQueue
	}
	v := ch.c.vhost
	v.mu.Lock()
	q, x := v.queues[name], v.exchanges[m.Exchange]
	// RabbitMQ 3.x: unbinding what does not exist (binding, queue or
	// exchange) succeeds, and is answered before exclusivity is checked.
	if q != nil && x != nil {
		b := exchange.Binding[dest]{Key: m.RoutingKey, Dest: dest{q: q}, Args: m.Arguments}
		if q.lockedBy(ch.c) {
			if hasBinding(x, b) {
				v.mu.Unlock()
				return errLocked(q, 50)
			}
		} else if x.router.Unbind(b) {
			v.forgetBinding(x, b.Dest, b.Key, b.Args)
			if x.AutoDelete && x.router.Len() == 0 {
				v.deleteExchangeLocked(x)
			}
		}
	}
	v.mu.Unlock()
	ch.c.reply(ch.id, &amqp.QueueUnbindOk{})
	return nil
}

func (ch *channel) queuePurge(m *amqp.QueuePurge) error {
	q, err := ch.queueForUse(m.Queue, 30)
	if err != nil {
		return err
	}
	n := q.Purge()
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.QueuePurgeOk{MessageCount: uint32(n)})
	}
	return nil
}

func (ch *channel) queueDelete(m *amqp.QueueDelete) error {
	name := m.Queue
	if name == "" {
		name = ch.lastQueue
	}
	q := ch.c.vhost.queue(name)
	if q == nil {
		// RabbitMQ 3.x: deleting a missing queue succeeds.
		if !m.NoWait {
			ch.c.reply(ch.id, &amqp.QueueDeleteOk{})
		}
		return nil
	}
	if q.lockedBy(ch.c) {
		return errLocked(q, 40)
	}
	n, err := ch.c.vhost.deleteQueueIf(q, m.IfUnused, m.IfEmpty)
	if errors.Is(err, queue.ErrInUse) {
		return amqp.NewError(amqp.PreconditionFailed, classQueue, 40, "queue '%s' in vhost '%s' in use", q.name, q.vhost.name)
	}
	if errors.Is(err, queue.ErrNotEmpty) {
		return amqp.NewError(amqp.PreconditionFailed, classQueue, 40, "queue '%s' in vhost '%s' not empty", q.name, q.vhost.name)
	}
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.QueueDeleteOk{MessageCount: uint32(n)})
	}
	return nil
}

// hasBinding reports whether x has a binding with b's key and destination.
// Only the rare path of an unbind on another connection's exclusive queue
// needs it, so a scan is fine.
func hasBinding(x *Exchange, b exchange.Binding[dest]) bool {
	for _, have := range x.router.Bindings() {
		if have.Key == b.Key && have.Dest == b.Dest {
			return true
		}
	}
	return false
}

// bindingError turns the exchange package's argument check into 406.
func bindingError(err error, class, method uint16) error {
	var ib *exchange.InvalidBindingError
	if errors.As(err, &ib) {
		return &amqp.Error{Code: amqp.PreconditionFailed, Text: "PRECONDITION_FAILED - " + ib.Text, ClassID: class, MethodID: method}
	}
	return amqp.NewError(amqp.PreconditionFailed, class, method, "%v", err)
}
