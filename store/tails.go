package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/warrenmq/warren/store/spool"
)

// spoolDirName is the subdirectory of the data directory that holds the
// spool. Badger ignores it: it only opens the files its manifest names and
// the .vlog and .mem files it finds.
const spoolDirName = "spool"

// Transient messages that a long queue pages out do not go through Badger:
// they need no fsync and no recovery, and Badger would charge them both (a
// group commit each, a key each in the LSM tree, value-log GC afterwards).
// They go to the spool, plain files next to Badger's, emptied at every start.

func openSpool(o Options) (*spool.Dir, bool, error) {
	if o.inMemory {
		dir, err := os.MkdirTemp("", "warren-spool-*")
		if err != nil {
			return nil, false, fmt.Errorf("store: spool: %w", err)
		}
		d, err := spool.Open(dir)
		return d, true, err
	}
	d, err := spool.Open(filepath.Join(o.dir, spoolDirName))
	return d, false, err
}

// NewTail returns an empty spool tail for the transient messages a queue
// pages out. Close it when the queue goes; Close of the store closes them
// all.
func (s *Store) NewTail() *spool.Tail {
	return s.spool.NewTail()
}
