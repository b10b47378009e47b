package perf

import (
	"testing"
	"time"
)

// fakeRun is a run with one queue, one consumer and one producer that
// sent n messages, of which the queue saw seen.
func fakeRun(n uint64, clean bool, confirm int, seen ...uint64) *run {
	cfg := DefaultConfig()
	cfg.Confirm = confirm
	r := &run{cfg: cfg, queues: []string{"q"}, perQueue: []int{1}, trackers: []*QueueTracker{NewQueueTracker("q")}}
	p := &producer{id: 0, dests: []int{0}, clean: clean}
	p.sent.Store(n)
	if confirm > 0 {
		p.win = newConfirmWindow(confirm)
	}
	r.producers = []*producer{p}
	r.consumers = []*consumer{{id: 0}}
	for _, s := range seen {
		r.trackers[0].Record(Stamp{Seq: s})
	}
	return r
}

func TestIntegrityVerdicts(t *testing.T) {
	all := []uint64{0, 1, 2, 3, 4}
	cases := []struct {
		name        string
		r           *run
		drain       string
		verdict     string
		lost, dup   uint64
		missing     uint64
		reorder     uint64
		expected    uint64
		distinctMin uint64
	}{
		{"complete", fakeRun(5, true, 0, all...), drainComplete, VerdictOK, 0, 0, 0, 0, 5, 5},
		{"lost after drain to empty", fakeRun(5, true, 0, 0, 1, 3, 4), drainEmpty, VerdictLost, 1, 0, 1, 0, 5, 4},
		{"tail lost", fakeRun(5, true, 0, 0, 1, 2), drainEmpty, VerdictLost, 2, 0, 2, 0, 5, 3},
		{"unclean producer", fakeRun(5, false, 0, 0, 1), drainEmpty, VerdictInconclusive, 0, 0, 3, 0, 5, 2},
		{"drain timed out", fakeRun(5, true, 0, 0, 1), drainTimeout, VerdictInconclusive, 0, 0, 3, 0, 5, 2},
		{"consumers stopped", fakeRun(5, true, 0, 0, 1), drainStopped, VerdictInconclusive, 0, 0, 3, 0, 5, 2},
		{"dup and reorder are not loss", fakeRun(5, true, 0, 0, 2, 1, 1, 3, 4), drainComplete, VerdictOK, 0, 1, 0, 1, 5, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.r.integrity(tc.drain)
			if in.Verdict != tc.verdict || in.Lost != tc.lost || in.Duplicated != tc.dup || in.Missing != tc.missing ||
				in.Reordered != tc.reorder || in.Expected != tc.expected || in.Distinct < tc.distinctMin {
				t.Fatalf("got %+v", in)
			}
		})
	}
}

func TestIntegrityNackedAreExcused(t *testing.T) {
	r := fakeRun(5, true, 10, 0, 1, 3)
	w := r.producers[0].win
	w.reserve(5)
	w.resolve(2, true, true)   // seqs 0, 1
	w.resolve(3, false, false) // seq 2 nacked
	w.resolve(5, true, true)   // seqs 3, 4
	in := r.integrity(drainEmpty)
	// Seq 2 was nacked, so only seq 4 is lost.
	if in.Verdict != VerdictLost || in.Lost != 1 || in.Expected != 4 {
		t.Fatalf("got %+v", in)
	}
}

func TestIntegrityNoConsumers(t *testing.T) {
	r := fakeRun(5, true, 0)
	r.consumers = nil
	if in := r.integrity(drainNone); in.Verdict != VerdictNotChecked {
		t.Fatalf("got %+v", in)
	}
}

func TestIntegrityQueueWithoutConsumer(t *testing.T) {
	r := fakeRun(5, true, 0)
	r.perQueue = []int{0}
	if in := r.integrity(r.drain(time.Time{})); in.Verdict != VerdictNotChecked {
		t.Fatalf("got %+v", in)
	}
}
