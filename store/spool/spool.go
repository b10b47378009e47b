// Package spool keeps the paged-out transient messages of long queues in
// plain files. They need no durability (a transient message does not survive
// a restart), so they skip what the Badger store pays for its guarantees: the
// group commit's fsync, the LSM tree's key per message and the value log's
// garbage collection. A Tail is written sequentially in large writes and read
// back sequentially in large reads, through the page cache.
//
// A Tail's files are unlinked as soon as they are created: the kernel frees
// them when they are closed, and also when the process dies, so a crash
// leaves nothing behind. Open still clears the directory of anything a
// platform without unlink-while-open may have left.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrClosed is returned by a Tail after Close, or after its Dir's Close.
	ErrClosed = errors.New("spool: closed")
	// ErrCorrupt is returned when a record read back fails its checksum.
	ErrCorrupt = errors.New("spool: corrupt record")
)

const (
	// headerLen is a record's header: payload length, sequence, CRC-32C of
	// the payload.
	headerLen = 4 + 8 + 4
	// flushSize is how much a Tail buffers before it writes: large enough
	// that the write system call is a small share of a 1 KB message's cost,
	// small enough that thousands of paging queues stay cheap.
	flushSize = 128 << 10
	// readSize is how much one read system call fetches.
	readSize = 128 << 10
	// segmentSize bounds one file: the space of a read segment is given back
	// once the reader leaves it, so a draining queue does not hold the disk
	// space of everything it once paged.
	segmentSize = 64 << 20
	// fileSuffix names the files of a spool directory.
	fileSuffix = ".spool"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bufs lends the write and read buffers: a tail holds them only while it has
// records, so a queue that paged once and drained costs nothing, and a queue
// that keeps paging and draining does not allocate them again each time.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, flushSize+readSize/4); return &b }}

func getBuf() []byte { return (*bufs.Get().(*[]byte))[:0] }

// putBuf returns b to the pool unless it has grown for a large record.
func putBuf(b []byte) {
	if b != nil && cap(b) <= 2*flushSize {
		b = b[:0]
		bufs.Put(&b)
	}
}

// Dir is the directory of one broker's spool files. Its methods are safe for
// concurrent use.
type Dir struct {
	path string
	// Tests shrink these to reach the boundaries with little data.
	flushSize, segmentSize int64

	mu     sync.Mutex
	tails  map[*Tail]struct{} // those holding files, for Close
	closed bool
}

// Open creates the directory if needed and removes the spool files found in
// it: they belong to a broker that has stopped, and their messages were
// transient.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), fileSuffix) {
			if err := os.Remove(filepath.Join(path, e.Name())); err != nil {
				return nil, fmt.Errorf("spool: remove stale file: %w", err)
			}
		}
	}
	return &Dir{path: path, flushSize: flushSize, segmentSize: segmentSize, tails: make(map[*Tail]struct{})}, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// NewTail returns an empty tail. It creates no file until its first Append.
func (d *Dir) NewTail() *Tail {
	return &Tail{dir: d, dropTo: -1}
}

// Close closes every tail: their files go, and their later calls return
// ErrClosed.
func (d *Dir) Close() error {
	d.mu.Lock()
	d.closed = true
	tails := make([]*Tail, 0, len(d.tails))
	for t := range d.tails {
		tails = append(tails, t)
	}
	d.mu.Unlock()
	var errs []error
	for _, t := range tails {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}

// segment is one file of a tail.
type segment struct {
	f    *os.File
	name string // non-empty while the file still has a name to remove
	size int64  // bytes written
}

func (s *segment) close() error {
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// Tail is one queue's sequence of spooled records, in the order appended,
// which is the order of their sequence numbers. Its methods are safe for
// concurrent use, though a queue calls them under its own lock anyway.
type Tail struct {
	dir *Dir

	mu     sync.Mutex
	closed bool
	segs   []*segment // oldest first; reads from segs[0], writes to the last
	wbuf   []byte     // records not yet written to the last segment
	full   bool       // the last segment takes no more writes
	last   uint64     // the highest sequence appended
	dropTo int64      // records with seq <= dropTo are skipped (-1: none)

	// The reader's position in segs[0], and a window of that file:
	// rbuf holds its bytes from rbufOff on.
	roff    int64
	rbuf    []byte
	rbufOff int64
}

// Append adds a record made of head followed by body (so that a caller need
// not first join them), under sequence seq, which must be higher than every
// sequence appended before. Records are buffered and written in large writes;
// an error means some buffered records were not written, and those are gone.
func (t *Tail) Append(seq uint64, head, body []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if seq <= t.last && t.last != 0 {
		return fmt.Errorf("spool: sequence %d appended after %d", seq, t.last)
	}
	n := len(head) + len(body)
	if n > math.MaxUint32 {
		return fmt.Errorf("spool: record of %d bytes is too large", n)
	}
	if len(t.segs) == 0 || t.full {
		if err := t.addSegment(); err != nil {
			return err
		}
	}
	t.last = seq
	if t.wbuf == nil {
		t.wbuf = getBuf()
	}
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:], uint32(n))
	binary.BigEndian.PutUint64(h[4:], seq)
	crc := crc32.Update(crc32.Update(0, castagnoli, head), castagnoli, body)
	binary.BigEndian.PutUint32(h[12:], crc)
	t.wbuf = append(append(append(t.wbuf, h[:]...), head...), body...)
	if int64(len(t.wbuf)) >= t.dir.flushSize {
		return t.flush()
	}
	return nil
}

