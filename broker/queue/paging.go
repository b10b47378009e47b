package queue

// Paging keeps a long queue's memory bounded: once more than MaxMessages
// (or MaxBytes of bodies) are ready in memory, new messages go to a tail
// that lives only in the store, counted but not held. When the in-memory
// part runs empty the next batch is read back, in order. Only the tail is
// paged: the head stays in memory, where dispatch, requeue and drop-head
// work on it as before.
//
// TTL: a paged entry's deadline is rebuilt from its message when it is read
// back (Message.ExpiresAt and ArrivedAt; without ArrivedAt, x-message-ttl
// counts from the page-in), and it expires like any other once it reaches
// the head. ExpireHead reads the next batch back when the in-memory part
// has expired entirely. A priority queue does not page (see prioReady).
type Paging struct {
	Pager       Pager
	MaxMessages int
	MaxBytes    int
	// Batch is how many messages one page-in reads (default 1024).
	Batch int
}

// Pager moves messages between the queue and the store. Its methods are
// called with the queue's lock held: PageOut must only enqueue a write;
// PageIn reads (it may wait for pending writes of this queue first).
type Pager interface {
	// PageOut makes sure m is stored as seq (persistent messages of a
	// durable queue already are).
	PageOut(seq uint64, m *Message)
	// PageIn calls fn for up to max stored messages with Seq >= from, in
	// Seq order.
	PageIn(from uint64, max int, fn func(seq uint64, m *Message)) error
	// DropRange deletes the stored messages with from <= Seq <= to.
	DropRange(from, to uint64)
}

// paged is the store-only tail of a queue.
type paged struct {
	count int
	bytes int
	from  uint64 // the first Seq that may be in the tail
}

// pageFull reports whether a new message must go to the tail: once the
// tail exists, everything goes there, to keep the order.
func (q *Queue) pageFull() bool {
	p := q.opts.Paging
	if p == nil {
		return false
	}
	return q.tail.count > 0 || q.ready.len() >= p.MaxMessages || (p.MaxBytes > 0 && q.bytes >= p.MaxBytes)
}

// pageOut sends e's message to the tail instead of memory.
func (q *Queue) pageOut(e *Entry) {
	if q.tail.count == 0 {
		q.tail.from = e.Seq
	}
	q.tail.count++
	q.tail.bytes += e.Msg.Size()
	q.opts.Paging.Pager.PageOut(e.Seq, e.Msg)
}

// refill reads the next batch of the tail into memory; it reports whether
// anything is ready afterwards.
func (q *Queue) refill() bool {
	if q.tail.count == 0 {
		return q.ready.len() > 0
	}
	p := q.opts.Paging
	batch := p.Batch
	if batch <= 0 {
		batch = 1024
	}
	n := 0
	err := p.Pager.PageIn(q.tail.from, batch, func(seq uint64, m *Message) {
		n++
		e := &Entry{Msg: m, Seq: seq}
		if q.ttl >= 0 || m.ExpiresAt != 0 {
			// Rebuilt from the message: exact when the broker stored
			// ArrivedAt, else x-message-ttl counts from the page-in.
			q.setDeadline(e)
		}
		q.ready.pushBack(e)
		q.bytes += m.Size()
		q.tail.count--
		q.tail.bytes -= m.Size()
		q.tail.from = seq + 1
	})
	if (err == nil && n == 0) || q.tail.count <= 0 {
		// The store has nothing more: what the count promised was lost
		// to a failed write. Forget it rather than spin.
		q.tail = paged{}
	}
	return q.ready.len() > 0
}

// RestorePaged records a message recovered at start-up that stays in the
// store: the caller checks ShouldPage first and avoids decoding the body.
//
// A queue that does not page (no Options.Paging, or a priority queue)
// refuses with ErrNoPaging.
func (q *Queue) RestorePaged(seq uint64, size int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if q.opts.Paging == nil {
		return ErrNoPaging
	}
	if seq <= q.lastSeq {
		return ErrSeqOrder
	}
	q.lastSeq = seq
	if q.tail.count == 0 {
		q.tail.from = seq
	}
	q.tail.count++
	q.tail.bytes += size
	return nil
}

// ShouldPage reports whether the next message would go to the store-only
// tail, so recovery can skip decoding it.
func (q *Queue) ShouldPage() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pageFull()
}

// Paged is the number of messages in the store-only tail.
func (q *Queue) Paged() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tail.count
}
