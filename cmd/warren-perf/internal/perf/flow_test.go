package perf

import (
	"math"
	"testing"
	"time"
)

func TestConfirmWindow(t *testing.T) {
	w := newConfirmWindow(4)
	if n := w.reserve(10); n != 4 { // tags 1…4
		t.Fatalf("reserved %d, want 4", n)
	}
	w.resolve(3, false, true) // out of order: the window does not move
	w.resolve(2, false, false)
	got := make(chan uint64)
	go func() { got <- w.reserve(10) }()
	select {
	case n := <-got:
		t.Fatalf("reserve returned %d while the window was full", n)
	case <-time.After(20 * time.Millisecond):
	}
	w.resolve(1, false, true) // base moves past 1, 2, 3
	if n := <-got; n != 3 {   // tags 5…7
		t.Fatalf("reserved %d, want 3", n)
	}
	w.resolve(6, true, true) // multiple: 4, 5, 6
	w.resolve(7, true, false)
	if !w.waitAll(time.Second) {
		t.Fatal("waitAll: not all resolved")
	}
	acked, nacked, seqs := w.counts()
	if acked != 5 || nacked != 2 || len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 6 {
		t.Fatalf("acked %d nacked %d seqs %v", acked, nacked, seqs)
	}
	// Stale and repeated acks change nothing.
	w.resolve(3, true, true)
	w.resolve(100, false, true)
	if a, _, _ := w.counts(); a != 5 {
		t.Fatalf("acked %d after stale acks", a)
	}
}

func TestConfirmWindowStopAndTimeout(t *testing.T) {
	w := newConfirmWindow(1)
	w.reserve(1)
	done := make(chan uint64)
	go func() { done <- w.reserve(1) }()
	w.stop()
	if n := <-done; n != 0 {
		t.Fatalf("reserve after stop: %d", n)
	}
	if w.waitAll(10 * time.Millisecond) {
		t.Fatal("waitAll reported success with a tag outstanding")
	}
}

func TestPacer(t *testing.T) {
	start := time.Unix(1000, 0)
	p := pacer{rate: 1000, start: start}
	if n, _ := p.allowance(0, start); n != 1 {
		t.Fatalf("at start: %d due, want 1", n)
	}
	if n, wait := p.allowance(1, start.Add(500*time.Microsecond)); n != 0 || wait != 500*time.Microsecond {
		t.Fatalf("half way: %d due, wait %v", n, wait)
	}
	if n, _ := p.allowance(1, start.Add(10*time.Millisecond)); n != 10 {
		t.Fatalf("10ms in: %d due, want 10", n)
	}
	// Far behind: the debt is forgotten, not paid in one burst.
	if n, _ := p.allowance(1, start.Add(10*time.Second)); n != 1 {
		t.Fatalf("10s behind: %d due, want 1", n)
	}
	if n, _ := (&pacer{}).allowance(123, start); n != math.MaxUint64 {
		t.Fatalf("unlimited: %d", n)
	}
}
