package spool

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func openDir(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// record is what test message seq holds: a head naming it and a body whose
// length varies, so records straddle read and write buffers.
func record(seq uint64) (head, body []byte) {
	head = fmt.Appendf(nil, "m%d:", seq)
	body = bytes.Repeat([]byte{byte(seq)}, int(seq*37%3000))
	return head, body
}

func appendRange(t *testing.T, tl *Tail, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		h, b := record(seq)
		if err := tl.Append(seq, h, b); err != nil {
			t.Fatalf("append %d: %v", seq, err)
		}
	}
}

// readAll reads records in batches of batch until none are left, checking
// each against record(seq), and returns their sequences.
func readAll(t *testing.T, tl *Tail, from uint64, batch int) []uint64 {
	t.Helper()
	var seqs []uint64
	for {
		n, err := tl.Read(from, math.MaxUint64, batch, func(seq uint64, rec []byte) error {
			h, b := record(seq)
			if !bytes.Equal(rec, append(h, b...)) {
				return fmt.Errorf("record %d: got %d bytes, want %d", seq, len(rec), len(h)+len(b))
			}
			seqs = append(seqs, seq)
			from = seq + 1
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n > batch {
			t.Fatalf("read %d records, asked for at most %d", n, batch)
		}
		if n == 0 {
			return seqs
		}
	}
}

func wantSeqs(t *testing.T, got []uint64, from, to uint64) {
	t.Helper()
	if len(got) != int(to-from+1) {
		t.Fatalf("read %d records, want %d (%d..%d)", len(got), to-from+1, from, to)
	}
	for i, seq := range got {
		if seq != from+uint64(i) {
			t.Fatalf("record %d has sequence %d, want %d", i, seq, from+uint64(i))
		}
	}
}

func TestAppendReadInOrder(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 1, 500)
	wantSeqs(t, readAll(t, tl, 1, 64), 1, 500)
}

func TestReadInterleavedWithAppends(t *testing.T) {
	d := openDir(t)
	d.flushSize = 4 << 10
	tl := d.NewTail()
	var got []uint64
	next := uint64(1)
	for round := range 20 {
		appendRange(t, tl, next, next+uint64(round*7))
		next += uint64(round*7) + 1
		_, err := tl.Read(0, math.MaxUint64, 5+round, func(seq uint64, rec []byte) error {
			got = append(got, seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got = append(got, readAll(t, tl, 0, 3)...)
	wantSeqs(t, got, 1, next-1)
}

func TestSegmentsRotateAndAreReleased(t *testing.T) {
	d := openDir(t)
	d.flushSize = 2 << 10
	d.segmentSize = 16 << 10
	tl := d.NewTail()
	appendRange(t, tl, 1, 300)
	if len(tl.segs) < 5 {
		t.Fatalf("%d segments for ~450 KB at 16 KiB each; want several", len(tl.segs))
	}
	// Reading the first half releases the segments left behind.
	before := len(tl.segs)
	var got []uint64
	if _, err := tl.Read(0, math.MaxUint64, 150, func(seq uint64, _ []byte) error {
		got = append(got, seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(tl.segs) >= before {
		t.Fatalf("reading half of %d segments released none", before)
	}
	got = append(got, readAll(t, tl, 0, 150)...)
	wantSeqs(t, got, 1, 300)
	if len(tl.segs) != 1 || tl.segs[0].size != 0 {
		t.Fatalf("after reading everything: %d segments, the last of %d bytes; want one, empty", len(tl.segs), tl.segs[len(tl.segs)-1].size)
	}
	// The emptied tail is reused.
	appendRange(t, tl, 301, 320)
	wantSeqs(t, readAll(t, tl, 0, 7), 301, 320)
}

func TestReadStopsBeforeLimit(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 10, 30)
	var got []uint64
	n, err := tl.Read(0, 20, 100, func(seq uint64, _ []byte) error {
		got = append(got, seq)
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("Read below 20: n=%d err=%v, want 10 records", n, err)
	}
	wantSeqs(t, got, 10, 19)
	// Record 20 was not consumed.
	wantSeqs(t, readAll(t, tl, 0, 4), 20, 30)
}

func TestReadSkipsBelowFrom(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 1, 40)
	wantSeqs(t, readAll(t, tl, 25, 8), 25, 40)
}

func TestDropEverythingEmptiesTheFiles(t *testing.T) {
	d := openDir(t)
	d.flushSize = 1 << 10
	d.segmentSize = 8 << 10
	tl := d.NewTail()
	appendRange(t, tl, 1, 100)
	if err := tl.Drop(100); err != nil {
		t.Fatal(err)
	}
	if len(tl.segs) != 1 || tl.segs[0].size != 0 {
		t.Fatalf("after Drop: %d segments, want one, empty", len(tl.segs))
	}
	appendRange(t, tl, 101, 110)
	wantSeqs(t, readAll(t, tl, 0, 100), 101, 110)
}

func TestDropPartSkipsThoseRecords(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 1, 50)
	if err := tl.Drop(30); err != nil {
		t.Fatal(err)
	}
	wantSeqs(t, readAll(t, tl, 0, 100), 31, 50)
}

func TestAppendRefusesSequenceOutOfOrder(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 5, 6)
	if err := tl.Append(6, nil, nil); err == nil {
		t.Fatal("Append of sequence 6 after 6 succeeded")
	}
}

func TestCorruptRecordIsReported(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 1, 3)
	tl.mu.Lock()
	err := tl.flush()
	tl.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.segs[0].f.WriteAt([]byte{0xff}, headerLen+1); err != nil {
		t.Fatal(err)
	}
	_, err = tl.Read(0, math.MaxUint64, 10, func(uint64, []byte) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read of a flipped byte: %v, want ErrCorrupt", err)
	}
}

// A failed write loses that buffer's records, and only those: later ones
// go to a new segment and are read back.
func TestFailedWriteLosesOnlyItsBuffer(t *testing.T) {
	d := openDir(t)
	d.flushSize = 1 << 30 // write only when read
	tl := d.NewTail()
	appendRange(t, tl, 1, 10)
	wantSeqs(t, readAll(t, tl, 0, 4), 1, 10)
	appendRange(t, tl, 11, 20)
	// The next write fails as on a full disk.
	full, err := os.OpenFile("/dev/full", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.segs[0].f.Close(); err != nil {
		t.Fatal(err)
	}
	tl.segs[0].f = full
	if _, err := tl.Read(0, math.MaxUint64, 10, func(uint64, []byte) error { return nil }); err == nil {
		t.Fatal("Read flushed into a closed file without an error")
	}
	appendRange(t, tl, 21, 30)
	got := readAll(t, tl, 0, 4)
	wantSeqs(t, got, 21, 30)
}

func TestCloseReleasesFiles(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	appendRange(t, tl, 1, 10)
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Append(11, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := tl.Read(0, math.MaxUint64, 1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
	if len(d.tails) != 0 {
		t.Fatalf("the directory still tracks %d tails", len(d.tails))
	}
	entries, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("files left in the spool directory: %v", entries)
	}
}

func TestDirCloseClosesTails(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "spool"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := d.NewTail(), d.NewTail()
	appendRange(t, a, 1, 5)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(6, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append to a tail of a closed directory: %v, want ErrClosed", err)
	}
	if err := b.Append(1, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("first Append to a new tail of a closed directory: %v, want ErrClosed", err)
	}
}

func TestOpenRemovesStaleFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	if err := os.MkdirAll(path, 0o750); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(path, "tail-1"+fileSuffix)
	other := filepath.Join(path, "README")
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale spool file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file that is not a spool file was touched: %v", err)
	}
}

func TestLargeRecordLargerThanBuffers(t *testing.T) {
	d := openDir(t)
	tl := d.NewTail()
	big := bytes.Repeat([]byte("0123456789abcdef"), (3*readSize)/16+5)
	if err := tl.Append(1, []byte("h"), big); err != nil {
		t.Fatal(err)
	}
	h, b := record(2)
	if err := tl.Append(2, h, b); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	if _, err := tl.Read(0, math.MaxUint64, 10, func(_ uint64, rec []byte) error {
		got = append(got, bytes.Clone(rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], append([]byte("h"), big...)) || !bytes.Equal(got[1], append(h, b...)) {
		t.Fatalf("read %d records; the large one or the next is wrong", len(got))
	}
}

func BenchmarkAppend1K(b *testing.B) {
	d, err := Open(filepath.Join(b.TempDir(), "spool"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tl := d.NewTail()
	head, body := make([]byte, 40), make([]byte, 1024)
	b.SetBytes(int64(len(head) + len(body)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := tl.Append(uint64(i+1), head, body); err != nil {
			b.Fatal(err)
		}
		if i%50000 == 49999 { // bound the disk used, as a consumer would
			if err := tl.Drop(uint64(i + 1)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkAppendRead1K(b *testing.B) {
	d, err := Open(filepath.Join(b.TempDir(), "spool"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	tl := d.NewTail()
	head, body := make([]byte, 40), make([]byte, 1024)
	b.SetBytes(1024 * int64(len(head)+len(body)))
	b.ReportAllocs()
	next := uint64(1)
	for b.Loop() {
		for range 1024 {
			if err := tl.Append(next, head, body); err != nil {
				b.Fatal(err)
			}
			next++
		}
		if _, err := tl.Read(0, math.MaxUint64, 1024, func(uint64, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
