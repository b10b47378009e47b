package broker

import (
	"github.com/warrenmq/warren/broker/queue"
)

// storePager keeps the tail of a long queue in the store. Its methods run
// under the queue's lock: PageOut only enqueues a write; PageIn and
// DropRange wait on the store, which is acceptable because they happen
// once per batch of messages, only on queues that outgrew memory.
type storePager struct {
	q *Queue
}

// PageOut stores a message that will not be kept in memory. Persistent
// messages of a durable queue were appended already (OfferWith's hook).
func (p storePager) PageOut(seq uint64, m *queue.Message) {
	if p.q.persist && m.Persistent {
		return
	}
	p.q.vhost.s.store.Append(p.q.id, seq, messageRecord(m), nil)
}

// PageIn waits for this queue's pending writes, then reads the next batch.
func (p storePager) PageIn(from uint64, max int, fn func(seq uint64, m *queue.Message)) error {
	st := p.q.vhost.s.store
	if err := st.Flush(); err != nil {
		return err
	}
	return st.ReadRange(p.q.id, from, max, func(seq uint64, rec []byte) error {
		m, err := decodeMessage(rec)
		if err != nil {
			return err
		}
		fn(seq, m)
		return nil
	})
}

// DropRange deletes a purged tail.
func (p storePager) DropRange(from, to uint64) {
	p.q.vhost.logStoreErr(p.q.vhost.s.store.DeleteRange(p.q.id, from, to), "purge paged messages")
}
