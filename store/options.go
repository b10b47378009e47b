package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Options configures a Store. It is a value type in Badger's style: start from
// DefaultOptions and change it with the WithX methods, which document each
// knob. Open validates it.
type Options struct {
	dir              string
	inMemory         bool
	logger           zerolog.Logger
	maxBatchCount    int
	maxBatchBytes    int
	gcInterval       time.Duration
	gcDiscardRatio   float64
	valueThreshold   int64
	valueLogFileSize int64
	memTableSize     int64
	syncHook         func() error
}

// DefaultOptions returns the options for a store in directory dir, with
// defaults chosen for a broker: group commits of up to 4096 operations or
// 4 MiB, value-log GC every minute, and a zerolog.Nop logger.
func DefaultOptions(dir string) Options {
	return Options{
		dir:              dir,
		logger:           zerolog.Nop(),
		maxBatchCount:    4096,
		maxBatchBytes:    4 << 20,
		gcInterval:       time.Minute,
		gcDiscardRatio:   0.5,
		valueThreshold:   defaultValueThreshold,
		valueLogFileSize: 256 << 20,
		memTableSize:     64 << 20,
	}
}

// defaultValueThreshold keeps records below 1 MiB inline in the LSM tree;
// larger ones go to the value log. Measured for 1 KB records (bench_test.go,
// 2 cores, a shared virtual disk): the recovery scan of 1M records takes
// 1.4 s inline and 0.6 s from the value log, both well within "seconds", and
// append rates are the same within the disk's noise. Inline wins on the rest:
// an acked message's space comes back through ordinary compaction, while a
// value-log record is only reclaimed after a memtable flush, a compaction and
// a GC pass have all seen its delete (gigabytes of lag at broker rates); a
// value-log write costs a second msync (value log and WAL); and an in-memory
// store refuses records above the threshold. It is also Badger's own default
// since v3, for write amplification (dgraph #7415).
const defaultValueThreshold = 1 << 20

// WithInMemory keeps everything in memory and ignores the directory. Meant for
// tests: nothing survives Close, syncs are no-ops, value-log GC does nothing,
// and a record may not exceed the value threshold (Badger's in-memory limit).
func (o Options) WithInMemory(b bool) Options {
	o.inMemory = b
	return o
}

// WithLogger sets the logger for the store and for Badger, whose messages are
// logged with component=store at Badger's level (Errorf → error, Warningf →
// warn, Infof → info, Debugf → debug). The default is zerolog.Nop(); the store
// never logs through a global logger.
func (o Options) WithLogger(l zerolog.Logger) Options {
	o.logger = l
	return o
}

// WithMaxBatch bounds one group commit to count operations and bytes bytes of
// keys and values, whichever comes first. A single operation larger than bytes
// is written alone. Larger groups mean fewer fsyncs under load; smaller ones
// mean a shorter wait for the first callback in a burst. Groups are also split
// under Badger's own transaction limits, so these bounds are about latency and
// memory, not correctness.
func (o Options) WithMaxBatch(count, bytes int) Options {
	o.maxBatchCount = count
	o.maxBatchBytes = bytes
	return o
}

// WithGC sets how often the background goroutine runs a value-log GC pass and
// the discard ratio it uses: a value-log file is rewritten when at least that
// fraction of it is garbage (Badger recommends 0.5). An interval of 0 disables
// the background loop; RunGC still works.
func (o Options) WithGC(interval time.Duration, discardRatio float64) Options {
	o.gcInterval = interval
	o.gcDiscardRatio = discardRatio
	return o
}

// WithValueThreshold sets the record size from which records are stored in
// Badger's value log instead of inline in the LSM tree (at most 1 MiB, Badger's
// limit). Inline records are rewritten by compaction; value-log records are
// written once and reclaimed by value-log GC.
func (o Options) WithValueThreshold(n int64) Options {
	o.valueThreshold = n
	return o
}

// WithValueLogFileSize sets the size at which Badger starts a new value-log
// file (Badger allows [1 MiB, 2 GiB)). Value-log GC rewrites one file at a
// time, so smaller files reclaim space in smaller steps.
func (o Options) WithValueLogFileSize(n int64) Options {
	o.valueLogFileSize = n
	return o
}

// WithMemTableSize sets the size of Badger's memtables. It also bounds one
// Badger transaction (15% of it), and with it the largest record that can be
// stored inline.
func (o Options) WithMemTableSize(n int64) Options {
	o.memTableSize = n
	return o
}

// WithSyncHook installs a fault-injection hook for tests. It is called after
// each group commit has been written and synced, and after each synchronous
// write (PutDef, DeleteQueue, ...); if it returns an error, that write is
// reported as failed to every callback of the group, as a failing fsync would
// be. The store goes on serving later writes. The data may well be on disk
// anyway, as it may after a real failed fsync; callers must treat a failure as
// "not known to be stored", not as "not stored".
func (o Options) WithSyncHook(hook func() error) Options {
	o.syncHook = hook
	return o
}

// Validate reports the first option that Open would refuse.
func (o Options) Validate() error {
	switch {
	case !o.inMemory && o.dir == "":
		return errors.New("store: options: a directory is required unless in memory")
	case o.maxBatchCount < 1 || o.maxBatchBytes < 1:
		return fmt.Errorf("store: options: max batch must be positive, got %d ops, %d bytes", o.maxBatchCount, o.maxBatchBytes)
	case o.gcInterval < 0:
		return fmt.Errorf("store: options: negative GC interval %v", o.gcInterval)
	case o.gcDiscardRatio <= 0 || o.gcDiscardRatio >= 1:
		return fmt.Errorf("store: options: GC discard ratio %v outside (0, 1)", o.gcDiscardRatio)
	case o.valueThreshold < 1 || o.valueThreshold > 1<<20:
		return fmt.Errorf("store: options: value threshold %d outside [1, 1 MiB]", o.valueThreshold)
	case o.valueThreshold > o.memTableSize*15/100:
		// Badger's limit: an inline value must fit in one transaction.
		return fmt.Errorf("store: options: value threshold %d above 15%% of the memtable size %d", o.valueThreshold, o.memTableSize)
	}
	return nil
}
