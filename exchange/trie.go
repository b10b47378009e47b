package exchange

// node is one node of the topic trie. The path from the root spells a
// binding pattern word by word; literal words, '*' and '#' are separate
// edges so that matching tries each at most once per node, the shape of
// RabbitMQ's trie (rabbit_db_topic_exchange) and of nats' sublist levels.
type node[D comparable] struct {
	parent *node[D]
	word   string              // edge label from parent: a literal, "*" or "#"
	lit    map[string]*node[D] // literal-word edges
	star   *node[D]            // '*' edge: exactly one word
	hash   *node[D]            // '#' edge: zero or more words
	dests  destSet[D]          // destinations of the patterns ending here
	hashes int                 // '#' edges on the path from the root, this one included
	memo   bool                // a '#' node below another '#': walks memoise its states
}

func (n *node[D]) child(w string) *node[D] {
	switch w {
	case "*":
		return n.star
	case "#":
		return n.hash
	}
	return n.lit[w]
}

func (n *node[D]) addChild(w string) *node[D] {
	c := &node[D]{parent: n, word: w, hashes: n.hashes}
	if w == "#" {
		c.hashes++
		c.memo = c.hashes >= 2
	}
	switch w {
	case "*":
		n.star = c
	case "#":
		n.hash = c
	default:
		if n.lit == nil {
			n.lit = make(map[string]*node[D])
		}
		n.lit[w] = c
	}
	return c
}

func (n *node[D]) removeChild(w string) {
	switch w {
	case "*":
		n.star = nil
	case "#":
		n.hash = nil
	default:
		delete(n.lit, w)
		if len(n.lit) == 0 {
			n.lit = nil
		}
	}
}

func (n *node[D]) empty() bool {
	return n.dests.len() == 0 && len(n.lit) == 0 && n.star == nil && n.hash == nil
}

// insert returns the node for pattern, creating the path as needed.
func (n *node[D]) insert(pattern string) *node[D] {
	for _, w := range splitWords(pattern, nil) {
		c := n.child(w)
		if c == nil {
			c = n.addChild(w)
		}
		n = c
	}
	return n
}

// find returns the node for pattern, or nil.
func (n *node[D]) find(pattern string) *node[D] {
	for _, w := range splitWords(pattern, nil) {
		if n = n.child(w); n == nil {
			return nil
		}
	}
	return n
}

// prune removes n and its ancestors while they are empty, so that
// unbinding leaves no dead paths for Route to walk.
func (n *node[D]) prune() {
	for n.parent != nil && n.empty() {
		n.parent.removeChild(n.word)
		n = n.parent
	}
}

// splitWords appends the words of a routing key or binding pattern to buf,
// as RabbitMQ's split_topic_key_binary does: the empty string has no words
// at all, and otherwise every '.' separates two words, so empty words are
// words ("a..b" is "a", "", "b"; "." is two empty words).
func splitWords(key string, buf []string) []string {
	if key == "" {
		return buf
	}
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			buf = append(buf, key[start:i])
			start = i + 1
		}
	}
	return append(buf, key[start:])
}
