package broker

import (
	"fmt"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
	"github.com/warrenmq/warren/store"
)

// What is durable follows RabbitMQ: durable exchanges, durable queues that
// are not exclusive, and bindings whose both ends are durable. Every write
// of a definition is fsynced before the client is answered.

// newQueue builds a queue of v; a durable one gets a store id and the
// hook that deletes the stored copies of messages dropped unread.
func (v *VHost) newQueue(name string, durable, exclusive, autoDelete bool, args amqp.Table, id uint64) *Queue {
	q := &Queue{vhost: v, name: name, Durable: durable, Exclusive: exclusive, AutoDelete: autoDelete, Args: args,
		dlx: dlxOf(args)}
	q.persist = v.s.store != nil && durable && !exclusive
	opts := queue.Options{Name: name, Durable: durable, Exclusive: exclusive, AutoDelete: autoDelete, Limits: queueLimits(args)}
	applyQueueFeatures(&opts, args)
	if v, ok := args.Get("x-consumer-timeout"); ok {
		if n, ok := integerArg(v); ok && n > 0 {
			q.consumerTimeout = time.Duration(n) * time.Millisecond
		}
	}
	opts.OnDeadLetter = q.deadLetterEntries
	opts.OnNextExpiry = q.armExpiry
	if st := v.s.store; st != nil {
		// Every queue gets an id: a transient queue's paged tail lives in
		// the store too (and is dropped at the next start).
		if id == 0 {
			id = v.s.nextQID.Add(1)
		}
		q.id = id
		opts.OnRemove = func(e *queue.Entry) {
			if q.isStored(e) {
				st.Delete(id, e.Seq)
			}
		}
		q.pager = &storePager{q: q, tail: st.NewTail()}
		opts.Paging = &queue.Paging{Pager: q.pager,
			MaxMessages: v.s.opts.QueueMemoryMessages, MaxBytes: v.s.opts.QueueMemoryBytes}
	}
	q.Queue = queue.New(opts)
	return q
}

// isStored reports whether an entry has a copy in the store to delete
// when it is settled: only persistent messages of durable queues do (a
// transient one paged out went to the spool).
func (q *Queue) isStored(e *queue.Entry) bool {
	return q.persist && e.Msg.Persistent
}

func storeError(err error, what string) error {
	return amqp.NewError(amqp.InternalError, 0, 0, "could not store %s: %v", what, err)
}

func (v *VHost) persistExchange(x *Exchange) error {
	if v.s.store == nil || !x.Durable {
		return nil
	}
	if err := v.s.store.PutDef(store.KindExchange, []string{v.name, x.Name}, exchangeRecord(x)); err != nil {
		return storeError(err, fmt.Sprintf("exchange '%s'", x.Name))
	}
	return nil
}

func (v *VHost) persistQueue(q *Queue) error {
	if !q.persist {
		return nil
	}
	if err := v.s.store.PutDef(store.KindQueue, []string{v.name, q.name}, queueRecord(q)); err != nil {
		return storeError(err, fmt.Sprintf("queue '%s'", q.name))
	}
	return nil
}

// durableDest reports whether a binding to d survives a restart.
func durableDest(d dest) bool {
	if d.q != nil {
		return d.q.persist
	}
	return d.x.Durable
}

func (v *VHost) persistBinding(src *Exchange, d dest, key string, args amqp.Table) error {
	if v.s.store == nil || !src.Durable || !durableDest(d) || src.Name == "" {
		return nil
	}
	rec := encodeTable(amqp.Table{{Key: "arguments", Value: nonNil(args)}})
	if err := v.s.store.PutDef(store.KindBinding, bindingKey(v.name, src.Name, d, key, args), rec); err != nil {
		return storeError(err, "binding")
	}
	return nil
}

func (v *VHost) forgetBinding(src *Exchange, d dest, key string, args amqp.Table) {
	if v.s.store == nil || !src.Durable || !durableDest(d) {
		return
	}
	v.logStoreErr(v.s.store.DeleteDef(store.KindBinding, bindingKey(v.name, src.Name, d, key, args)), "delete binding")
}

// forgetExchange deletes a durable exchange and every stored binding from
// or to it.
func (v *VHost) forgetExchange(x *Exchange) {
	if v.s.store == nil || !x.Durable {
		return
	}
	st := v.s.store
	v.logStoreErr(st.DeleteDef(store.KindExchange, []string{v.name, x.Name}), "delete exchange")
	v.logStoreErr(st.DeleteDefsWithPrefix(store.KindBinding, []string{v.name, x.Name}), "delete bindings")
	v.forgetBindingsTo("x", x.Name)
}

// forgetQueue deletes a durable queue's definition, messages and
// bindings, and a transient queue's paged messages.
func (v *VHost) forgetQueue(q *Queue) {
	if q.pager != nil {
		q.pager.close()
	}
	if !q.persist {
		return
	}
	st := v.s.store
	v.logStoreErr(st.DeleteDef(store.KindQueue, []string{v.name, q.name}), "delete queue")
	v.logStoreErr(st.DeleteQueue(q.id), "delete queue messages")
	v.forgetBindingsTo("q", q.name)
}

func (v *VHost) forgetBindingsTo(kind, name string) {
	var keys [][]string
	err := v.s.store.Defs(store.KindBinding, func(key []string, _ []byte) error {
		if len(key) == 6 && key[0] == v.name && key[2] == kind && key[3] == name {
			keys = append(keys, append([]string(nil), key...))
		}
		return nil
	})
	v.logStoreErr(err, "scan bindings")
	for _, k := range keys {
		v.logStoreErr(v.s.store.DeleteDef(store.KindBinding, k), "delete binding")
	}
}

func (v *VHost) logStoreErr(err error, what string) {
	if err != nil {
		v.s.log.Error().Err(err).Str("vhost", v.name).Msg("store: " + what)
	}
}

// deleteStored drops the stored copies of settled persistent messages.
func deleteStored(items []unackedItem) {
	for _, it := range items {
		if it.q.isStored(it.e) {
			it.q.vhost.s.store.Delete(it.q.id, it.e.Seq)
		}
	}
}

// applyQueueFeatures sets the queue options that RabbitMQ's x-arguments
// ask for (validated before: validateQueueArgs).
func applyQueueFeatures(o *queue.Options, args amqp.Table) {
	if v, ok := args.Get("x-message-ttl"); ok {
		if n, ok := integerArg(v); ok {
			ttl := time.Duration(n) * time.Millisecond
			o.MessageTTL = &ttl
		}
	}
	if v, ok := args.Get("x-expires"); ok {
		if n, ok := integerArg(v); ok {
			o.Expires = time.Duration(n) * time.Millisecond
		}
	}
	if v, ok := args.Get("x-max-priority"); ok {
		if n, ok := integerArg(v); ok && n > 0 {
			o.MaxPriority = uint8(n)
		}
	}
	if v, ok := args.Get("x-single-active-consumer"); ok {
		o.SingleActiveConsumer, _ = v.(bool)
	}
}
