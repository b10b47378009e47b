package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// verifyManifest checks, before Badger opens dir, what Badger would
// otherwise "repair" by throwing data away: it deletes every table its
// manifest does not list (so a manifest cut short would start the broker
// empty over existing data), it ignores a table whose checksum fails, and
// it panics on a garbled table inside a goroutine no caller can recover.
// A directory that fails here is refused with ErrCorrupt.
func verifyManifest(dir string) error {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, dir, err)
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, formatMagic, badger.DefaultOptions(dir))
	if err != nil {
		return fmt.Errorf("%w: %s: manifest: %v", ErrCorrupt, dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", dir, err)
	}
	onDisk := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sst") {
			onDisk++
		}
	}
	if len(m.Tables) == 0 && onDisk > 0 {
		return fmt.Errorf("%w: %s: the manifest lists no tables but %d table files exist; refusing to start empty",
			ErrCorrupt, dir, onDisk)
	}
	for id, tf := range m.Tables {
		if err := verifyTable(table.NewFilename(id, dir), tf.Compression); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, dir, err)
		}
	}
	return nil
}

// verifyTable opens one table read-only with its checksum verified.
func verifyTable(name string, compression options.CompressionType) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s is unreadable: %v", filepath.Base(name), r)
		}
	}()
	mf, err := z.OpenMmapFile(name, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("table %s: %w", filepath.Base(name), err)
	}
	t, err := table.OpenTable(mf, table.Options{
		ReadOnly:    true,
		BlockSize:   4 << 10, // Badger's default: the size blocks are cut at
		Compression: compression,
		ChkMode:     options.OnTableRead,
	})
	if err != nil {
		return fmt.Errorf("table %s: %w", filepath.Base(name), err)
	}
	// Not t.DecrRef: dropping a table's last reference deletes its file
	// (that is how compaction retires tables). Unmap it and keep it.
	return t.MmapFile.Close(-1)
}
