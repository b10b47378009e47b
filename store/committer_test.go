package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gate is a sync hook that holds the first group commit until released, so
// that a test can queue operations behind it and know they form the next
// group. fail, if set before the store opens, decides the result of call n
// (1-based).
type gate struct {
	entered, released chan struct{}
	calls             atomic.Int32
	fail              func(n int32) error
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}), released: make(chan struct{})}
}

func (g *gate) hook() error {
	n := g.calls.Add(1)
	if n == 1 {
		close(g.entered)
		<-g.released
	}
	if g.fail != nil {
		return g.fail(n)
	}
	return nil
}

func (g *gate) waitEntered(t testing.TB) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the committer never reached the sync hook")
	}
}

func (g *gate) release() { close(g.released) }

// Many goroutines append at once; every callback runs exactly once, with nil,
// and every message is stored.
func TestConcurrentAppendCallbacksExactlyOnce(t *testing.T) {
	const goroutines, perG = 16, 300
	s := openStore(t, testOptions(t, t.TempDir()).WithMaxBatch(64, 1<<20))
	var calls [goroutines][perG]atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				q, seq := uint64(g%4), uint64(g*perG+i)
				s.Append(q, seq, record(q, seq, 200), func(err error) {
					if err != nil {
						t.Errorf("Append(%d, %d): %v", q, seq, err)
					}
					calls[g][i].Add(1)
				})
				if i%50 == 0 {
					s.Delete(q, seq) // some acks race with their own writes
				}
			}
		}()
	}
	wg.Wait()
	must(t, s.Flush())
	total := 0
	for g := range goroutines {
		for i := range perG {
			if n := calls[g][i].Load(); n != 1 {
				t.Fatalf("callback of goroutine %d append %d ran %d times", g, i, n)
			}
		}
	}
	for q := uint64(0); q < 4; q++ {
		seqs, recs := collect(t, s, q)
		total += len(seqs)
		for seq, rec := range recs {
			if seq%perG%50 == 0 {
				t.Errorf("deleted message %d of queue %d is stored", seq, q)
			}
			if rec != string(record(q, seq, 200)) {
				t.Errorf("message %d of queue %d: wrong record", seq, q)
			}
		}
	}
	if want := goroutines * (perG - perG/50); total != want {
		t.Errorf("%d messages stored, want %d", total, want)
	}
}

// A failed sync fails every callback of its group, and the store goes on.
func TestSyncFailureFailsWholeGroupThenRecovers(t *testing.T) {
	injected := errors.New("injected fsync failure")
	g := newGate()
	g.fail = func(n int32) error {
		if n == 2 {
			return injected
		}
		return nil
	}
	s := openStore(t, testOptions(t, t.TempDir()).WithSyncHook(g.hook))
	first := make(chan error, 1)
	s.Append(1, 0, []byte("first"), func(err error) { first <- err })
	g.waitEntered(t)

	const n = 100
	errs := make(chan error, n)
	for seq := uint64(1); seq <= n; seq++ {
		s.Append(1, seq, record(1, seq, 100), func(err error) { errs <- err })
	}
	g.release()
	if err := <-first; err != nil {
		t.Fatalf("first group: %v", err)
	}
	for range n {
		if err := <-errs; !errors.Is(err, injected) {
			t.Fatalf("callback in the failed group got %v", err)
		}
	}
	// Later writes succeed.
	appendSync(t, s, 1, n+1, []byte("later"))
	must(t, s.PutDef(KindVHost, []string{"/"}, []byte("v")))
	if seqs, _ := collect(t, s, 1); seqs[len(seqs)-1] != n+1 {
		t.Errorf("later append missing: %v", seqs)
	}
}

// A synchronous write reports a failed sync too.
func TestSyncFailureReachesPutDef(t *testing.T) {
	injected := errors.New("injected")
	var fail atomic.Bool
	s := openStore(t, testOptions(t, "").WithInMemory(true).WithSyncHook(func() error {
		if fail.Load() {
			return injected
		}
		return nil
	}))
	fail.Store(true)
	if err := s.PutDef(KindUser, []string{"u"}, nil); !errors.Is(err, injected) {
		t.Errorf("PutDef: %v", err)
	}
	if err := s.DeleteQueue(1); !errors.Is(err, injected) {
		t.Errorf("DeleteQueue: %v", err)
	}
	fail.Store(false)
	must(t, s.PutDef(KindUser, []string{"u"}, nil))
}

