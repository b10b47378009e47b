package exchange

import (
	"sync"

	"github.com/warrenmq/warren/amqp"
)

// Fanout is the fanout exchange: a message goes to every bound destination,
// whatever its routing key. A destination bound several times (under
// several keys or arguments) receives one copy. The zero value is an empty
// exchange ready to use.
type Fanout[D comparable] struct {
	mu       sync.RWMutex
	bindings bindingSet[D]
	dests    destSet[D]
}

// Bind implements Router.
func (x *Fanout[D]) Bind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	added, _, firstDest := x.bindings.add(b)
	if firstDest {
		x.dests.add(b.Dest)
	}
	return added
}

// Unbind implements Router.
func (x *Fanout[D]) Unbind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	removed, _, lastDest := x.bindings.remove(b)
	if lastDest {
		x.dests.remove(b.Dest)
	}
	return removed
}

// UnbindDest implements Router.
func (x *Fanout[D]) UnbindDest(d D) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.bindings.removeDest(d, func(string) {})
	if n > 0 {
		x.dests.remove(d)
	}
	return n
}

// Route implements Router: one copy of the destination list.
func (x *Fanout[D]) Route(_ string, _ amqp.Table, dst []D) []D {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append(dst, x.dests.list...)
}

// Bindings implements Router.
func (x *Fanout[D]) Bindings() []Binding[D] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.list()
}

// Len implements Router.
func (x *Fanout[D]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.len()
}

// HasDest implements Router.
func (x *Fanout[D]) HasDest(d D) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.hasDest(d)
}
