// Package store owns every byte Warren writes to disk. It keeps definitions
// (vhosts, users, permissions, exchanges, queues, bindings) and the messages of
// durable queues in one Badger database, commits the writes of many callers as
// one group, and scans them back at start-up. It knows nothing of AMQP: records
// are opaque bytes that the broker encodes and decodes.
//
// # Key layout
//
// Every key starts with a one-byte namespace, so the namespaces never overlap:
//
//	'd' kind component* 0x00        definition (see Kind)
//	'm' qid[8] seq[8]               message of a durable queue, both big-endian
//
// A definition key component is uvarint(len+1) followed by the component's
// bytes, and the key ends with a 0x00 byte. Names are arbitrary UTF-8 (the
// default vhost is "/", queue names may hold "/" and "."), so joining them with
// a separator would let ("/", "a/b") and ("/a", "b") collide; with the length
// prefix no two component lists share a key. Because uvarint(len+1) never
// starts with 0x00, the terminator cannot be mistaken for a component, so no
// complete key is a byte prefix of another one, while a list of leading
// components without the terminator is a byte prefix of exactly the keys that
// start with those components (DeleteDefsWithPrefix, DefsWithPrefix).
//
// Message keys have a fixed width, so the keys of queue q are contiguous and in
// sequence order: recovering a queue is one prefix scan, and paging bodies back
// in is one seek. The format is stamped into Badger's manifest as its external
// magic number (formatMagic), so opening a directory written by another
// program, or by an incompatible future layout, fails instead of misreading it.
//
// Transient messages that a long queue pages out are not written to Badger
// but to the spool (package spool, in the data directory's spool/
// subdirectory): plain files written and read sequentially, never synced,
// emptied at every start (NewTail).
//
// # Durability
//
// Badger runs with SyncWrites: every Badger write is msync'ed before the write
// returns, including the log files that a write rotates away from. Badger's
// explicit DB.Sync is not used, because it syncs only the current memtable WAL
// and value-log file: a write that triggers a rotation leaves its entries in a
// file that DB.Sync no longer reaches. One group commit is one Badger write
// (more only when Badger's transaction limits split it), so SyncWrites costs
// one fsync per group (two if it holds records large enough for the value
// log: the value log's and the WAL's). A completion callback reports nil only
// after its group's write has returned, i.e. after the fsync.
//
// Deletes of acked messages (Delete) have no callback and nobody waits for
// them; they ride in the next group. Losing the last ones in a crash brings
// those messages back at recovery, which AMQP allows as a redelivery.
//
// Badger swallows one error on this path: a failed msync of the value log at
// the end of a write is logged, not returned (value.go, "Error while curlf
// sync"). The store counts the errors Badger logs and fails every group during
// which Badger logged one, so that error too reaches the callbacks.
//
// # Concurrency
//
// One goroutine, the committer, performs every write. Append, Delete and the
// definition writes queue an operation and wake it; while it writes and syncs
// one group, the next group accumulates. The queue of pending operations is
// not bounded by the store: when the disk is slower than the publishers,
// records wait in memory (they are the broker's own message bodies, not
// copies), and the broker's memory watermark is what blocks the publishers.
// Reads (Defs, Messages, ReadRange) run on the caller's goroutine against a
// Badger snapshot and see every write whose callback has run. A second
// goroutine runs value-log GC periodically. Close stops both.
package store
