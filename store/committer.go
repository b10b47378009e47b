package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

type opKind uint8

const (
	opSet     opKind = iota // write key = val
	opDelete                // delete key
	opBarrier               // run fn after everything queued before it is durable
)

// msgID names one message: the queue and its sequence number.
type msgID struct{ qid, seq uint64 }

// op is one write queued for the committer.
type op struct {
	kind opKind
	// skip marks a message Append that no longer needs writing: a Delete of
	// the same message arrived while the Append was still pending (the ack
	// overtook the write, as it does for fast consumers), or a second Append
	// of the same message replaced it. Its callback still runs, with nil.
	skip bool
	// once marks an AppendOnce: no earlier record of the message can be
	// on disk, so a Delete that cancels it needs no tombstone.
	once bool
	msg  bool  // the key is the message key of id, encoded at write time
	id   msgID // if msg
	key  []byte
	val  []byte
	done func(error)  // may be nil for Delete
	fn   func() error // opBarrier; nil for Flush
}

// enqueue queues o for the committer and wakes it. It reports false, without
// calling o.done, if the store is closed.
//
// A Delete of a message whose Append is still pending cancels the Append
// (it is marked skip), so the record of a message acked before its group
// commit never touches the disk (garagemq's idea, in msgstorage.go). The
// Delete is still queued, unless the Append was an AppendOnce: an earlier
// Append of the same (qid, seq) may be on disk already, and a tombstone is a
// key, not a record. Only ops still in
// pending are cancelled; once the committer has taken a group, a Delete is
// queued behind it as usual.
func (s *Store) enqueue(o op) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if o.msg {
		i, ok := s.index[o.id]
		switch {
		case o.kind == opSet:
			if ok {
				s.pending[i].skip = true
			}
			s.index[o.id] = len(s.pending)
		case ok: // opDelete of a pending Append
			delete(s.index, o.id)
			s.pending[i].skip = true
			if s.pending[i].once { // nothing of it on disk: nothing to delete
				s.mu.Unlock()
				return true
			}
		}
	}
	s.pending = append(s.pending, o)
	s.mu.Unlock()
	s.cond.Signal()
	return true
}

// do queues o and waits for its completion: the synchronous writes (PutDef,
// DeleteQueue, ...) go through the committer too, so that they are ordered
// with the message writes and share their fsyncs.
func (s *Store) do(o op) error {
	ch := make(chan error, 1)
	o.done = func(err error) { ch <- err }
	if !s.enqueue(o) {
		return ErrClosed
	}
	return <-ch
}

// Flush returns once every write queued before it has completed, and its
// callback has run. Tests and shutdown paths use it to wait for the
// asynchronous Append and Delete.
func (s *Store) Flush() error {
	return s.do(op{kind: opBarrier})
}

// commitLoop is the committer goroutine. It sleeps on s.cond while nothing is
// pending (no ticker, so an idle store costs nothing), takes everything
// pending in one swap, and writes it while new operations accumulate behind
// it. After Close it drains what is pending and exits.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	var c committer
	c.s = s
	var batch []op
	spare := make(map[msgID]int)
	for {
		s.mu.Lock()
		for len(s.pending) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.pending) == 0 { // closed and drained
			s.mu.Unlock()
			return
		}
		batch, s.pending = s.pending, batch[:0]
		spare, s.index = s.index, spare
		s.mu.Unlock()

		// spare now holds the positions of the batch just taken, which no
		// Delete may cancel any more.
		if len(spare) > 1<<16 {
			spare = make(map[msgID]int) // let a burst's table go
		} else {
			clear(spare)
		}
		c.run(batch)
		clear(batch) // drop the references to records and callbacks
		if cap(batch) > 1<<16 {
			batch = nil
		}
	}
}

// committer holds the committer goroutine's reusable buffers.
type committer struct {
	s    *Store
	errs []error // per op of the group being written
	keys []byte  // arena for the message keys of the group being written
}

// run writes batch in order: barriers alone, everything else in groups bounded
// by the options' count and byte limits.
func (c *committer) run(batch []op) {
	o := &c.s.opts
	for len(batch) > 0 {
		if batch[0].kind == opBarrier {
			c.barrier(&batch[0])
			batch = batch[1:]
			continue
		}
		n, bytes := 0, 0
		for n < len(batch) && n < o.maxBatchCount && batch[n].kind != opBarrier {
			size := len(batch[n].key) + len(batch[n].val)
			if batch[n].msg {
				size += msgKeyLen
			}
			if n > 0 && bytes+size > o.maxBatchBytes {
				break
			}
			bytes += size
			n++
		}
		c.write(batch[:n])
		batch = batch[n:]
	}
}

