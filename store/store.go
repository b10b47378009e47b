package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"

	"github.com/warrenmq/warren/store/spool"
)

// Store is the durable state of one broker: definitions and the messages of
// durable queues, in one Badger database that only this Store opens. All its
// methods are safe for concurrent use.
type Store struct {
	opts Options
	log  zerolog.Logger
	db   *badger.DB

	// badgerErrs counts the errors Badger has logged (see badgerLogger).
	badgerErrs atomic.Uint64

	// Reads register in readers under dbMu, and Close waits for them
	// after setting dbClosed, so that no read runs into a closed database.
	// dbMu is held only for the check, never during a read, so that a read
	// may nest another (Messages inside a Defs callback) without the
	// recursive read locking that sync.RWMutex forbids.
	dbMu     sync.Mutex
	dbClosed bool
	readers  sync.WaitGroup

	// mu guards the queue of operations for the committer (committer.go).
	mu      sync.Mutex
	cond    sync.Cond // signalled when pending grows or closed is set
	pending []op
	index   map[msgID]int // pending Append of each message, by position in pending
	closed  bool

	committerDone chan struct{}

	gcMu   sync.Mutex // one value-log GC or compaction at a time
	gcStop chan struct{}
	gcDone chan struct{}
	// deletes counts message deletes since the last GC pass; gcRan is
	// set by the first pass (under gcMu).
	deletes atomic.Int64
	gcRan   bool
	// absDir is the data directory as /proc/self/maps names it.
	absDir string

	spool *spool.Dir
	// spoolTemp is set when the spool lives in a temporary directory (an
	// in-memory store), which Close removes.
	spoolTemp bool
}

// Open opens or creates the store. It fails, and never starts empty instead,
// when the directory is locked by another process (Badger's directory lock),
// unreadable, corrupt, holds data files without a manifest, or was written with
// another key layout. Errors carry the directory in their text.
func Open(o Options) (*Store, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		opts:          o,
		log:           o.logger.With().Str("component", "store").Logger(),
		index:         make(map[msgID]int),
		committerDone: make(chan struct{}),
		gcStop:        make(chan struct{}),
		gcDone:        make(chan struct{}),
	}
	s.cond.L = &s.mu

	dir := o.dir
	if o.inMemory {
		dir = "" // Badger refuses a directory in memory mode
	} else if err := checkDataDir(dir); err != nil {
		return nil, err
	}
	bo := badger.DefaultOptions(dir).
		WithInMemory(o.inMemory).
		WithLogger(newBadgerLogger(o.logger, &s.badgerErrs)).
		// Honest durability: see the package documentation for why SyncWrites
		// and not DB.Sync.
		WithSyncWrites(true).
		// The committer is the only writer and never reads in a write
		// transaction, so there is nothing to conflict.
		WithDetectConflicts(false).
		// Badger's metrics are process-wide expvars, shared by every store in
		// a process (tests open many): not useful, and not free.
		WithMetricsEnabled(false).
		WithNumVersionsToKeep(1).
		// Close merges level 0 into the tree: the next Open starts with
		// fewer overlapping tables to scan, and the entries of acked
		// messages are dropped, which tells value-log GC what to reclaim.
		WithCompactL0OnClose(true).
		WithValueThreshold(o.valueThreshold).
		WithValueLogFileSize(o.valueLogFileSize).
		WithMemTableSize(o.memTableSize).
		WithNumMemtables(o.numMemtables).
		WithBlockCacheSize(o.blockCacheSize).
		WithExternalMagic(formatMagic)

	db, err := openBadger(bo)
	if err != nil {
		if o.inMemory {
			return nil, fmt.Errorf("store: open in memory: %w", err)
		}
		return nil, fmt.Errorf("store: open %s: %w", o.dir, err)
	}
	s.db = db
	if s.spool, s.spoolTemp, err = openSpool(o); err != nil {
		return nil, errors.Join(err, db.Close())
	}

	go s.commitLoop()
	if (o.gcInterval > 0 || o.trimInterval > 0) && !o.inMemory {
		if abs, err := filepath.Abs(o.dir); err == nil {
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				s.absDir = real
			}
		}
		go s.gcLoop(o.gcInterval, o.trimInterval)
	} else {
		close(s.gcDone)
	}
	return s, nil
}

// openBadger turns a panic inside badger.Open (Badger asserts on some corrupt
// files) into an error, so that a bad directory stops the broker with a
// message instead of a stack trace.
func openBadger(bo badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: badger panicked: %v", ErrCorrupt, r)
		}
	}()
	return badger.Open(bo)
}

// checkDataDir refuses a directory that holds Badger data files but no
// MANIFEST: Badger would create a new manifest and delete the tables it does
// not list, which is starting empty with extra steps. A missing or empty
// directory is a new store.
func checkDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", dir, err)
	}
	var data bool
	for _, e := range entries {
		name := e.Name()
		if name == "MANIFEST" {
			return verifyManifest(dir)
		}
		switch filepath.Ext(name) {
		case ".sst", ".vlog", ".mem":
			data = true
		}
		data = data || strings.EqualFold(name, "KEYREGISTRY")
	}
	if data {
		return fmt.Errorf("%w: %s holds Badger data files but no MANIFEST; refusing to start empty", ErrCorrupt, dir)
	}
	return nil
}

// Close stops accepting writes, writes and syncs everything already queued
// (so every pending callback runs, with an error if its write failed), stops
// the committer and GC goroutines and closes Badger. Calls after Close return
// ErrClosed; appends after Close get ErrClosed in their callback. Close waits
// for running reads (Messages, Defs, RunGC, ...) to finish, so it must not be
// called from their callbacks, nor from an Append callback. A second Close
// returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cond.Signal()
	<-s.committerDone

	close(s.gcStop)
	<-s.gcDone

	s.dbMu.Lock()
	s.dbClosed = true
	s.dbMu.Unlock()
	s.readers.Wait()
	var errs []error
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close %s: %w", s.opts.dir, err))
	}
	errs = append(errs, s.spool.Close())
	if s.spoolTemp {
		errs = append(errs, os.RemoveAll(s.spool.Path()))
	}
	return errors.Join(errs...)
}

// read runs fn against the open database, or returns ErrClosed.
func (s *Store) read(fn func(db *badger.DB) error) error {
	s.dbMu.Lock()
	if s.dbClosed {
		s.dbMu.Unlock()
		return ErrClosed
	}
	s.readers.Add(1)
	s.dbMu.Unlock()
	defer s.readers.Done()
	return fn(s.db)
}
