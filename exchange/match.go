package exchange

// matcher is the state of one trie walk. It is pooled per Topic so that a
// cache miss does not allocate its word buffer, memo or dedupe set anew.
type matcher[D comparable] struct {
	words   []string
	dst     []D
	emitted int                     // nodes whose destinations were appended
	memo    map[memoKey[D]]struct{} // visited states of '#' nodes below another '#'
	seen    map[D]struct{}          // dedupe set for large results
}

// memoKey is a walk state: a trie node and the index of the next word.
type memoKey[D comparable] struct {
	n *node[D]
	i int
}

// walk collects the destinations of every pattern below n that matches
// words[i:]. At each node it tries the literal word, '*' and '#', as
// RabbitMQ's trie_match does: '#' consumes words[i:j] for every j ≥ i, and
// at the end of the key a '#' edge still matches zero words.
//
// A state (node, i) is reached once per way the '#' edges above the node
// can split words[:i]. With one '#' on the path that is one way; with two
// or more ('#.#', 'a.#.b.#') it is many, and the walk grows combinatorially
// with the key length. So states of '#' nodes with another '#' above them
// are memoised: a repeated (node, i) below such a node passes through its
// last '#' node with a repeated state, so that one check cuts every repeat,
// and the walk appends each node's destinations at most once.
func (m *matcher[D]) walk(n *node[D], i int) {
	if n.memo {
		if m.memo == nil {
			m.memo = make(map[memoKey[D]]struct{})
		}
		k := memoKey[D]{n, i}
		if _, ok := m.memo[k]; ok {
			return
		}
		m.memo[k] = struct{}{}
	}
	if i == len(m.words) {
		if n.dests.len() > 0 {
			m.dst = append(m.dst, n.dests.list...)
			m.emitted++
		}
		if n.hash != nil {
			m.walk(n.hash, i)
		}
		return
	}
	if c := n.lit[m.words[i]]; c != nil {
		m.walk(c, i+1)
	}
	if n.star != nil {
		m.walk(n.star, i+1)
	}
	if n.hash != nil {
		for j := i; j <= len(m.words); j++ {
			m.walk(n.hash, j)
		}
	}
}

// dedupeSmall is the result size up to which dedupe compares pairwise
// rather than using a set.
const dedupeSmall = 32

// dedupe removes repeated destinations from m.dst[start:], keeping the
// first of each. Each node's list is already unique, so this is needed only
// when more than one node contributed (a queue bound with 'a.*' and '*.b'
// matches 'a.b' twice).
func (m *matcher[D]) dedupe(start int) {
	if m.emitted < 2 {
		return
	}
	out := m.dst[:start]
	if len(m.dst)-start <= dedupeSmall {
	next:
		for _, d := range m.dst[start:] {
			for _, have := range out[start:] {
				if have == d {
					continue next
				}
			}
			out = append(out, d)
		}
	} else {
		if m.seen == nil {
			m.seen = make(map[D]struct{})
		}
		for _, d := range m.dst[start:] {
			if _, ok := m.seen[d]; !ok {
				m.seen[d] = struct{}{}
				out = append(out, d)
			}
		}
		clear(m.seen)
	}
	var zero D
	for i := len(out); i < len(m.dst); i++ {
		m.dst[i] = zero // the tail is the caller's memory; drop references
	}
	m.dst = out
}
