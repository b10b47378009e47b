package store

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestMessagesInSeqOrderPerQueue(t *testing.T) {
	s := memStore(t)
	// Appended out of order, across byte boundaries of the big-endian seq,
	// into neighbouring queue ids (1 and 256 differ only in another byte).
	seqs := []uint64{256, 1, 1 << 32, 255, 0, 2, 1<<64 - 1}
	for _, q := range []uint64{1, 2, 256} {
		for _, seq := range seqs {
			s.Append(q, seq, record(q, seq, 100), func(err error) { must(t, err) })
		}
	}
	must(t, s.Flush())
	want := slices.Clone(seqs)
	slices.Sort(want)
	for _, q := range []uint64{1, 2, 256} {
		got, recs := collect(t, s, q)
		if !slices.Equal(got, want) {
			t.Errorf("queue %d: seqs %v, want %v", q, got, want)
		}
		for seq, rec := range recs {
			if rec != string(record(q, seq, 100)) {
				t.Errorf("queue %d message %d: wrong record %q", q, seq, rec)
			}
		}
	}
	if got, _ := collect(t, s, 3); len(got) != 0 {
		t.Errorf("empty queue 3 has %v", got)
	}
	ids, err := s.QueueIDs()
	if err != nil || !slices.Equal(ids, []uint64{1, 2, 256}) {
		t.Errorf("QueueIDs = %v, %v", ids, err)
	}
}

func TestReadRange(t *testing.T) {
	s := memStore(t)
	for seq := uint64(1); seq <= 10; seq++ {
		appendSync(t, s, 7, seq*10, record(7, seq*10, 10))
	}
	appendSync(t, s, 8, 5, record(8, 5, 10))
	var got []uint64
	read := func(from uint64, max int) []uint64 {
		got = got[:0]
		must(t, s.ReadRange(7, from, max, func(seq uint64, rec []byte) error {
			if string(rec) != string(record(7, seq, 10)) {
				t.Errorf("message %d: %q", seq, rec)
			}
			got = append(got, seq)
			return nil
		}))
		return got
	}
	if r := read(35, 3); !slices.Equal(r, []uint64{40, 50, 60}) {
		t.Errorf("ReadRange(35, 3) = %v", r)
	}
	if r := read(90, 0); !slices.Equal(r, []uint64{90, 100}) {
		t.Errorf("ReadRange(90, all) = %v: must not run into queue 8", r)
	}
	if r := read(101, 5); len(r) != 0 {
		t.Errorf("ReadRange past the end = %v", r)
	}
	stop := errors.New("stop")
	if err := s.ReadRange(7, 0, 0, func(uint64, []byte) error { return stop }); err != stop {
		t.Errorf("fn's error came back as %v", err)
	}
}

func TestDeleteAndDeleteQueue(t *testing.T) {
	s := memStore(t)
	for _, q := range []uint64{1, 2, 256} {
		for seq := uint64(0); seq < 100; seq++ {
			s.Append(q, seq, record(q, seq, 50), func(err error) { must(t, err) })
		}
	}
	must(t, s.Flush())
	for seq := uint64(0); seq < 100; seq += 2 {
		s.Delete(1, seq)
	}
	s.Delete(1, 1000) // not stored: harmless
	must(t, s.DeleteQueue(2))
	must(t, s.DeleteQueue(99)) // no messages: harmless
	must(t, s.Flush())
	got, _ := collect(t, s, 1)
	if len(got) != 50 || got[0] != 1 || got[49] != 99 {
		t.Errorf("queue 1 after deleting even seqs: %v", got)
	}
	if got, _ := collect(t, s, 2); len(got) != 0 {
		t.Errorf("deleted queue 2 still has %v", got)
	}
	if got, _ := collect(t, s, 256); len(got) != 100 {
		t.Errorf("neighbour queue 256 has %d messages", len(got))
	}
	if ids, _ := s.QueueIDs(); !slices.Equal(ids, []uint64{1, 256}) {
		t.Errorf("QueueIDs = %v", ids)
	}
}

// DeleteQueue is ordered with the appends around it.
func TestDeleteQueueOrderedWithAppends(t *testing.T) {
	s := memStore(t)
	s.Append(5, 1, []byte("before"), func(err error) { must(t, err) })
	if err := s.DeleteQueue(5); err != nil {
		t.Fatal(err)
	}
	s.Append(5, 2, []byte("after"), func(err error) { must(t, err) })
	must(t, s.Flush())
	if got, _ := collect(t, s, 5); !slices.Equal(got, []uint64{2}) {
		t.Errorf("queue 5 = %v, want [2]", got)
	}
}

