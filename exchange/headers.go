package exchange

import (
	"sync"

	"github.com/warrenmq/warren/amqp"
)

// Headers is the headers exchange: a message goes to the destinations of
// the bindings whose arguments match its headers, under the binding's
// x-match mode ("all", the default, "any", "all-with-x", "any-with-x").
// The routing key plays no part. See headersMatch for the exact rules. The
// zero value is an empty exchange ready to use.
type Headers[D comparable] struct {
	mu          sync.RWMutex
	dests       []*headerDest[D] // each destination once, with all its bindings
	index       map[D]int        // destination → position in dests
	n           int
	withPattern int // bindings with a non-empty pattern: Route must sort the headers
}

// headerDest groups the bindings of one destination, so that Route stops
// at its first matching binding and never appends it twice.
type headerDest[D comparable] struct {
	dest     D
	bindings []headerBinding
}

type headerBinding struct {
	key     string
	args    amqp.Table // canonical: sorted deep copy, the binding's identity
	mode    matchMode
	pattern amqp.Table // the fields compared with the headers, sorted
}

func (x *Headers[D]) find(b Binding[D]) (g *headerDest[D], i int) {
	p, ok := x.index[b.Dest]
	if !ok {
		return nil, -1
	}
	g = x.dests[p]
	args := sortedArgs(b.Args)
	for i := range g.bindings {
		if g.bindings[i].key == b.Key && sameFields(g.bindings[i].args, args) {
			return g, i
		}
	}
	return g, -1
}

// Bind implements Router. An x-match value that is not one of the four
// modes is treated as "all", as RabbitMQ does for bindings it did not
// validate; call ValidateBinding first to refuse it.
func (x *Headers[D]) Bind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	g, i := x.find(b)
	if i >= 0 {
		return false
	}
	if g == nil {
		if x.index == nil {
			x.index = make(map[D]int)
		}
		g = &headerDest[D]{dest: b.Dest}
		x.index[b.Dest] = len(x.dests)
		x.dests = append(x.dests, g)
	}
	args := canonicalArgs(b.Args)
	mode := parseMatchMode(args)
	hb := headerBinding{key: b.Key, args: args, mode: mode, pattern: headerPattern(args, mode)}
	g.bindings = append(g.bindings, hb)
	x.n++
	if len(hb.pattern) > 0 {
		x.withPattern++
	}
	return true
}

// Unbind implements Router.
func (x *Headers[D]) Unbind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	g, i := x.find(b)
	if i < 0 {
		return false
	}
	if len(g.bindings[i].pattern) > 0 {
		x.withPattern--
	}
	last := len(g.bindings) - 1
	g.bindings[i] = g.bindings[last]
	g.bindings[last] = headerBinding{}
	g.bindings = g.bindings[:last]
	x.n--
	if len(g.bindings) == 0 {
		x.removeDest(b.Dest)
	}
	return true
}

// UnbindDest implements Router.
func (x *Headers[D]) UnbindDest(d D) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, ok := x.index[d]
	if !ok {
		return 0
	}
	g := x.dests[p]
	for _, hb := range g.bindings {
		if len(hb.pattern) > 0 {
			x.withPattern--
		}
	}
	n := len(g.bindings)
	x.n -= n
	x.removeDest(d)
	return n
}

func (x *Headers[D]) removeDest(d D) {
	p := x.index[d]
	last := len(x.dests) - 1
	if p != last {
		x.dests[p] = x.dests[last]
		x.index[x.dests[p].dest] = p
	}
	x.dests[last] = nil
	x.dests = x.dests[:last]
	delete(x.index, d)
}

// Route implements Router. headers may be nil (no headers). It sorts an
// index of the headers once per message and tests each binding with one
// merge; it allocates only for header tables of more than 16 fields.
func (x *Headers[D]) Route(_ string, headers amqp.Table, dst []D) []D {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var buf [16]int
	idx := buf[:0]
	if x.withPattern > 0 && len(headers) > 0 {
		idx = sortedIndex(headers, idx)
	}
	for _, g := range x.dests {
		for i := range g.bindings {
			hb := &g.bindings[i]
			if headersMatch(hb.pattern, hb.mode, headers, idx) {
				dst = append(dst, g.dest)
				break
			}
		}
	}
	return dst
}

// Bindings implements Router.
func (x *Headers[D]) Bindings() []Binding[D] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]Binding[D], 0, x.n)
	for _, g := range x.dests {
		for _, hb := range g.bindings {
			out = append(out, Binding[D]{Key: hb.key, Dest: g.dest, Args: hb.args})
		}
	}
	return out
}

// Len implements Router.
func (x *Headers[D]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// HasDest implements Router.
func (x *Headers[D]) HasDest(d D) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.index[d]
	return ok
}
