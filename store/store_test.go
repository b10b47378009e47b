package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/rs/zerolog"
)

func TestReopenKeepsDefinitionsAndMessages(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(testOptions(t, dir))
	must(t, err)
	must(t, s.PutDef(KindVHost, []string{"/"}, []byte("vhost")))
	must(t, s.PutDef(KindQueue, []string{"/", "a/b"}, []byte("queue a/b")))
	must(t, s.PutDef(KindQueue, []string{"/a", "b"}, []byte("queue b in /a")))
	must(t, s.PutDef(KindUser, []string{"gone"}, nil))
	must(t, s.DeleteDef(KindUser, []string{"gone"}))
	for seq := uint64(1); seq <= 100; seq++ {
		s.Append(42, seq, record(42, seq, 300), func(err error) { must(t, err) })
	}
	must(t, s.Flush())
	s.Delete(42, 1)
	must(t, s.Close())

	s = openStore(t, testOptions(t, dir))
	for key, want := range map[[2]string]string{{"/", "a/b"}: "queue a/b", {"/a", "b"}: "queue b in /a"} {
		got, err := s.GetDef(KindQueue, key[:])
		if err != nil || string(got) != want {
			t.Errorf("queue %q after reopen: %q, %v", key, got, err)
		}
	}
	if _, err := s.GetDef(KindUser, []string{"gone"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted user after reopen: %v", err)
	}
	seqs, recs := collect(t, s, 42)
	if len(seqs) != 99 || seqs[0] != 2 {
		t.Errorf("queue 42 after reopen: %d messages from %v", len(seqs), seqs[:1])
	}
	if recs[77] != string(record(42, 77, 300)) {
		t.Error("message 77 changed across reopen")
	}
}

func TestOpenLockedDirFails(t *testing.T) {
	dir := t.TempDir()
	openStore(t, testOptions(t, dir))
	s, err := Open(testOptions(t, dir))
	if err == nil {
		s.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error does not name the directory: %v", err)
	}
}

func TestOpenRefusesDataWithoutManifest(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(testOptions(t, dir))
	must(t, err)
	for seq := uint64(0); seq < 100; seq++ {
		appendSync(t, s, 1, seq, record(1, seq, 100))
	}
	must(t, s.Close())
	must(t, os.Remove(filepath.Join(dir, "MANIFEST")))
	if s, err := Open(testOptions(t, dir)); !errors.Is(err, ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open without MANIFEST: %v, want ErrCorrupt", err)
	}
}

func TestOpenRefusesForeignBadgerDir(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	must(t, err)
	must(t, db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("k"), []byte("v")) }))
	must(t, db.Close())
	if s, err := Open(testOptions(t, dir)); err == nil {
		s.Close()
		t.Fatal("opened a Badger directory written by another program")
	}
}

func TestOpenRefusesUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o600))
	if s, err := Open(testOptions(t, file)); err == nil {
		s.Close()
		t.Fatal("opened a regular file as a directory")
	}
	if os.Geteuid() != 0 { // root reads anything
		dir := t.TempDir()
		must(t, os.Chmod(dir, 0))
		defer os.Chmod(dir, 0o700)
		if s, err := Open(testOptions(t, dir)); err == nil {
			s.Close()
			t.Fatal("opened an unreadable directory")
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	// A real path, so that an option wrongly accepted opens a store there
	// and not in the source tree.
	good := DefaultOptions(filepath.Join(t.TempDir(), "d"))
	must(t, good.Validate())
	must(t, DefaultOptions("").WithInMemory(true).Validate())
	for name, o := range map[string]Options{
		"no dir":          DefaultOptions(""),
		"zero batch":      good.WithMaxBatch(0, 1),
		"zero bytes":      good.WithMaxBatch(1, 0),
		"negative gc":     good.WithGC(-time.Second, 0.5),
		"ratio 1":         good.WithGC(time.Second, 1),
		"ratio 0":         good.WithGC(time.Second, 0),
		"threshold 0":     good.WithValueThreshold(0),
		"threshold 2 MiB": good.WithValueThreshold(2 << 20),
		"threshold > txn": good.WithMemTableSize(1 << 20).WithValueThreshold(1 << 20),
	} {
		if o.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
		if s, err := Open(o); err == nil {
			s.Close()
			t.Errorf("%s: Open accepted", name)
		}
	}
	if s, err := Open(DefaultOptions(t.TempDir()).WithValueLogFileSize(1)); err == nil {
		s.Close()
		t.Error("Open accepted a 1-byte value-log file size")
	}
}

func TestBadgerLogsThroughZerologWithComponent(t *testing.T) {
	w := &syncWriter{}
	s, err := Open(DefaultOptions(t.TempDir()).WithLogger(zerolog.New(w)))
	must(t, err)
	must(t, s.Close())
	out := w.String()
	if !strings.Contains(out, `"component":"store"`) || !strings.Contains(out, `"level":"info"`) {
		t.Fatalf("no Badger info line with component=store in:\n%s", out)
	}
	if strings.Contains(out, `\n"`) {
		t.Errorf("a message keeps Badger's trailing newline:\n%s", out)
	}
}

// Close stops the committer and the GC loop.
func TestCloseStopsGoroutines(t *testing.T) {
	s, err := Open(testOptions(t, t.TempDir()).WithGC(time.Millisecond, 0.5))
	must(t, err)
	appendSync(t, s, 1, 1, []byte("x"))
	time.Sleep(5 * time.Millisecond) // let the GC loop run a pass or two
	must(t, s.Close())
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"store.(*Store).commitLoop", "store.(*Store).gcLoop"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("%s still running after Close", fn)
		}
	}
}

// Close waits for a running read; reads may nest, even while Close waits.
func TestCloseWaitsForReads(t *testing.T) {
	s, err := Open(testOptions(t, "").WithInMemory(true))
	must(t, err)
	must(t, s.PutDef(KindQueue, []string{"/", "q"}, []byte("1")))
	appendSync(t, s, 1, 1, []byte("m"))
	inRead, closeNow := make(chan struct{}), make(chan struct{})
	readDone := make(chan error)
	go func() {
		readDone <- s.Defs(KindQueue, func([]string, []byte) error {
			close(inRead)
			<-closeNow
			time.Sleep(10 * time.Millisecond) // Close is now waiting
			n := 0
			err := s.Messages(1, func(uint64, []byte) error { n++; return nil })
			if n != 1 && !errors.Is(err, ErrClosed) {
				t.Errorf("nested read: %d messages, %v", n, err)
			}
			return nil
		})
	}()
	<-inRead
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	close(closeNow)
	must(t, <-readDone)
	must(t, <-closed)
	if err := s.Defs(KindQueue, func([]string, []byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
}
