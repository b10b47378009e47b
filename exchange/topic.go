package exchange

import (
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/amqp"
)

// Topic is the topic exchange. Routing keys and binding patterns are words
// separated by '.'; in a pattern '*' matches exactly one word and '#'
// matches zero or more words, anywhere in the pattern. The empty string is
// zero words, so pattern "" matches only key "", '*' does not match "",
// and '#' matches everything, "" included. Empty words between dots are
// words: "a..b" is three words, and 'a.*.b' matches it.
//
// These are RabbitMQ's rules (split_topic_key and trie_match in
// rabbit_exchange_type_topic); TestTopicMatchesRabbitMQ replays routes that
// RabbitMQ 3.10.8's own code computed.
//
// Bindings live in a trie (see node) and results in a bounded cache of
// routing key → destinations, cleared whenever the bindings change. The
// zero value is an empty exchange ready to use.
type Topic[D comparable] struct {
	mu       sync.RWMutex
	bindings bindingSet[D]
	root     node[D]
	multiKey int // destinations bound with two or more patterns: results need dedupe
	gen      atomic.Uint64
	cache    topicCache[D]
	pool     sync.Pool // *matcher[D]
}

// Bind implements Router.
func (x *Topic[D]) Bind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	added, firstKey, _ := x.bindings.add(b)
	if firstKey {
		x.root.insert(b.Key).dests.add(b.Dest)
		if x.bindings.keys(b.Dest) == 2 {
			x.multiKey++
		}
		x.changed()
	}
	return added
}

// Unbind implements Router.
func (x *Topic[D]) Unbind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	removed, lastKey, _ := x.bindings.remove(b)
	if lastKey {
		x.unroute(b.Key, b.Dest)
		if x.bindings.keys(b.Dest) == 1 {
			x.multiKey--
		}
		x.changed()
	}
	return removed
}

// UnbindDest implements Router.
func (x *Topic[D]) UnbindDest(d D) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.bindings.keys(d) >= 2 {
		x.multiKey--
	}
	n := x.bindings.removeDest(d, func(key string) { x.unroute(key, d) })
	if n > 0 {
		x.changed()
	}
	return n
}

func (x *Topic[D]) unroute(pattern string, d D) {
	n := x.root.find(pattern)
	if n == nil {
		return
	}
	n.dests.remove(d)
	if n.dests.len() == 0 {
		n.prune()
	}
}

// changed invalidates cached routes; the caller holds the write lock.
func (x *Topic[D]) changed() {
	x.gen.Add(1)
	x.cache.clear()
}

// Generation is a counter that changes whenever the routes of this exchange
// change. A channel may keep its own routing-key cache for this exchange
// and drop it when the generation moves, as nats' per-client cache
// follows the sublist's genid. Read it before calling Route, so that a
// result is never filed under a generation newer than itself.
func (x *Topic[D]) Generation() uint64 { return x.gen.Load() }

// Route implements Router. A routing key seen since the last binding change
// is answered from the cache without allocating; otherwise the trie is
// walked and the result cached.
func (x *Topic[D]) Route(key string, _ amqp.Table, dst []D) []D {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if r, ok := x.cache.get(key); ok {
		return append(dst, r...)
	}
	start := len(dst)
	dst = x.match(key, dst)
	x.cache.put(key, dst[start:])
	return dst
}

// match walks the trie for key, appending to dst; the caller holds the
// read lock. It bypasses the cache.
func (x *Topic[D]) match(key string, dst []D) []D {
	m, _ := x.pool.Get().(*matcher[D])
	if m == nil {
		m = new(matcher[D])
	}
	m.words = splitWords(key, m.words[:0])
	m.dst = dst
	m.emitted = 0
	start := len(dst)
	m.walk(&x.root, 0)
	if x.multiKey > 0 {
		// Only a destination bound with several patterns can be reached
		// through several trie nodes; without one, the result is unique.
		m.dedupe(start)
	}
	dst = m.dst
	clear(m.words) // do not keep routing keys alive through the pool
	if len(m.memo) > 0 {
		clear(m.memo)
	}
	m.dst = nil
	x.pool.Put(m)
	return dst
}

// Bindings implements Router.
func (x *Topic[D]) Bindings() []Binding[D] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.list()
}

// Len implements Router.
func (x *Topic[D]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.len()
}

// HasDest implements Router.
func (x *Topic[D]) HasDest(d D) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.hasDest(d)
}
