package store

import (
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
)

// Fan-out to several durable queues appends the same record once per queue;
// there is no AppendShared. Measured with BenchmarkFanout (8 queues, 64
// messages in flight; "shared" writes the body once plus 16-byte references,
// the least any sharing scheme would write), over several runs on a disk
// shared with other jobs:
//
//	body     copies msgs/s   shared msgs/s
//	1 KiB    17k-22k         34k        1.5-2x, lost in the noise when the disk is busy
//	64 KiB   380-430         4.6k       11-12x: 512 KB per message through WAL and compaction
//	1 MiB    65-75           490-880    7-12x: bandwidth, the fan-out factor
//
// Sharing pays off for large bodies only. Its price is high: a reference
// count or reverse index per body, kept exact across Delete, DeleteQueue and
// crashes (a read per ack, or an in-memory registry rebuilt at recovery, plus
// a sweep at Open for bodies orphaned between two writes), one unsplittable
// transaction per publish, a Get per shared message in the recovery scan, and
// a broker that re-shares recovered bodies in memory. Durable fan-out of
// messages of 64 KiB and more is not the common case, so this waits until the
// end-to-end perf tool shows it matters. The layout leaves room for it: a 'b'
// namespace for bodies, and a Badger UserMeta bit on a message entry marking
// its value as a body reference, keep plain records unchanged.

// Append stores record rec as message seq of queue qid, asynchronously. The
// committer writes it in a group commit with the appends of other callers and
// calls done once: done(nil) after the group is fsynced, or done(err) if it
// could not be written or synced (the broker's basic.nack). A failed append
// may still be on disk, as after a failed fsync; it is "not known to be
// stored". done runs on the committer goroutine and must not block long (every
// later group waits for it) nor call back into the store synchronously.
// After Close, done(ErrClosed) is called before Append returns.
//
// The store keeps rec, without copying, until done is called: the caller must
// not modify it before then. Appending the same (qid, seq) again replaces the
// record. done may be nil.
func (s *Store) Append(qid, seq uint64, rec []byte, done func(error)) {
	if !s.enqueue(op{kind: opSet, msg: true, id: msgID{qid, seq}, val: rec, done: done}) && done != nil {
		done(ErrClosed)
	}
}

// AppendOnce is Append for a message of which no earlier record is still
// stored (the broker numbers each queue's messages upwards from the highest
// it recovered). A Delete that finds it still waiting for its group commit
// then cancels it entirely: neither the record nor a tombstone is written,
// which is what happens to most messages that a fast consumer acks. Using it
// for a (qid, seq) whose earlier record is stored breaks that promise: a
// later Delete would leave the older record on disk.
func (s *Store) AppendOnce(qid, seq uint64, rec []byte, done func(error)) {
	if !s.enqueue(op{kind: opSet, once: true, msg: true, id: msgID{qid, seq}, val: rec, done: done}) && done != nil {
		done(ErrClosed)
	}
}

// Delete removes message seq of queue qid (it was acked) without waiting: the
// delete joins the next group commit, and if the Append is still waiting for
// one, its record is not written at all (its callback still gets nil).
// Delete has no callback because nothing depends on the delete being durable:
// a crash can lose the latest deletes, and the messages then come back at
// recovery, which AMQP allows as a redelivery (the broker marks recovered
// messages redelivered). Deleting a message that is not stored is harmless.
// After Close, Delete does nothing.
func (s *Store) Delete(qid, seq uint64) {
	s.deletes.Add(1)
	s.enqueue(op{kind: opDelete, msg: true, id: msgID{qid, seq}})
}

// DeleteQueue removes every message of queue qid (the queue was deleted or
// purged) and returns once that is durable. It is ordered with Append and
// Delete: appends queued before it are deleted too, appends queued after it
// are kept.
func (s *Store) DeleteQueue(qid uint64) error {
	s.deletes.Add(compactAfterDeletes)
	prefix := appendMsgPrefix(nil, qid)
	return s.do(op{kind: opBarrier, fn: func() error { return s.deletePrefix(prefix) }})
}

// DeleteRange removes the messages of queue qid with from <= seq <= to
// (a purge of messages that live only in the store) and returns once that
// is durable. It is ordered with Append and Delete as DeleteQueue is.
func (s *Store) DeleteRange(qid, from, to uint64) error {
	if from > to {
		return nil
	}
	s.deletes.Add(compactAfterDeletes) // a range is many deletes
	prefix := appendMsgPrefix(nil, qid)
	start := appendMsgKey(nil, qid, from)
	var stop []byte
	if to < math.MaxUint64 {
		stop = appendMsgKey(nil, qid, to+1)
	}
	return s.do(op{kind: opBarrier, fn: func() error { return s.deleteKeys(prefix, start, stop) }})
}

// Messages calls fn for every stored message of queue qid, in sequence order:
// the recovery scan. It sees the appends whose callbacks have run. rec is only
// valid during fn (like badger's Item.Value): copy it to keep it. An error
// from fn stops the scan and is returned as it is.
func (s *Store) Messages(qid uint64, fn func(seq uint64, rec []byte) error) error {
	return s.ReadRange(qid, 0, 0, fn)
}

// ReadRange calls fn for at most max messages of queue qid (all if max <= 0),
// in sequence order, starting with the first whose sequence is >= fromSeq: for
// paging bodies back in, in order. rec is only valid during fn (like badger's
// Item.Value): copy it to keep it. An error from fn stops the scan and is
// returned as it is.
func (s *Store) ReadRange(qid uint64, fromSeq uint64, max int, fn func(seq uint64, rec []byte) error) error {
	prefix := appendMsgPrefix(make([]byte, 0, msgPrefixLen), qid)
	start := appendMsgKey(make([]byte, 0, msgKeyLen), qid, fromSeq)
	return s.read(func(db *badger.DB) error {
		return db.View(func(txn *badger.Txn) error {
			// No prefetching: values are handed to fn in place, and
			// prefetching would copy each one.
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			n := 0
			for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
				if max > 0 && n == max {
					break
				}
				item := it.Item()
				_, seq, err := parseMsgKey(item.Key())
				if err != nil {
					return err
				}
				if err := item.Value(func(v []byte) error {
					// Badger logs a value-log read failure and returns no
					// value and no error (Item.yieldItemValue).
					if v == nil && item.ValueSize() > 0 {
						return fmt.Errorf("%w: value of queue %d message %d unreadable", ErrCorrupt, qid, seq)
					}
					return fn(seq, v)
				}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
}

// QueueIDs returns, in ascending order, the ids of the queues that have stored
// messages. The broker compares them with its queue definitions at recovery, to
// delete the messages of queues that no longer exist. It costs one seek per
// queue, not one step per message.
func (s *Store) QueueIDs() ([]uint64, error) {
	var ids []uint64
	err := s.read(func(db *badger.DB) error {
		return db.View(func(txn *badger.Txn) error {
			ns := []byte{nsMsg}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: ns})
			defer it.Close()
			for it.Seek(ns); it.ValidForPrefix(ns); {
				qid, _, err := parseMsgKey(it.Item().Key())
				if err != nil {
					return err
				}
				ids = append(ids, qid)
				if qid == math.MaxUint64 {
					break
				}
				it.Seek(appendMsgPrefix(nil, qid+1))
			}
			return nil
		})
	})
	return ids, err
}
