package perf

import (
	"slices"
	"sync"
)

// Stream is what the consumers of one queue saw of one producer's
// messages. Sequence numbers start at 0 and have no gaps at the producer,
// so a stream needs only the next expected sequence and the list of holes
// below it: memory grows with the number of holes, not of messages.
//
//   - seq == next: in order.
//   - seq > next: the seqs in between are missing for now (a hole).
//   - seq < next, inside a hole: it arrived late: reordered.
//   - seq < next, not in a hole: seen before: duplicated.
//
// At the end a hole, or a tail between next and what the producer sent, is
// a lost message.
type Stream struct {
	Next      uint64 // one past the highest sequence seen
	Received  uint64 // deliveries, duplicates included
	Distinct  uint64 // different sequences seen
	Dups      uint64
	Reordered uint64
	holes     []span // sorted, disjoint, all below Next
	// Dropped counts sequences of holes forgotten when there were more
	// than maxHoles holes; they are counted as lost.
	Dropped uint64
}

// span is the half-open range [lo, hi).
type span struct{ lo, hi uint64 }

// maxHoles bounds a stream's memory under pathological loss or reordering.
const maxHoles = 1 << 16

// Record notes the delivery of seq.
func (s *Stream) Record(seq uint64) {
	s.Received++
	switch {
	case seq == s.Next:
		s.Next++
		s.Distinct++
	case seq > s.Next:
		if len(s.holes) == maxHoles {
			s.Dropped += s.holes[0].hi - s.holes[0].lo
			s.holes = slices.Delete(s.holes, 0, 1)
		}
		s.holes = append(s.holes, span{s.Next, seq})
		s.Next = seq + 1
		s.Distinct++
	default:
		i, found := slices.BinarySearchFunc(s.holes, seq, func(h span, seq uint64) int {
			switch {
			case h.hi <= seq:
				return -1
			case h.lo > seq:
				return 1
			}
			return 0
		})
		if !found {
			s.Dups++
			return
		}
		s.Reordered++
		s.Distinct++
		h := &s.holes[i]
		switch {
		case h.lo == seq && h.hi == seq+1:
			s.holes = slices.Delete(s.holes, i, i+1)
		case h.lo == seq:
			h.lo++
		case h.hi == seq+1:
			h.hi--
		default:
			rest := span{seq + 1, h.hi}
			h.hi = seq
			s.holes = slices.Insert(s.holes, i+1, rest)
		}
	}
}

// Holes is the number of sequences below Next not seen (Dropped included).
func (s *Stream) Holes() uint64 {
	n := s.Dropped
	for _, h := range s.holes {
		n += h.hi - h.lo
	}
	return n
}

// Missing counts the sequences in [0, expected) that were not seen and are
// not in excused (sorted ascending): e.g. messages the broker nacked.
func (s *Stream) Missing(expected uint64, excused []uint64) uint64 {
	n := s.Dropped
	count := func(lo, hi uint64) {
		hi = min(hi, expected)
		if lo >= hi {
			return
		}
		n += hi - lo
		i, _ := slices.BinarySearch(excused, lo)
		for ; i < len(excused) && excused[i] < hi; i++ {
			n--
		}
	}
	for _, h := range s.holes {
		count(h.lo, h.hi)
	}
	count(s.Next, expected)
	return n
}

// QueueTracker holds the streams of one queue, by producer id. Consumers of
// the same queue share it; Record takes a mutex that is uncontended when,
// as usual, a queue has one consumer.
type QueueTracker struct {
	Name    string
	mu      sync.Mutex
	streams []Stream
	foreign uint64 // bodies without a stamp
}

// NewQueueTracker returns a tracker for the queue called name.
func NewQueueTracker(name string) *QueueTracker { return &QueueTracker{Name: name} }

// Record notes the delivery of a message with stamp st.
func (t *QueueTracker) Record(st Stamp) {
	t.mu.Lock()
	if int(st.Producer) >= len(t.streams) {
		t.streams = append(t.streams, make([]Stream, int(st.Producer)+1-len(t.streams))...)
	}
	t.streams[st.Producer].Record(st.Seq)
	t.mu.Unlock()
}

// RecordForeign notes a delivery whose body has no stamp.
func (t *QueueTracker) RecordForeign() {
	t.mu.Lock()
	t.foreign++
	t.mu.Unlock()
}

// Snapshot returns a copy of the streams (indexed by producer id) and the
// count of foreign bodies.
func (t *QueueTracker) Snapshot() ([]Stream, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Stream, len(t.streams))
	for i, s := range t.streams {
		out[i] = s
		out[i].holes = slices.Clone(s.holes)
	}
	return out, t.foreign
}

// Distinct is the number of different messages of producer p seen so far.
func (t *QueueTracker) Distinct(p int) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p >= len(t.streams) {
		return 0
	}
	return t.streams[p].Distinct
}