// barrier runs a barrier op: everything queued before it has been written.
func (c *committer) barrier(o *op) {
	if o.fn == nil { // Flush: nothing to write
		o.done(nil)
		return
	}
	before := c.s.badgerErrs.Load()
	err := o.fn()
	if err == nil {
		err = c.s.afterWrite(before)
	}
	o.done(err)
}

// write commits one group and then completes its callbacks. The group is one
// Badger transaction unless Badger's limits (ErrTxnTooBig) split it; the
// pieces are committed with CommitWith so that Badger's writer can take them
// in one write, and all of them are waited for before any callback runs.
// With SyncWrites, a returned commit is an fsynced commit.
func (c *committer) write(ops []op) {
	s := c.s
	before := s.badgerErrs.Load()

	c.errs = append(c.errs[:0], make([]error, len(ops))...)
	need := 0
	for i := range ops {
		if ops[i].msg {
			need += msgKeyLen
		}
	}
	if cap(c.keys) < need {
		c.keys = make([]byte, 0, need)
	}
	// Badger keeps references to keys and values until the commit is done;
	// the arena has room for every key, so it never moves while in use.
	keys := c.keys[:0]

	var wg sync.WaitGroup
	txn := s.db.NewTransaction(true)
	first, entries, written := 0, 0, 0
	commit := func(end int) {
		if entries == 0 {
			txn.Discard()
			return
		}
		written += entries
		seg, errs := ops[first:end], c.errs[first:end]
		wg.Add(1)
		txn.CommitWith(func(err error) {
			defer wg.Done()
			if err == nil {
				return
			}
			err = fmt.Errorf("store: commit: %w", err)
			for i := range seg {
				if errs[i] == nil && !seg[i].skip {
					errs[i] = err
				}
			}
		})
	}
	for i := range ops {
		o := &ops[i]
		if o.skip {
			continue
		}
		key := o.key
		if o.msg {
			start := len(keys)
			keys = appendMsgKey(keys, o.id.qid, o.id.seq)
			key = keys[start:len(keys):len(keys)]
		}
		err := addToTxn(txn, o.kind, key, o.val)
		if errors.Is(err, badger.ErrTxnTooBig) && entries > 0 {
			commit(i)
			txn = s.db.NewTransaction(true)
			first, entries = i, 0
			err = addToTxn(txn, o.kind, key, o.val)
		}
		if err != nil {
			// This op alone is refused (too large, bad key): fail it, keep
			// the rest of the group.
			c.errs[i] = fmt.Errorf("store: write: %w", err)
			continue
		}
		entries++
	}
	commit(len(ops))
	wg.Wait()

	var err error
	if written > 0 {
		err = s.afterWrite(before)
	}
	for i := range ops {
		e := c.errs[i]
		if e == nil && !ops[i].skip {
			e = err
		}
		if ops[i].done != nil {
			ops[i].done(e)
		}
	}
	clear(c.errs)
}

func addToTxn(txn *badger.Txn, kind opKind, key, val []byte) error {
	if kind == opDelete {
		return txn.Delete(key)
	}
	return txn.Set(key, val)
}

// afterWrite decides whether a write that Badger reported as done is durable:
// the test hook may fail it, and so does any error Badger logged meanwhile
// (see ErrBadgerReported).
func (s *Store) afterWrite(before uint64) error {
	if h := s.opts.syncHook; h != nil {
		if err := h(); err != nil {
			return fmt.Errorf("store: sync: %w", err)
		}
	}
	if s.badgerErrs.Load() != before {
		return ErrBadgerReported
	}
	return nil
}

// deletePrefix deletes every key that starts with prefix. It runs on the
// committer as a barrier, so it sees every write queued before it; it reads
// keys only (no values) and commits in pieces under Badger's limits.
func (s *Store) deletePrefix(prefix []byte) error {
	return s.deleteKeys(prefix, prefix, nil)
}

// deleteKeys deletes the keys that start with prefix, from start up to but
// excluding stop (nil: to the end of the prefix).
func (s *Store) deleteKeys(prefix, start, stop []byte) error {
	return s.db.View(func(rtxn *badger.Txn) error {
		it := rtxn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		wtxn := s.db.NewTransaction(true)
		defer func() { wtxn.Discard() }()
		for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
			if stop != nil && bytes.Compare(it.Item().Key(), stop) >= 0 {
				break
			}
			key := it.Item().KeyCopy(nil)
			err := wtxn.Delete(key)
			if errors.Is(err, badger.ErrTxnTooBig) {
				if err := wtxn.Commit(); err != nil {
					return fmt.Errorf("store: delete range: %w", err)
				}
				wtxn = s.db.NewTransaction(true)
				err = wtxn.Delete(key)
			}
			if err != nil {
				return fmt.Errorf("store: delete range: %w", err)
			}
		}
		if err := wtxn.Commit(); err != nil {
			return fmt.Errorf("store: delete range: %w", err)
		}
		return nil
	})
}
