package perf

import (
	"math"
	"slices"
	"sync"
	"time"
)

// pacer spaces a producer's messages at rate per second: message k is due
// k/rate seconds after start. A producer that falls behind (the broker
// pushed back) catches up by at most one second's worth, in a burst, and
// forgets the rest of its debt.
type pacer struct {
	rate  float64
	start time.Time
}

// allowance returns how many messages are due now, after sent were sent;
// when none is, how long until the next.
func (p *pacer) allowance(sent uint64, now time.Time) (uint64, time.Duration) {
	if p.rate <= 0 {
		return math.MaxUint64, 0
	}
	el := now.Sub(p.start).Seconds()
	due := uint64(el*p.rate) + 1
	if due > sent {
		if debt := due - sent; float64(debt) > p.rate+1 {
			// Too far behind: restart the schedule from here.
			p.start = now.Add(-time.Duration(float64(sent) / p.rate * 1e9))
			return 1, 0
		}
		return due - sent, 0
	}
	next := p.start.Add(time.Duration(float64(sent) / p.rate * 1e9))
	return 0, next.Sub(now)
}

// confirmWindow tracks a producer's unconfirmed publishes. Delivery tags
// start at 1 after confirm.select, so tag t is sequence t-1. The producer
// reserves tags before publishing and blocks while the window is full; the
// reader resolves them with basic.ack/nack, single or multiple, in any
// order.
type confirmWindow struct {
	mu       sync.Mutex
	cond     sync.Cond
	size     uint64
	resolved []bool // ring indexed by tag & mask
	mask     uint64
	base     uint64 // lowest unresolved tag
	next     uint64 // next tag to hand out
	acked    uint64
	nacked   uint64
	// nackedSeqs lists nacked sequences in ascending order of arrival
	// (capped), so loss accounting can excuse them.
	nackedSeqs []uint64
	done       bool // failed: every waiter gives up
	stopped    bool // the producer is stopping: reserve gives up
}

const maxNackedSeqs = 1 << 20

func newConfirmWindow(size int) *confirmWindow {
	n := uint64(1)
	for n < uint64(size) {
		n <<= 1
	}
	w := &confirmWindow{size: uint64(size), resolved: make([]bool, n), mask: n - 1, base: 1, next: 1}
	w.cond.L = &w.mu
	return w
}

// reserve waits for room and reserves up to want tags, returning how many
// (0 once the window is shut).
func (w *confirmWindow) reserve(want uint64) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !w.done && !w.stopped && w.next-w.base >= w.size {
		w.cond.Wait()
	}
	if w.done || w.stopped {
		return 0
	}
	n := min(want, w.size-(w.next-w.base))
	w.next += n
	return n
}

// unreserve gives back the last n reserved tags, which were never sent.
func (w *confirmWindow) unreserve(n uint64) {
	w.mu.Lock()
	w.next -= n
	w.mu.Unlock()
	w.cond.Broadcast()
}

// resolve applies a basic.ack (ack) or basic.nack for tag.
func (w *confirmWindow) resolve(tag uint64, multiple, ack bool) {
	w.mu.Lock()
	mark := func(t uint64) {
		if w.resolved[t&w.mask] {
			return
		}
		w.resolved[t&w.mask] = true
		if ack {
			w.acked++
		} else {
			w.nacked++
			if len(w.nackedSeqs) < maxNackedSeqs {
				w.nackedSeqs = append(w.nackedSeqs, t-1)
			}
		}
	}
	if multiple {
		for t := w.base; t <= tag && t < w.next; t++ {
			mark(t)
		}
	} else if tag >= w.base && tag < w.next {
		mark(tag)
	}
	for w.base < w.next && w.resolved[w.base&w.mask] {
		w.resolved[w.base&w.mask] = false
		w.base++
	}
	w.mu.Unlock()
	w.cond.Broadcast()
}

// shut wakes every waiter for good.
func (w *confirmWindow) shut() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	w.cond.Broadcast()
}

// stop makes reserve give up, so that a producer waiting for confirms
// notices the end of the run.
func (w *confirmWindow) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cond.Broadcast()
}

// waitAll waits until every reserved tag is resolved, the window is shut,
// or timeout passes; it reports whether all were resolved.
func (w *confirmWindow) waitAll(timeout time.Duration) bool {
	t := time.AfterFunc(timeout, w.shut)
	defer t.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.base != w.next && !w.done {
		w.cond.Wait()
	}
	return w.base == w.next
}

// counts returns acked, nacked and the nacked sequences, sorted.
func (w *confirmWindow) counts() (acked, nacked uint64, seqs []uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seqs = append([]uint64(nil), w.nackedSeqs...)
	slices.Sort(seqs)
	return w.acked, w.nacked, seqs
}

// ackedCount is for the progress line.
func (w *confirmWindow) ackedCount() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}
