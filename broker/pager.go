package broker

import (
	"errors"
	"math"

	"github.com/warrenmq/warren/broker/queue"
	"github.com/warrenmq/warren/store/spool"
)

// storePager keeps the tail of a long queue out of memory. Persistent
// messages of a durable queue are in the store already (OfferWith's hook
// appended them); everything else goes to the queue's spool tail, which
// costs no fsync and is gone after a restart, as transient messages are.
// A durable queue's tail may hold both kinds, so reading it back merges the
// two by sequence.
//
// Its methods run under the queue's lock: PageOut buffers and sometimes
// writes to the page cache; PageIn and DropRange may wait on the store,
// which is acceptable because they happen once per batch of messages, only
// on queues that outgrew memory.
type storePager struct {
	q    *Queue
	tail *spool.Tail
	head []byte // scratch: the record of the message being paged, less its body
}

// errBatchFull stops the store's scan once a page-in has its batch.
var errBatchFull = errors.New("page-in batch full")

// PageOut stores a message that will not be kept in memory.
func (p *storePager) PageOut(seq uint64, m *queue.Message) {
	if p.q.persist && m.Persistent {
		return
	}
	p.head = appendMessageHead(p.head[:0], m)
	if err := p.tail.Append(seq, p.head, m.Body); err != nil {
		// Only a failed write of a whole buffer, not each message, gets
		// here; the queue forgets the lost messages when it reads the
		// tail back and finds it short.
		p.q.vhost.logStoreErr(err, "spool paged messages of queue '"+p.q.name+"'")
	}
}

// PageIn reads the next batch back, in sequence order.
func (p *storePager) PageIn(from uint64, max int, fn func(seq uint64, m *queue.Message)) error {
	emit := func(seq uint64, rec []byte) error {
		m, err := decodeMessage(rec)
		if err != nil {
			return err
		}
		fn(seq, m)
		return nil
	}
	if !p.q.persist {
		_, err := p.tail.Read(from, math.MaxUint64, max, emit)
		return err
	}
	st := p.q.vhost.s.store
	if err := st.Flush(); err != nil { // the appends queued so far
		return err
	}
	n := 0
	err := st.ReadRange(p.q.id, from, max, func(seq uint64, rec []byte) error {
		// Spooled messages older than this stored one come first.
		k, err := p.tail.Read(from, seq, max-n, emit)
		n += k
		if err != nil {
			return err
		}
		if n < max {
			if err := emit(seq, rec); err != nil {
				return err
			}
			n++
		}
		if n == max {
			return errBatchFull
		}
		return nil
	})
	if errors.Is(err, errBatchFull) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = p.tail.Read(from, math.MaxUint64, max-n, emit)
	return err
}

// DropRange deletes a purged tail.
func (p *storePager) DropRange(from, to uint64) {
	v := p.q.vhost
	v.logStoreErr(p.tail.Drop(to), "drop spooled messages")
	if p.q.persist {
		v.logStoreErr(v.s.store.DeleteRange(p.q.id, from, to), "purge paged messages")
	}
}

// close discards the spooled messages: the queue is gone.
func (p *storePager) close() {
	p.q.vhost.logStoreErr(p.tail.Close(), "discard spooled messages")
}