// addSegment creates the next file and unlinks it at once.
func (t *Tail) addSegment() error {
	d := t.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		t.closed = true
		return ErrClosed
	}
	f, err := os.CreateTemp(d.path, "tail-*"+fileSuffix)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s := &segment{f: f}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name() // remove it at close instead
	}
	t.segs = append(t.segs, s)
	t.full = false
	d.tails[t] = struct{}{}
	return nil
}

// flush writes the buffer to the last segment. A segment that is full, or
// whose write failed (it may end in part of a record, past its size, where
// the reader never looks), takes no more writes: the next Append starts a
// new one.
func (t *Tail) flush() error {
	if len(t.wbuf) == 0 {
		return nil
	}
	s := t.segs[len(t.segs)-1]
	_, err := s.f.WriteAt(t.wbuf, s.size)
	n := len(t.wbuf)
	t.wbuf = t.wbuf[:0]
	if err != nil {
		t.full = true
		return fmt.Errorf("spool: write %d bytes: %w", n, err)
	}
	s.size += int64(n)
	t.full = s.size >= t.dir.segmentSize
	return nil
}

// Read calls fn for up to max records, in order, whose sequences are at
// least from and below before, and consumes them; records below from are
// consumed without a call. It stops at the first record at or above before,
// which stays for the next Read, and returns how many records fn saw. rec is
// valid only during fn (copy what you keep). An error from fn stops the
// read; that record is consumed.
func (t *Tail) Read(from, before uint64, max int, fn func(seq uint64, rec []byte) error) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, ErrClosed
	}
	if err := t.flush(); err != nil {
		return 0, err
	}
	n := 0
	for n < max && len(t.segs) > 0 {
		s := t.segs[0]
		if t.roff >= s.size {
			if len(t.segs) == 1 {
				break
			}
			t.segs = t.segs[1:]
			t.roff, t.rbuf, t.rbufOff = 0, t.rbuf[:0], 0
			if err := s.close(); err != nil {
				return n, fmt.Errorf("spool: %w", err)
			}
			continue
		}
		h, err := t.window(s, t.roff, headerLen)
		if err != nil {
			return n, err
		}
		size := int(binary.BigEndian.Uint32(h[0:]))
		seq := binary.BigEndian.Uint64(h[4:])
		crc := binary.BigEndian.Uint32(h[12:])
		if seq >= before {
			break
		}
		rec, err := t.window(s, t.roff+headerLen, size)
		if err != nil {
			return n, err
		}
		if crc32.Checksum(rec, castagnoli) != crc {
			return n, fmt.Errorf("%w: sequence %d at offset %d", ErrCorrupt, seq, t.roff)
		}
		t.roff += headerLen + int64(size)
		if seq < from || int64(seq) <= t.dropTo {
			continue
		}
		n++
		if err := fn(seq, rec); err != nil {
			return n, err
		}
	}
	t.shrinkIfRead()
	return n, nil
}

// window returns n bytes of s from off, reading them into rbuf if they are
// not there yet.
func (t *Tail) window(s *segment, off int64, n int) ([]byte, error) {
	if off+int64(n) > s.size {
		return nil, fmt.Errorf("%w: record at offset %d runs past the end of its file", ErrCorrupt, off)
	}
	if off >= t.rbufOff && off+int64(n) <= t.rbufOff+int64(len(t.rbuf)) {
		i := off - t.rbufOff
		return t.rbuf[i : i+int64(n)], nil
	}
	want := int64(max(n, readSize))
	want = min(want, s.size-off)
	if t.rbuf == nil {
		t.rbuf = getBuf()
	}
	if int64(cap(t.rbuf)) < want {
		putBuf(t.rbuf)
		t.rbuf = make([]byte, want)
	}
	t.rbuf = t.rbuf[:want]
	if got, err := s.f.ReadAt(t.rbuf, off); got < n {
		t.rbuf, t.rbufOff = t.rbuf[:0], 0
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("spool: read: %w", err)
	}
	t.rbufOff = off
	return t.rbuf[:n], nil
}

// shrinkIfRead empties a tail that has been read to the end: the file is
// truncated, not removed, since a queue that paged once is likely to page
// again, and the buffers go.
func (t *Tail) shrinkIfRead() {
	if len(t.segs) != 1 || len(t.wbuf) != 0 || t.roff < t.segs[0].size {
		return
	}
	if t.segs[0].f.Truncate(0) == nil {
		t.segs[0].size = 0
		t.full = false
		t.roff, t.rbufOff = 0, 0
		t.releaseBufs()
	}
}

func (t *Tail) releaseBufs() {
	putBuf(t.rbuf)
	putBuf(t.wbuf)
	t.rbuf, t.wbuf = nil, nil
}

// Drop discards the records with sequences up to and including to (a purge:
// the queue's whole tail). When that is everything appended, the files are
// emptied at once; otherwise the reader skips those records.
func (t *Tail) Drop(to uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if to < t.last {
		t.dropTo = max(t.dropTo, int64(min(to, math.MaxInt64)))
		return nil
	}
	var errs []error
	for len(t.segs) > 1 {
		errs = append(errs, t.segs[0].close())
		t.segs = t.segs[1:]
	}
	if len(t.segs) == 1 {
		errs = append(errs, t.segs[0].f.Truncate(0))
		t.segs[0].size = 0
		t.full = false
	}
	t.roff, t.rbufOff = 0, 0
	t.releaseBufs()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: drop: %w", err)
	}
	return nil
}

// Close discards the tail and its files. Later calls return ErrClosed.
func (t *Tail) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	for _, s := range t.segs {
		errs = append(errs, s.close())
	}
	t.segs = nil
	t.releaseBufs()
	t.dir.mu.Lock()
	delete(t.dir.tails, t)
	t.dir.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}
