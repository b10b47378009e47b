package exchange

// destSet is a set of destinations kept as a slice, so that Route can
// append it to the caller's slice in one copy. Removal is by swap, so the
// order is arbitrary. Large sets (a fanout with thousands of queues) get a
// position index so that removing one destination stays O(1).
type destSet[D comparable] struct {
	list []D
	pos  map[D]int // nil while the set is small
}

// destSetIndexAt is the size from which a destSet keeps a position index.
const destSetIndexAt = 16

// add appends d; the caller guarantees it is not present (bindingSet's
// transitions say so).
func (s *destSet[D]) add(d D) {
	s.list = append(s.list, d)
	switch {
	case s.pos != nil:
		s.pos[d] = len(s.list) - 1
	case len(s.list) > destSetIndexAt:
		s.pos = make(map[D]int, len(s.list))
		for i, x := range s.list {
			s.pos[x] = i
		}
	}
}

// remove deletes d if present.
func (s *destSet[D]) remove(d D) {
	i := -1
	if s.pos != nil {
		if p, ok := s.pos[d]; ok {
			i = p
			delete(s.pos, d)
		}
	} else {
		for j, x := range s.list {
			if x == d {
				i = j
				break
			}
		}
	}
	if i < 0 {
		return
	}
	last := len(s.list) - 1
	if i != last {
		s.list[i] = s.list[last]
		if s.pos != nil {
			s.pos[s.list[i]] = i
		}
	}
	var zero D
	s.list[last] = zero // drop the reference for the GC
	s.list = s.list[:last]
	if len(s.list) == 0 {
		s.list, s.pos = nil, nil
	}
}

func (s *destSet[D]) len() int { return len(s.list) }
