package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// maxGCRewrites bounds one GC pass, so that a pass ends even while publishers
// keep creating garbage as fast as it is collected.
const maxGCRewrites = 16

// compactAfterDeletes is how many message deletes make a GC pass compact
// the tree first (see RunGC).
const compactAfterDeletes = 10000

// gcLoop runs a value-log GC pass every interval and trims the mapped
// files every trimEvery (either may be 0: off) until Close. Timers, not
// tickers: an interval counts from the end of a pass, so slow passes never
// queue up.
func (s *Store) gcLoop(interval, trimEvery time.Duration) {
	defer close(s.gcDone)
	gcC, trimC := timerChan(interval), timerChan(trimEvery)
	for {
		select {
		case <-s.gcStop:
			return
		case <-gcC:
			if err := s.RunGC(); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Warn().Err(err).Msg("value-log GC failed")
			}
			gcC = timerChan(interval)
		case <-trimC:
			if err := s.trimMappings(); err != nil {
				s.log.Debug().Err(err).Msg("trimming mapped files")
			}
			trimC = timerChan(trimEvery)
		}
	}
}

// timerChan fires once after d, or never for d == 0.
func timerChan(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}

// RunGC runs one value-log GC pass, as the background loop does: it asks
// Badger to rewrite value-log files while Badger finds one in which at least
// the discard ratio (WithGC) is garbage, up to a bound, and returns nil when
// there is nothing (more) to collect. In memory it does nothing. Passes do not
// overlap: a call waits for a running pass.
func (s *Store) RunGC() error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	if s.opts.inMemory {
		return nil
	}
	return s.read(func(db *badger.DB) error {
		// Value-log GC picks files by the discard statistics that
		// compaction gathers when it drops deleted keys. After a queue
		// drains, its tombstones can sit in level-0 tables for a long
		// time, and GC would find nothing; so after many deletes (or on
		// the first pass after opening, for those of an earlier run)
		// compact first. With bodies in the value log the tree is small,
		// and this is cheap.
		if s.deletes.Swap(0) >= compactAfterDeletes || !s.gcRan {
			if err := db.Flatten(1); err != nil {
				return fmt.Errorf("store: compact before GC: %w", err)
			}
		}
		s.gcRan = true
		for range maxGCRewrites {
			select {
			case <-s.gcStop: // closing
				return nil
			default:
			}
			err := db.RunValueLogGC(s.opts.gcDiscardRatio)
			if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("store: value-log GC: %w", err)
			}
		}
		return nil
	})
}

// Compact forces a compaction of the whole LSM tree into one level (Badger's
// Flatten): deleted and replaced entries are dropped, and the value-log
// discard statistics that GC relies on are brought up to date. For tests and
// maintenance. It does not flush the memtables; reopening the store does.
func (s *Store) Compact() error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	return s.read(func(db *badger.DB) error {
		if err := db.Flatten(2); err != nil {
			return fmt.Errorf("store: compact: %w", err)
		}
		return nil
	})
}

// Trim hands the pages of Badger's mapped files back to the kernel now,
// as the background loop does every WithTrim interval: the broker calls it
// after recovery, which reads every stored message once.
func (s *Store) Trim() error { return s.trimMappings() }
