package exchange

import "sync"

// Bounds of a topic exchange's route cache, as nats bounds its sublist
// cache (slCacheMax): publishers that put a unique id in every routing key
// must not grow it without limit, and neither may a few keys that each
// route to thousands of queues.
const (
	topicCacheKeys  = 4096    // routing keys
	topicCacheSlots = 1 << 16 // destinations summed over all cached keys
)

// topicCache maps a routing key to its destinations. Route fills it while
// holding the exchange's read lock, so many routes fill it at once and it
// has its own lock; Bind and Unbind clear it while holding the write lock,
// so no route can store a result computed from the old bindings. Cached
// slices are never modified, only copied out.
type topicCache[D comparable] struct {
	mu    sync.RWMutex
	m     map[string][]D
	slots int // destinations held, summed over m

	// Limits; zero means topicCacheKeys and topicCacheSlots. Tests lower them.
	maxKeys, maxSlots int
}

func (c *topicCache[D]) get(key string) ([]D, bool) {
	c.mu.RLock()
	r, ok := c.m[key]
	c.mu.RUnlock()
	return r, ok
}

// put stores a copy of r. A result larger than a sixteenth of the slot
// budget is not cached: copying it out costs about as much as the walk
// that found it. When the cache is full, put first evicts entries, in map
// order (as good as random here), down to three quarters of each limit.
func (c *topicCache[D]) put(key string, r []D) {
	maxKeys, maxSlots := c.maxKeys, c.maxSlots
	if maxKeys <= 0 {
		maxKeys = topicCacheKeys
	}
	if maxSlots <= 0 {
		maxSlots = topicCacheSlots
	}
	if len(r) > maxSlots/16 {
		return
	}
	var stored []D
	if len(r) > 0 {
		stored = make([]D, len(r))
		copy(stored, r)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string][]D)
	}
	if old, ok := c.m[key]; ok { // another route stored it meanwhile
		c.slots -= len(old)
	}
	if len(c.m) >= maxKeys || c.slots+len(r) > maxSlots {
		for k, v := range c.m {
			if len(c.m) <= maxKeys*3/4 && c.slots+len(r) <= maxSlots*3/4 {
				break
			}
			delete(c.m, k)
			c.slots -= len(v)
		}
	}
	c.m[key] = stored
	c.slots += len(stored)
}

func (c *topicCache[D]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.slots = 0
	c.mu.Unlock()
}

// size reports the number of cached keys and destinations.
func (c *topicCache[D]) size() (keys, slots int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.slots
}