// An error that Badger only logs fails the group it happened in.
func TestBadgerLoggedErrorFailsGroup(t *testing.T) {
	var s *Store
	var once sync.Once
	s = openStore(t, testOptions(t, "").WithInMemory(true).WithSyncHook(func() error {
		once.Do(func() { s.db.Opts().Logger.Errorf("simulated: Error while curlf sync: EIO\n") })
		return nil
	}))
	var got error
	s.Append(1, 1, []byte("x"), func(err error) { got = err })
	must(t, s.Flush())
	if !errors.Is(got, ErrBadgerReported) {
		t.Errorf("callback got %v, want ErrBadgerReported", got)
	}
	appendSync(t, s, 1, 2, []byte("y"))
}

// Close writes what is pending and runs every callback.
func TestClosePendingAppendsAreWritten(t *testing.T) {
	dir := t.TempDir()
	g := newGate()
	s, err := Open(testOptions(t, dir).WithSyncHook(g.hook))
	must(t, err)
	s.Append(1, 0, []byte("first"), func(error) {})
	g.waitEntered(t)
	var calls atomic.Int32
	for seq := uint64(1); seq <= 50; seq++ {
		s.Append(1, seq, record(1, seq, 10), func(err error) {
			if err != nil {
				t.Errorf("pending append %d: %v", seq, err)
			}
			calls.Add(1)
		})
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(10 * time.Millisecond) // let Close start waiting for the committer
	g.release()
	must(t, <-closed)
	if calls.Load() != 50 {
		t.Fatalf("%d of 50 pending callbacks ran", calls.Load())
	}
	s = openStore(t, testOptions(t, dir))
	if seqs, _ := collect(t, s, 1); len(seqs) != 51 {
		t.Errorf("after reopen: %d messages, want 51", len(seqs))
	}
}

// If the writes pending at Close fail, their callbacks say so.
func TestClosePendingAppendsFailing(t *testing.T) {
	injected := errors.New("disk gone")
	g := newGate()
	g.fail = func(n int32) error {
		if n > 1 {
			return injected
		}
		return nil
	}
	s, err := Open(testOptions(t, "").WithInMemory(true).WithSyncHook(g.hook))
	must(t, err)
	s.Append(1, 0, []byte("first"), func(error) {})
	g.waitEntered(t)
	errs := make(chan error, 10)
	for seq := uint64(1); seq <= 10; seq++ {
		s.Append(1, seq, []byte("x"), func(err error) { errs <- err })
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	g.release()
	must(t, <-closed)
	for range 10 {
		if err := <-errs; !errors.Is(err, injected) {
			t.Errorf("pending callback: %v", err)
		}
	}
}

// A group larger than Badger's transaction limit is split and still commits
// as a whole.
func TestGroupSplitUnderBadgerTxnLimit(t *testing.T) {
	// A 1 MiB memtable limits a Badger transaction to about 150 KiB.
	g := newGate()
	s := openStore(t, testOptions(t, t.TempDir()).WithMemTableSize(1<<20).WithValueThreshold(64<<10).
		WithMaxBatch(1<<20, 64<<20).WithSyncHook(g.hook))
	s.Append(1, 0, []byte("first"), func(error) {})
	g.waitEntered(t)
	const n = 2000 // 2 MB in one group
	errs := make(chan error, n)
	for seq := uint64(1); seq <= n; seq++ {
		s.Append(1, seq, record(1, seq, 1024), func(err error) { errs <- err })
	}
	g.release()
	for range n {
		must(t, <-errs)
	}
	if calls := g.calls.Load(); calls != 2 {
		t.Errorf("sync hook ran %d times: the 2 MB went in %d groups, want 1", calls, calls-1)
	}
	if seqs, _ := collect(t, s, 1); len(seqs) != n+1 {
		t.Errorf("%d messages stored, want %d", len(seqs), n+1)
	}
}

// A record Badger refuses fails alone; the rest of its group is written.
func TestOversizedRecordFailsAlone(t *testing.T) {
	g := newGate()
	// In memory, Badger refuses values above the value threshold.
	s := openStore(t, testOptions(t, "").WithInMemory(true).WithValueThreshold(1024).WithSyncHook(g.hook))
	s.Append(1, 0, []byte("first"), func(error) {})
	g.waitEntered(t)
	errs := make([]chan error, 3)
	for i, size := range []int{100, 4096, 100} {
		errs[i] = make(chan error, 1)
		s.Append(1, uint64(i+1), make([]byte, size), func(err error) { errs[i] <- err })
	}
	g.release()
	if err := <-errs[0]; err != nil {
		t.Errorf("small record before: %v", err)
	}
	if err := <-errs[1]; err == nil {
		t.Error("oversized record accepted")
	}
	if err := <-errs[2]; err != nil {
		t.Errorf("small record after: %v", err)
	}
	if seqs, _ := collect(t, s, 1); len(seqs) != 3 {
		t.Errorf("stored %v, want 0, 1, 3", seqs)
	}
}
