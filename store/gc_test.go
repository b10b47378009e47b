package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// vlogBytes is the size of the value-log files in dir.
func vlogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	must(t, err)
	var n int64
	for _, f := range files {
		fi, err := os.Stat(f)
		must(t, err)
		n += fi.Size()
	}
	return n
}

// Acked (deleted) messages, purged queues and replaced records must stay gone
// through compaction, value-log GC and reopening, whether the records live in
// the value log or inline in the LSM tree.
func TestDeletedMessagesStayGoneAfterGCAndCompaction(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold int64
	}{
		{"vlog", 64},
		{"inline", defaultValueThreshold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(t, dir).WithValueThreshold(tc.threshold).
				WithValueLogFileSize(1<<20).WithGC(0, 0.01)
			const n, size = 3000, 4096 // 12 MB: a dozen 1 MiB value-log files

			s, err := Open(opts)
			must(t, err)
			for seq := uint64(0); seq < n; seq++ {
				s.Append(1, seq, record(1, seq, size), func(err error) { must(t, err) })
				if seq < 1000 {
					s.Append(2, seq, record(2, seq, size), func(err error) { must(t, err) })
				}
			}
			must(t, s.Flush())
			for seq := uint64(0); seq < n; seq += 2 {
				s.Delete(1, seq)
			}
			s.Append(1, 1, []byte("replaced"), func(err error) { must(t, err) })
			must(t, s.DeleteQueue(2))
			must(t, s.Flush())

			check := func(s *Store, when string) {
				t.Helper()
				seqs, recs := collect(t, s, 1)
				if len(seqs) != n/2 {
					t.Fatalf("%s: queue 1 has %d messages, want %d", when, len(seqs), n/2)
				}
				for _, seq := range seqs {
					want := string(record(1, seq, size))
					if seq == 1 {
						want = "replaced"
					}
					if seq%2 == 0 || recs[seq] != want {
						t.Fatalf("%s: message %d is back or wrong (%d bytes)", when, seq, len(recs[seq]))
					}
				}
				if seqs, _ := collect(t, s, 2); len(seqs) != 0 {
					t.Fatalf("%s: purged queue 2 has %d messages", when, len(seqs))
				}
			}
			check(s, "before GC")
			must(t, s.Close())

			before := vlogBytes(t, dir)
			for round := range 2 {
				// Reopening flushes the memtable into tables that Compact can
				// merge; the merge drops deleted entries and records the
				// value-log garbage that GC then reclaims.
				s, err = Open(opts)
				must(t, err)
				must(t, s.Compact())
				must(t, s.RunGC())
				check(s, "after compaction and GC")
				must(t, s.Close())
				if round == 0 && tc.threshold < size {
					if after := vlogBytes(t, dir); after > before*3/4 {
						t.Errorf("value-log GC reclaimed little: %d → %d bytes", before, after)
					}
				}
			}
			s = openStore(t, opts)
			check(s, "after reopen")
		})
	}
}

// The background loop runs GC passes until Close without disturbing writes.
func TestGCLoopRunsAlongsideWrites(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir).WithValueThreshold(64).WithValueLogFileSize(1<<20).
		WithGC(time.Millisecond, 0.01))
	for seq := uint64(0); seq < 2000; seq++ {
		s.Append(1, seq, record(1, seq, 2048), func(err error) { must(t, err) })
		if seq >= 10 {
			s.Delete(1, seq-10)
		}
	}
	must(t, s.Flush())
	if seqs, _ := collect(t, s, 1); len(seqs) != 10 || seqs[0] != 1990 {
		t.Errorf("queue 1 = %v", seqs)
	}
}
