package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Internal tests: the ring buffer's wrap-around, merge and shrinking are
// not visible through the Queue API, and memory reclamation can only be
// checked by looking at the buffer.

// check compares the deque with want and verifies the buffer.
func (d *deque) check(t *testing.T, want []uint64) {
	t.Helper()
	d.checkOrder(t, want)
	d.checkBuf(t)
}

func (d *deque) checkOrder(t *testing.T, want []uint64) {
	t.Helper()
	if d.n != len(want) {
		t.Fatalf("len = %d, want %d", d.n, len(want))
	}
	for i, s := range want {
		if got := d.at(i).Seq; got != s {
			t.Fatalf("at(%d).Seq = %d, want %d (want %v)", i, got, s, want)
		}
	}
}

// checkBuf verifies that no slot outside the live range still points at an
// entry (which would pin its message) and that the capacity is a power of
// two.
func (d *deque) checkBuf(t *testing.T) {
	t.Helper()
	live := 0
	for _, e := range d.buf {
		if e != nil {
			live++
		}
	}
	if live != d.n {
		t.Fatalf("%d non-nil slots, %d entries: stale pointers", live, d.n)
	}
	if c := len(d.buf); c != 0 && c&(c-1) != 0 {
		t.Fatalf("capacity %d is not a power of two", c)
	}
}

func TestDequeWrapAround(t *testing.T) {
	var d deque
	var want []uint64
	seq := uint64(0)
	// Keep 5-6 entries in an 8-slot ring while head walks around it twice.
	for range 20 {
		seq++
		d.pushBack(&Entry{Seq: seq})
		want = append(want, seq)
		if d.n > 5 {
			if got := d.popFront().Seq; got != want[0] {
				t.Fatalf("popFront = %d, want %d", got, want[0])
			}
			want = want[1:]
		}
		d.check(t, want)
	}
	if len(d.buf) != minCap {
		t.Fatalf("capacity %d, want %d", len(d.buf), minCap)
	}
	// Growing while wrapped must unwrap in order.
	for range 10 {
		seq++
		d.pushBack(&Entry{Seq: seq})
		want = append(want, seq)
	}
	d.check(t, want)
}

// TestDequeMergeModel runs random publishes, pops, acks and requeues (merges
// of a random subset of the popped entries) against a sorted-slice model, so
// that front merges, back merges, wrapped buffers, growth and shrinking all
// meet interleaved sequences.
func TestDequeMergeModel(t *testing.T) {
	maxLen := 0
	for seed := uint64(1); seed <= 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		var d deque
		var model []uint64
		var held []*Entry
		seq := uint64(0)
		for step := range 1500 {
			switch op := r.IntN(10); {
			case op < 4:
				for range r.IntN(12) {
					seq++
					d.pushBack(&Entry{Seq: seq})
					model = append(model, seq)
				}
			case op < 7:
				for k := r.IntN(40); k > 0 && d.n > 0; k-- {
					e := d.popFront()
					if e.Seq != model[0] {
						t.Fatalf("seed %d step %d: popFront = %d, want %d", seed, step, e.Seq, model[0])
					}
					model = model[1:]
					held = append(held, e)
				}
			case op < 8: // ack: the entries leave for good
				held = held[:len(held)/2]
			default:
				r.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
				k := r.IntN(len(held) + 1)
				back := slices.Clone(held[:k])
				held = held[k:]
				slices.SortFunc(back, bySeq)
				d.merge(back)
				for _, e := range back {
					model = append(model, e.Seq)
				}
				slices.Sort(model)
			}
			d.checkOrder(t, model)
			if step%64 == 0 {
				d.checkBuf(t) // a scan of the whole buffer: not every step
			}
			maxLen = max(maxLen, d.n)
		}
		d.checkBuf(t)
	}
	t.Logf("longest: %d entries", maxLen)
	if maxLen < 64 {
		t.Fatalf("the model never grew past %d entries: growth untested", maxLen)
	}
}

func TestDequeMergeMovesShorterSide(t *testing.T) {
	tests := []struct {
		name  string
		ready []uint64
		merge []uint64
		want  []uint64
	}{
		{"into empty", nil, []uint64{1, 2, 3}, []uint64{1, 2, 3}},
		{"all before", []uint64{5, 6, 7}, []uint64{1, 3}, []uint64{1, 3, 5, 6, 7}},
		{"all after", []uint64{1, 2, 3}, []uint64{5, 9}, []uint64{1, 2, 3, 5, 9}},
		{"near the front", []uint64{1, 3, 5, 6, 7, 8, 9}, []uint64{2, 4}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"near the back", []uint64{1, 2, 3, 4, 5, 7, 9}, []uint64{6, 8}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"spanning", []uint64{2, 4, 6, 8}, []uint64{1, 3, 5, 7, 9}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, tt := range tests {
		for _, offset := range []int{0, 3, 7} { // where head sits in the ring
			t.Run(tt.name, func(t *testing.T) {
				var d deque
				for range offset {
					d.pushBack(&Entry{})
				}
				for range offset {
					d.popFront()
				}
				for _, s := range tt.ready {
					d.pushBack(&Entry{Seq: s})
				}
				var es []*Entry
				for _, s := range tt.merge {
					es = append(es, &Entry{Seq: s})
				}
				d.merge(es)
				d.check(t, tt.want)
			})
		}
	}
}
