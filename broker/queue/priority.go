package queue

import (
	"cmp"
	"math/bits"
	"slices"
)

// prioReady is the ready list of a priority queue (x-max-priority): one
// deque per priority level, each sorted by Seq, and a bitmap of the levels
// that hold entries, so that the head (the oldest entry of the highest
// non-empty level) is found in a few instructions.
//
// RabbitMQ's rabbit_priority_queue keeps one backing queue per priority
// and serves them highest first (find2 over the levels in descending
// order). Everything that takes "the head" does so here: delivery, Get,
// drop-head for max-length, and TTL expiry, which stops at the first level
// whose head is alive. Requeued entries go back into their own level at
// their Seq position.
//
// Priority queues do not page (Options.Paging is ignored for them): a
// store-only tail is one contiguous Seq range, which a message of higher
// priority would have to jump. Their memory is bounded by length limits
// alone.
type prioReady struct {
	levels []deque // index = priority, 0..max
	max    uint8
	n      int       // entries across levels
	used   [4]uint64 // bit p set: levels[p] is not empty
}

func newPrioReady(max uint8) *prioReady {
	return &prioReady{levels: make([]deque, int(max)+1), max: max}
}

// level is the level of m: its priority, capped at the queue's maximum
// (RabbitMQ: "messages with a priority which is higher than the queue's
// maximum are treated as if they were published with the maximum").
func (p *prioReady) level(m *Message) uint8 { return min(m.Priority, p.max) }

// top returns the highest non-empty level; p.n must be > 0.
func (p *prioReady) top() int {
	for w := len(p.used) - 1; w >= 0; w-- {
		if u := p.used[w]; u != 0 {
			return w*64 + bits.Len64(u) - 1
		}
	}
	panic("queue: top of an empty priority list")
}

func (p *prioReady) head() *Entry {
	if p.n == 0 {
		return nil
	}
	return p.levels[p.top()].at(0)
}

func (p *prioReady) pushBack(e *Entry) {
	l := p.level(e.Msg)
	p.levels[l].pushBack(e)
	p.used[l/64] |= 1 << (l % 64)
	p.n++
}

func (p *prioReady) popFront() *Entry {
	l := p.top()
	d := &p.levels[l]
	e := d.popFront()
	if d.n == 0 {
		p.used[l/64] &^= 1 << (uint(l) % 64)
	}
	p.n--
	return e
}

// merge puts es (Entry.Seq unique, not already ready) back into their
// levels by Seq. It sorts es in place by (level, Seq), then merges each
// level's run with one deque merge.
func (p *prioReady) merge(es []*Entry) {
	slices.SortFunc(es, func(a, b *Entry) int {
		if c := cmp.Compare(p.level(b.Msg), p.level(a.Msg)); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	for i := 0; i < len(es); {
		l := p.level(es[i].Msg)
		j := i + 1
		for j < len(es) && p.level(es[j].Msg) == l {
			j++
		}
		p.levels[l].merge(es[i:j])
		p.used[l/64] |= 1 << (l % 64)
		p.n += j - i
		i = j
	}
}

func (p *prioReady) clear() {
	for l := range p.levels {
		if p.levels[l].n > 0 || p.levels[l].buf != nil {
			p.levels[l].clear()
		}
	}
	p.n, p.used = 0, [4]uint64{}
}
