package queue

import (
	"cmp"
	"errors"
	"slices"
	"sync"
)

// Errors returned by Queue methods. The broker maps them to AMQP replies.
var (
	// ErrExclusiveConsumer refuses a consumer because the queue has an
	// exclusive consumer, or because an exclusive consumer was asked for
	// while others exist: 403 ACCESS_REFUSED, "queue 'q' in vhost '/' in
	// exclusive use" in RabbitMQ's words.
	ErrExclusiveConsumer = errors.New("queue: in exclusive use")
	// ErrClosed is returned once the queue has been deleted; the broker
	// answers 404 NOT_FOUND, as for a queue that never existed.
	ErrClosed = errors.New("queue: closed")
	// ErrInUse refuses queue.delete with if-unused while consumers exist:
	// 406 PRECONDITION_FAILED.
	ErrInUse = errors.New("queue: in use")
	// ErrNotEmpty refuses queue.delete with if-empty while messages are
	// ready: 406 PRECONDITION_FAILED.
	ErrNotEmpty = errors.New("queue: not empty")
	// ErrSeqOrder refuses a Restore whose Seq is not above every Seq the
	// queue has already assigned.
	ErrSeqOrder = errors.New("queue: sequence out of order")
)

// Options are a queue's declared properties. The queue only records them;
// the broker enforces what they mean (exclusive owner, auto-delete after the
// last consumer, durability in the store) and keeps the x-arguments itself.
type Options struct {
	Name       string
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	// Limits are x-max-length, x-max-length-bytes and x-overflow; nil
	// means unlimited.
	Limits *Limits
	// Paging, if set, bounds the messages held in memory.
	Paging *Paging
	// OnRemove, if set, is called under the queue's lock for each ready
	// entry removed without being delivered (purge, drop-head), so that
	// the broker can delete its stored copy. It must not block or call
	// back into the queue.
	OnRemove func(e *Entry)
}

// Limits bound a queue's ready messages, as RabbitMQ's x-max-length and
// x-max-length-bytes do. Only ready messages count, not unacked ones.
type Limits struct {
	// MaxLength and MaxBytes are the limits; a negative value means none.
	MaxLength int64
	MaxBytes  int64
	// RejectPublish refuses a new message that does not fit (x-overflow
	// reject-publish: the publisher gets basic.nack); otherwise the oldest
	// ready messages are dropped to make room (drop-head, the default).
	RejectPublish bool
}

// ErrOverflow is returned by Offer when a reject-publish queue is full.
var ErrOverflow = errors.New("queue: full")

// Queue is one AMQP queue. All its state is guarded by one mutex and every
// method is safe for concurrent use. See the package documentation for the
// lock order.
type Queue struct {
	opts Options // immutable after New

	mu        sync.Mutex
	ready     deque // sorted by Seq
	bytes     int   // sum of Msg.Size() over ready
	lastSeq   uint64
	tail      paged // messages that live only in the store
	consumers []*Consumer
	next      int  // round-robin cursor: the index in consumers to try first
	exclusive bool // an exclusive consumer holds the queue
	closed    bool
}

// New returns an empty queue.
func New(opts Options) *Queue {
	return &Queue{opts: opts}
}

// Name returns the queue's name. It needs no lock: options never change.
func (q *Queue) Name() string { return q.opts.Name }

// Options returns the options the queue was created with.
func (q *Queue) Options() Options { return q.opts }

// Publish appends m with the next Seq and dispatches, which may deliver it
// (or older entries) to a consumer through Sink.Deliver before Publish
// returns. It returns m's entry in this queue, or nil if the queue has been
// closed, in which case the message is dropped, as for a message routed to a
// queue that is being deleted.
func (q *Queue) Publish(m *Message) *Entry {
	e, _ := q.Offer(m)
	return e
}

// Offer is Publish that reports why a message was not queued: ErrClosed
// for a deleted queue, ErrOverflow for a full reject-publish queue. On a
// full drop-head queue the oldest ready messages are dropped instead.
func (q *Queue) Offer(m *Message) (*Entry, error) {
	return q.OfferWith(m, nil)
}

// OfferWith is Offer that calls onQueued (if not nil) under the queue's
// lock once the entry has its Seq and before it can be delivered. The
// broker appends persistent messages to the store there: an ack, and so
// the store delete, can then never overtake the append.
func (q *Queue) OfferWith(m *Message, onQueued func(e *Entry)) (*Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	if l := q.opts.Limits; l != nil {
		if !q.makeRoom(l, m.Size()) {
			if l.RejectPublish {
				return nil, ErrOverflow
			}
			return nil, nil // accepted, and dropped at once from the head
		}
	}
	q.lastSeq++
	e := &Entry{Msg: m, Seq: q.lastSeq}
	if q.pageFull() {
		// The entry is not kept: a page-in rebuilds it from the store.
		if onQueued != nil {
			onQueued(e)
		}
		q.pageOut(e)
		return e, nil
	}
	q.push(e)
	if onQueued != nil {
		onQueued(e)
	}
	q.dispatch()
	return e, nil
}

// makeRoom applies the limits for a message of size bytes: it reports
// whether the message may be queued, dropping heads if that is the policy.
//
// hook: dropped heads are dead-lettered (reason maxlen) once DLX exists.
func (q *Queue) makeRoom(l *Limits, size int) bool {
	fits := func() bool {
		return (l.MaxLength < 0 || int64(q.ready.len()+q.tail.count)+1 <= l.MaxLength) &&
			(l.MaxBytes < 0 || int64(q.bytes+q.tail.bytes+size) <= l.MaxBytes)
	}
	if fits() {
		return true
	}
	if l.RejectPublish {
		return false
	}
	for !fits() && (q.ready.len() > 0 || q.refill()) {
		q.removed(q.pop())
	}
	// A message that alone exceeds the limit is dropped as well, as
	// RabbitMQ does (it is queued and at once dropped from the head).
	return fits()
}

