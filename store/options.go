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
	trimInterval     time.Duration
	numMemtables     int
	blockCacheSize   int64
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
		memTableSize:     32 << 20,
		numMemtables:     3,
		trimInterval:     5 * time.Second,
		blockCacheSize:   32 << 20,
	}
}

// defaultValueThreshold sends records of 256 bytes and more to Badger's
// value log, leaving keys and pointers in the LSM tree. Measured with 2
// million 1 KB messages waiting in one queue: inline records pushed every
// body through memtables, flushes and compactions, and the table builders
// alone held over 300 MB of heap (the broker's RSS passed 1 GB); in the
// value log they are written once, sequentially. The recovery scan is
// faster too (bench_test.go: 0.6 s per million 1 KB records against 1.4 s
// inline). The price: the space of acked messages comes back only through
// value-log GC (gc.go runs it in the background), not plain compaction.
// An in-memory store has no value log and keeps everything inline.
const defaultValueThreshold = 256

// WithInMemory keeps everything in memory and ignores the directory. Meant for
// tests: nothing survives Close, syncs are no-ops, value-log GC does nothing,
// and a record may not exceed the value threshold (Badger's in-memory limit).
func (o Options) WithInMemory(b bool) Options {
	o.inMemory = b
	// Badger in memory has no value log and refuses values above the
	// threshold: keep records inline unless a threshold is set later.
	if b && o.valueThreshold == defaultValueThreshold {
		o.valueThreshold = 1 << 20
	}
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

// WithCache bounds Badger's memory: memtables of WithMemTableSize, at
// most n of them, and a block cache of blockCache bytes. A broker reads
// most records about once (recovery, page-in), so a large block cache buys
// little; Badger's defaults (5 memtables of 64 MiB, a 256 MiB cache) put
// the store alone over the broker's memory budget.
func (o Options) WithCache(n int, blockCache int64) Options {
	o.numMemtables = n
	o.blockCacheSize = blockCache
	return o
}

// WithTrim sets how often the pages of Badger's mapped files (tables and
// value-log files but the one being written) are handed back to the kernel
// (Linux, MADV_PAGEOUT); 0 turns it off. Badger maps every file it writes
// or reads, so without it a broker that has written gigabytes shows them
// in its RSS until the kernel runs short of memory.
func (o Options) WithTrim(every time.Duration) Options {
	o.trimInterval = every
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
	case o.numMemtables < 1 || o.blockCacheSize < 0:
		return fmt.Errorf("store: options: %d memtables, block cache %d bytes", o.numMemtables, o.blockCacheSize)
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
