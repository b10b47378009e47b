package broker

import (
	"github.com/warrenmq/warren/store"
	"github.com/warrenmq/warren/store/spool"
)

// Persister is what the broker needs of the store. *store.Store satisfies
// it; tests wrap it to fail writes (the raft-style seam for fault
// injection).
type Persister interface {
	PutDef(k store.Kind, key []string, value []byte) error
	DeleteDef(k store.Kind, key []string) error
	DeleteDefsWithPrefix(k store.Kind, prefix []string) error
	Defs(k store.Kind, fn func(key []string, value []byte) error) error
	// AppendOnce is asynchronous: done runs once the record is fsynced
	// (or failed). It is an in-memory enqueue, so the broker may call it
	// with a queue's lock held. The broker numbers messages above every
	// stored one, so an ack that overtakes the write cancels both (see
	// store.AppendOnce).
	AppendOnce(qid, seq uint64, rec []byte, done func(error))
	Delete(qid, seq uint64)
	DeleteQueue(qid uint64) error
	Messages(qid uint64, fn func(seq uint64, rec []byte) error) error
	QueueIDs() ([]uint64, error)
	// For paging: ReadRange reads part of a queue, Flush waits for the
	// writes queued so far, DeleteRange drops a purged tail.
	ReadRange(qid, fromSeq uint64, max int, fn func(seq uint64, rec []byte) error) error
	Flush() error
	DeleteRange(qid, from, to uint64) error
	// NewTail spools the transient messages a queue pages out.
	NewTail() *spool.Tail
}

var _ Persister = (*store.Store)(nil)
