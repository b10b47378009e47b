package broker

import (
	"errors"

	"github.com/warrenmq/warren/broker/queue"
)

// confirmHold makes a publisher's confirm wait for the store writes of its
// message; the zero value is a publish nobody waits for (no confirms, a
// dead-lettered message).
type confirmHold struct {
	ch  *channel
	tag uint64
}

// enqueue offers msg to each queue, appending it to the store for durable
// queues inside the queue's critical section (so an ack can never overtake
// the append). It reports whether a queue refused it (x-overflow
// reject-publish).
func enqueue(qs []*Queue, msg *queue.Message, hold confirmHold) (rejected bool) {
	var rec []byte
	// The publishing connection writes the deliveries out at the end of
	// its read batch (conn_flush.go).
	var via any
	if hold.ch != nil {
		via = hold.ch.c
	}
	for _, q := range qs {
		var err error
		if msg.Persistent && q.persist {
			if rec == nil {
				rec = messageRecord(msg)
			}
			err = offerPersistent(q, msg, rec, hold, via)
		} else {
			_, err = q.OfferWith(msg, nil, via)
		}
		if errors.Is(err, queue.ErrOverflow) {
			rejected = true
		}
	}
	return rejected
}

func offerPersistent(q *Queue, msg *queue.Message, rec []byte, hold confirmHold, via any) error {
	st := q.vhost.s.store
	done := hold.storeDone()
	_, err := q.OfferWith(msg, func(e *queue.Entry) {
		if hold.tag != 0 {
			hold.ch.confirms.addWrite(hold.tag)
		}
		st.AppendOnce(q.id, e.Seq, rec, done)
	}, via)
	return err
}

// storeDone is the store's completion callback for one write: it runs on
// the store's committer goroutine once the write is fsynced or failed.
func (h confirmHold) storeDone() func(error) {
	if h.tag == 0 {
		return ignoreStoreResult
	}
	ch, tag := h.ch, h.tag
	return func(err error) {
		if ch.confirms.complete(tag, err) {
			ch.c.confirmReady(ch, true)
		}
	}
}

// ignoreStoreResult: without confirms nobody is told about a failed write;
// the store has logged it.
func ignoreStoreResult(error) {}
