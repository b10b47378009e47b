package queue_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

func TestLimiter(t *testing.T) {
	// Each step is acquire (a), release n (r), or set limit (s); want is the
	// TryAcquire result for a, and inFlight the count after every step.
	type step struct {
		op       byte
		n        int
		want     bool
		inFlight int
	}
	tests := []struct {
		name  string
		limit uint32
		steps []step
	}{
		{"unlimited", 0, []step{{'a', 0, true, 1}, {'a', 0, true, 2}, {'a', 0, true, 3}}},
		{"limit reached", 2, []step{{'a', 0, true, 1}, {'a', 0, true, 2}, {'a', 0, false, 2}, {'r', 1, false, 1}, {'a', 0, true, 2}}},
		{"lowered below in-flight", 3, []step{
			{'a', 0, true, 1}, {'a', 0, true, 2}, {'a', 0, true, 3},
			{'s', 1, false, 3}, {'r', 1, false, 2}, {'a', 0, false, 2},
			{'r', 2, false, 0}, {'a', 0, true, 1}, {'a', 0, false, 1},
		}},
		{"raised", 1, []step{{'a', 0, true, 1}, {'a', 0, false, 1}, {'s', 2, false, 1}, {'a', 0, true, 2}}},
		{"set to unlimited", 1, []step{{'a', 0, true, 1}, {'s', 0, false, 1}, {'a', 0, true, 2}}},
		{"release clamps at zero", 2, []step{{'a', 0, true, 1}, {'r', 5, false, 0}, {'a', 0, true, 1}, {'a', 0, true, 2}, {'a', 0, false, 2}}},
		{"release of nothing", 1, []step{{'r', 0, false, 0}, {'r', -3, false, 0}, {'a', 0, true, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := queue.NewLimiter(tt.limit)
			for i, s := range tt.steps {
				switch s.op {
				case 'a':
					if got := l.TryAcquire(); got != s.want {
						t.Fatalf("step %d: TryAcquire() = %v, want %v", i, got, s.want)
					}
				case 'r':
					l.Release(s.n)
				case 's':
					l.SetLimit(uint32(s.n))
					if l.Limit() != uint32(s.n) {
						t.Fatalf("step %d: Limit() = %d, want %d", i, l.Limit(), s.n)
					}
				}
				if got := l.InFlight(); got != s.inFlight {
					t.Fatalf("step %d (%c): InFlight() = %d, want %d", i, s.op, got, s.inFlight)
				}
			}
		})
	}
}

func TestLimiterZeroValueIsUnlimited(t *testing.T) {
	var l queue.Limiter
	for range 100 {
		if !l.TryAcquire() {
			t.Fatal("zero Limiter refused credit")
		}
	}
}

// A channel limiter is shared by queues that dispatch concurrently: however
// acquisitions and releases race, no more than the limit may be held at
// once. (A race between the limit check and the increment shows up here
// only when goroutines actually interleave, so this test can miss such a
// bug on one CPU; it cannot report a false failure.)
func TestLimiterConcurrentAcquire(t *testing.T) {
	const limit, goroutines, tries = 2, 8, 20_000
	l := queue.NewLimiter(limit)
	var held, granted atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range tries {
				if !l.TryAcquire() {
					continue
				}
				granted.Add(1)
				if h := held.Add(1); h > limit {
					t.Errorf("%d units held, limit %d", h, limit)
					return
				}
				held.Add(-1)
				l.Release(1)
			}
		})
	}
	wg.Wait()
	if granted.Load() == 0 || l.InFlight() != 0 {
		t.Fatalf("granted %d, InFlight %d; want > 0, 0", granted.Load(), l.InFlight())
	}
}
