package exchange

import (
	"sync"

	"github.com/warrenmq/warren/amqp"
)

// Direct is the direct exchange: a message goes to every destination bound
// with exactly its routing key. Two destinations bound under one key both
// receive it. The zero value is an empty exchange ready to use.
type Direct[D comparable] struct {
	mu       sync.RWMutex
	bindings bindingSet[D]
	routes   map[string]*destSet[D] // routing key → destinations
}

// Bind implements Router.
func (x *Direct[D]) Bind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	added, firstKey, _ := x.bindings.add(b)
	if firstKey {
		if x.routes == nil {
			x.routes = make(map[string]*destSet[D])
		}
		s := x.routes[b.Key]
		if s == nil {
			s = new(destSet[D])
			x.routes[b.Key] = s
		}
		s.add(b.Dest)
	}
	return added
}

// Unbind implements Router.
func (x *Direct[D]) Unbind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	removed, lastKey, _ := x.bindings.remove(b)
	if lastKey {
		x.unroute(b.Key, b.Dest)
	}
	return removed
}

// UnbindDest implements Router.
func (x *Direct[D]) UnbindDest(d D) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bindings.removeDest(d, func(key string) { x.unroute(key, d) })
}

func (x *Direct[D]) unroute(key string, d D) {
	s := x.routes[key]
	if s == nil {
		return
	}
	s.remove(d)
	if s.len() == 0 {
		delete(x.routes, key)
	}
}

// Route implements Router. It is one map lookup and one copy.
func (x *Direct[D]) Route(key string, _ amqp.Table, dst []D) []D {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if s := x.routes[key]; s != nil {
		dst = append(dst, s.list...)
	}
	return dst
}

// Bindings implements Router.
func (x *Direct[D]) Bindings() []Binding[D] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.list()
}

// Len implements Router.
func (x *Direct[D]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.len()
}

// HasDest implements Router.
func (x *Direct[D]) HasDest(d D) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.hasDest(d)
}