// An ack that overtakes the write cancels it; the publisher still gets its
// confirm.
func TestDeleteCancelsPendingAppend(t *testing.T) {
	gate := newGate()
	s := openStore(t, testOptions(t, "").WithInMemory(true).WithSyncHook(gate.hook))
	s.Append(1, 0, []byte("first"), func(error) {}) // its group blocks in the hook
	gate.waitEntered(t)
	var errs [3]error
	called := 0
	for seq := uint64(1); seq <= 3; seq++ {
		s.Append(1, seq, []byte("x"), func(err error) { errs[seq-1] = err; called++ })
	}
	s.Delete(1, 2)
	s.Append(1, 3, []byte("replaced"), func(err error) { must(t, err) })
	gate.release()
	must(t, s.Flush())
	if called != 3 || errs != [3]error{} {
		t.Errorf("callbacks: %d called, errors %v", called, errs)
	}
	_, recs := collect(t, s, 1)
	if len(recs) != 3 || recs[0] != "first" || recs[1] != "x" || recs[3] != "replaced" {
		t.Errorf("queue 1 = %v, want 0, 1 and the replaced 3", recs)
	}
}

func TestAppendAfterCloseReportsErrClosed(t *testing.T) {
	s, err := Open(testOptions(t, "").WithInMemory(true))
	must(t, err)
	must(t, s.Close())
	must(t, s.Close()) // idempotent
	var got error
	s.Append(1, 1, []byte("x"), func(err error) { got = err })
	if !errors.Is(got, ErrClosed) {
		t.Errorf("Append after Close: %v", got)
	}
	s.Delete(1, 1) // does nothing, must not block or panic
	for name, err := range map[string]error{
		"PutDef":      s.PutDef(KindVHost, []string{"/"}, nil),
		"DeleteQueue": s.DeleteQueue(1),
		"Flush":       s.Flush(),
		"Messages":    s.Messages(1, nil),
		"Defs":        s.Defs(KindVHost, nil),
		"RunGC":       s.RunGC(),
		"Compact":     s.Compact(),
	} {
		if name == "RunGC" {
			continue // in memory, RunGC has nothing to do and returns nil
		}
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// Replacing a stored record and deleting the replacement before it is written
// deletes the stored record too.
func TestDeleteOfPendingReplacementDeletesStoredRecord(t *testing.T) {
	g := newGate()
	s := openStore(t, testOptions(t, "").WithInMemory(true).WithSyncHook(g.hook))
	s.Append(1, 1, []byte("stored"), nil) // written in the first group, held in the hook
	g.waitEntered(t)
	s.Append(1, 1, []byte("replacement"), nil) // pending
	s.Delete(1, 1)                             // cancels the replacement
	g.release()
	must(t, s.Flush())
	if seqs, recs := collect(t, s, 1); len(seqs) != 0 {
		t.Errorf("queue 1 = %v, want empty", recs)
	}
}

// A Delete that finds an AppendOnce still pending cancels it without a
// tombstone: nothing of the message is written, and its callback still
// runs, with nil. A plain Append cancelled the same way keeps its Delete.
func TestDeleteOfPendingAppendOnceWritesNothing(t *testing.T) {
	g := newGate()
	s := openStore(t, testOptions(t, "").WithInMemory(true).WithSyncHook(g.hook))
	s.Append(2, 1, []byte("blocker"), nil) // the committer holds this group
	g.waitEntered(t)
	var result error = errors.New("callback not run")
	s.AppendOnce(1, 5, []byte("acked before its commit"), func(err error) { result = err })
	s.Delete(1, 5)
	s.Append(1, 6, []byte("plain"), nil)
	s.Delete(1, 6)
	s.mu.Lock()
	var kinds []string
	for _, o := range s.pending {
		kinds = append(kinds, fmt.Sprintf("%d/%v/%v", o.id.seq, o.kind == opDelete, o.skip))
	}
	s.mu.Unlock()
	// seq/delete?/skip: the AppendOnce skipped, no Delete for it; the
	// plain Append skipped, and its Delete kept.
	if fmt.Sprint(kinds) != "[5/false/true 6/false/true 6/true/false]" {
		t.Errorf("pending ops %v, want [5/false/true 6/false/true 6/true/false]", kinds)
	}
	g.release()
	must(t, s.Flush())
	if result != nil {
		t.Errorf("callback of the cancelled AppendOnce: %v, want nil", result)
	}
	if seqs, recs := collect(t, s, 1); len(seqs) != 0 {
		t.Errorf("queue 1 = %v, want empty", recs)
	}
}

func TestDeleteRange(t *testing.T) {
	s := memStore(t)
	for seq := uint64(1); seq <= 10; seq++ {
		appendSync(t, s, 7, seq, []byte{byte(seq)})
	}
	appendSync(t, s, 8, 5, []byte{5}) // a neighbouring queue is untouched
	if err := s.DeleteRange(7, 3, 6); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	if err := s.Messages(7, func(seq uint64, _ []byte) error { got = append(got, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 7 8 9 10]" {
		t.Fatalf("after DeleteRange(3, 6): %v", got)
	}
	if err := s.DeleteRange(7, 9, math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	if err := s.Messages(7, func(seq uint64, _ []byte) error { got = append(got, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 7 8]" {
		t.Fatalf("after DeleteRange(9, max): %v", got)
	}
	n := 0
	if err := s.Messages(8, func(uint64, []byte) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("neighbouring queue: %d messages, %v", n, err)
	}
}
