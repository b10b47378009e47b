package exchange

import "github.com/warrenmq/warren/amqp"

// bindingSet stores the bindings of one exchange by destination and key,
// with the canonical arguments of each. The routing structure of each
// exchange type follows the transitions it reports: the first binding of a
// (destination, key) pair adds the destination to the route for that key,
// the last one removes it, so that a destination bound twice under one key
// with different arguments is routed to once.
type bindingSet[D comparable] struct {
	byDest map[D]map[string][]amqp.Table
	n      int
}

// add stores b unless an equal binding exists. firstKey reports that b is
// the first binding of (b.Dest, b.Key); firstDest that it is the first of
// b.Dest.
func (s *bindingSet[D]) add(b Binding[D]) (added, firstKey, firstDest bool) {
	keys := s.byDest[b.Dest]
	args := sortedArgs(b.Args)
	for _, have := range keys[b.Key] {
		if sameFields(have, args) {
			return false, false, false
		}
	}
	if keys == nil {
		if s.byDest == nil {
			s.byDest = make(map[D]map[string][]amqp.Table)
		}
		keys = make(map[string][]amqp.Table, 1)
		s.byDest[b.Dest] = keys
		firstDest = true
	}
	firstKey = len(keys[b.Key]) == 0
	keys[b.Key] = append(keys[b.Key], canonicalArgs(b.Args))
	s.n++
	return true, firstKey, firstDest
}

// remove deletes the binding equal to b. lastKey reports that no binding
// of (b.Dest, b.Key) is left; lastDest that none of b.Dest is.
func (s *bindingSet[D]) remove(b Binding[D]) (removed, lastKey, lastDest bool) {
	keys := s.byDest[b.Dest]
	list := keys[b.Key]
	args := sortedArgs(b.Args)
	for i, have := range list {
		if !sameFields(have, args) {
			continue
		}
		list[i] = list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		s.n--
		if len(list) > 0 {
			keys[b.Key] = list
			return true, false, false
		}
		delete(keys, b.Key)
		if len(keys) > 0 {
			return true, true, false
		}
		delete(s.byDest, b.Dest)
		return true, true, true
	}
	return false, false, false
}

// removeDest deletes every binding of d, calls lastKey for each of its
// keys, and returns how many bindings there were.
func (s *bindingSet[D]) removeDest(d D, lastKey func(key string)) int {
	keys, ok := s.byDest[d]
	if !ok {
		return 0
	}
	n := 0
	for key, list := range keys {
		n += len(list)
		lastKey(key)
	}
	delete(s.byDest, d)
	s.n -= n
	return n
}

func (s *bindingSet[D]) hasDest(d D) bool { return len(s.byDest[d]) > 0 }

// keys is the number of distinct keys d is bound with.
func (s *bindingSet[D]) keys(d D) int { return len(s.byDest[d]) }

func (s *bindingSet[D]) len() int { return s.n }

// list returns every binding; Args are the stored canonical tables.
func (s *bindingSet[D]) list() []Binding[D] {
	out := make([]Binding[D], 0, s.n)
	for d, keys := range s.byDest {
		for key, list := range keys {
			for _, args := range list {
				out = append(out, Binding[D]{Key: key, Dest: d, Args: args})
			}
		}
	}
	return out
}