// Restore appends a message recovered from the store at start-up, with the
// Seq it was stored under, marked redelivered (the broker cannot know
// whether it had been delivered before the restart). Messages must be
// restored in Seq order; later Publishes continue after the highest Seq.
func (q *Queue) Restore(m *Message, seq uint64) (*Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	if seq <= q.lastSeq {
		return nil, ErrSeqOrder
	}
	q.lastSeq = seq
	e := &Entry{Msg: m, Seq: seq, Redelivered: true}
	q.push(e)
	q.dispatch()
	return e, nil
}

// Get is basic.get: it pops the first ready entry and counts the delivery.
// The caller records it as unacked unless no-ack was asked for. It reports
// false when no message is ready.
func (q *Queue) Get() (*Entry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ready.len() == 0 && !q.refill() {
		return nil, false
	}
	e := q.pop()
	e.DeliveryCount++
	return e, true
}

// Requeue puts delivered entries back at their original positions (by Seq)
// with Redelivered set, then dispatches: for basic.nack and basic.reject
// with requeue, basic.recover, and a channel that closed with unacked
// messages. It sorts es in place. The entries must have come from this
// queue and must not be ready already. Credit is not the queue's business:
// the broker releases the consumers' limiters itself.
//
// Requeued entries are usually older than everything ready, so this is
// usually k pushes at the front; the general case is one merge that moves
// the shorter side of the ready list, not one insertion per entry.
func (q *Queue) Requeue(es []*Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(es) == 0 {
		return
	}
	if !slices.IsSortedFunc(es, bySeq) {
		slices.SortFunc(es, bySeq)
	}
	for _, e := range es {
		e.Redelivered = true
		q.bytes += e.Msg.Size()
	}
	q.ready.merge(es)
	q.dispatch()
}

func bySeq(a, b *Entry) int { return cmp.Compare(a.Seq, b.Seq) }

// Purge is queue.purge: it drops every ready message and returns how many.
// Delivered, unacked messages are not touched; if they are requeued later,
// they come back.
func (q *Queue) Purge() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.ready.len() + q.tail.count
	if q.opts.OnRemove != nil {
		for q.ready.len() > 0 {
			q.removed(q.pop())
		}
	}
	if q.tail.count > 0 {
		q.opts.Paging.Pager.DropRange(q.tail.from, q.lastSeq)
		q.tail = paged{}
	}
	q.ready.clear()
	q.bytes = 0
	return n
}

// Len is the number of ready messages: message-count in queue.declare-ok
// and basic.get-ok. Unacked messages are not counted, as in RabbitMQ.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready.len() + q.tail.count
}

// Bytes is the total body size of the ready messages.
func (q *Queue) Bytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes + q.tail.bytes
}

// Stats is a consistent snapshot of a queue's counters, taken under one
// lock, for queue.declare-ok (message and consumer counts together) and the
// management API.
type Stats struct {
	Ready     int // ready messages
	Bytes     int // body bytes of the ready messages
	Consumers int
}

// Stats returns the counters in one snapshot.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Ready: q.ready.len() + q.tail.count, Bytes: q.bytes + q.tail.bytes, Consumers: len(q.consumers)}
}

// Delete is queue.delete: it checks if-unused (no consumers) and if-empty
// (no ready messages) and closes the queue in the same critical section, so
// that no consumer or message slips in between the check and the delete.
// It returns the consumers, to whom the broker sends basic.cancel, and the
// number of ready messages dropped (delete-ok's message-count). Later
// Publishes are dropped, AddConsumer and Restore fail with ErrClosed, and
// Requeue discards what it is given.
func (q *Queue) Delete(ifUnused, ifEmpty bool) ([]*Consumer, int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, 0, ErrClosed
	}
	if ifUnused && len(q.consumers) > 0 {
		return nil, 0, ErrInUse
	}
	if ifEmpty && q.ready.len()+q.tail.count > 0 {
		return nil, 0, ErrNotEmpty
	}
	// The stored tail goes with the queue (the broker deletes the
	// queue's messages in the store).
	cs, n := q.consumers, q.ready.len()+q.tail.count
	q.tail = paged{}
	q.consumers, q.next, q.exclusive = nil, 0, false
	q.ready.clear()
	q.bytes = 0
	q.closed = true
	return cs, n, nil
}

// Close deletes the queue unconditionally (Delete without if-unused or
// if-empty, or the deletion of an exclusive queue with its connection) and
// returns its consumers. Closing a closed queue returns nil.
func (q *Queue) Close() []*Consumer {
	cs, _, _ := q.Delete(false, false)
	return cs
}

// removed reports an entry dropped without delivery to OnRemove.
func (q *Queue) removed(e *Entry) {
	if q.opts.OnRemove != nil {
		q.opts.OnRemove(e)
	}
}

// push appends e to the ready list.
//
// hook: length limits (x-max-length, x-max-length-bytes with drop-head or
// reject-publish) are checked here, and paging bodies out to the store
// beyond a memory threshold starts here.
func (q *Queue) push(e *Entry) {
	q.ready.pushBack(e)
	q.bytes += e.Msg.Size()
}

// pop removes the first ready entry; the ready list must not be empty.
//
// hook: TTL expiry drops expired heads here (RabbitMQ expires only at the
// head), and a paged-out body is read back here.
func (q *Queue) pop() *Entry {
	e := q.ready.popFront()
	q.bytes -= e.Msg.Size()
	return e
}
