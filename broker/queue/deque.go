package queue

// minCap is the smallest buffer the deque keeps once it has one. An idle,
// empty queue holds minCap pointers; a queue that oscillates between empty
// and one message does not reallocate.
const minCap = 8

// deque is the ready list: a ring buffer of entries kept sorted by Seq.
//
// The capacity is a power of two so that an index wraps with a mask. It
// doubles when full and halves when a quarter full, so a queue that held a
// million messages and drained gives the memory back, and a slot popped
// from the front is cleared at once so that its message can be collected.
// (A slice re-sliced from the front, q = q[1:], would pin both.)
type deque struct {
	buf  []*Entry // len(buf) is 0 or a power of two
	head int      // index in buf of the first entry
	n    int      // number of entries
}

func (d *deque) len() int { return d.n }

// at returns the i-th entry from the front; 0 <= i < n.
func (d *deque) at(i int) *Entry { return d.buf[(d.head+i)&(len(d.buf)-1)] }

func (d *deque) set(i int, e *Entry) { d.buf[(d.head+i)&(len(d.buf)-1)] = e }

func (d *deque) pushBack(e *Entry) {
	d.reserve(d.n + 1)
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = e
	d.n++
}

func (d *deque) popFront() *Entry {
	e := d.buf[d.head]
	d.buf[d.head] = nil
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	// Halve at a quarter full rather than at half, so that a queue hovering
	// around a boundary does not reallocate on every push and pop.
	if len(d.buf) > minCap && d.n <= len(d.buf)/4 {
		d.resize(len(d.buf) / 2)
	}
	return e
}

// reserve makes room for m entries.
func (d *deque) reserve(m int) {
	if m <= len(d.buf) {
		return
	}
	c := max(len(d.buf), minCap)
	for c < m {
		c *= 2
	}
	d.resize(c)
}

// resize moves the entries to a new buffer of c slots (a power of two,
// c >= n), unwrapped so that head becomes 0.
func (d *deque) resize(c int) {
	nb := make([]*Entry, c)
	if d.n > 0 {
		end := d.head + d.n
		if end <= len(d.buf) {
			copy(nb, d.buf[d.head:end])
		} else {
			k := copy(nb, d.buf[d.head:])
			copy(nb[k:], d.buf[:end-len(d.buf)])
		}
	}
	d.buf, d.head = nb, 0
}

// clear drops every entry and the buffer with them; a purged queue starts
// again from nothing.
func (d *deque) clear() {
	*d = deque{}
}

// search returns the index of the first entry at or after lo whose Seq is
// at least seq, or n if there is none. The deque is sorted by Seq, so this
// is a binary search.
func (d *deque) search(lo int, seq uint64) int {
	hi := d.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if d.at(mid).Seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// merge inserts es, which must be sorted by Seq and hold no Seq already in
// the deque, at their positions by Seq. It costs O(len(es)) plus the number
// of entries that have to move, and it moves the shorter side:
//
//	ready:  a a a [p ........ q) z z
//	es:             x   x   x
//
// Entries before p (below every x) stay put if the merge opens room at the
// back and shifts [p, n) right; entries from q on (above every x) stay put
// if it opens room at the front and shifts [0, q) left. The common case of a
// requeue, entries older than everything ready, has p = q = 0 and moves
// nothing: it is k pushes at the front.
func (d *deque) merge(es []*Entry) {
	k := len(es)
	if k == 0 {
		return
	}
	n := d.n
	p := d.search(0, es[0].Seq)
	q := d.search(p, es[k-1].Seq)
	d.reserve(n + k)
	mask := len(d.buf) - 1
	if q <= n-p {
		// Open k slots at the front; old entry i is now at index i+k.
		d.head = (d.head - k) & mask
		d.n += k
		i, w := k, 0
		for j := 0; j < k; w++ {
			if i < n+k && d.at(i).Seq < es[j].Seq {
				d.set(w, d.at(i))
				i++
			} else {
				d.set(w, es[j])
				j++
			}
		}
		// Once es is used up, w == i: the rest is already in place.
		return
	}
	// Open k slots at the back and merge from the end.
	d.n += k
	i, w := n-1, n+k-1
	for j := k - 1; j >= 0; w-- {
		if i >= p && d.at(i).Seq > es[j].Seq {
			d.set(w, d.at(i))
			i--
		} else {
			d.set(w, es[j])
			j--
		}
	}
}
