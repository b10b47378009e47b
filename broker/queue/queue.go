package queue

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"time"
)

// Errors returned by Queue methods. The broker maps them to AMQP replies.
var (
	// ErrExclusiveConsumer refuses a consumer because the queue has an
	// exclusive consumer, or because an exclusive consumer was asked for
	// while others exist, or on a single-active-consumer queue: 403
	// ACCESS_REFUSED, "queue 'q' in vhost '/' in exclusive use" in
	// RabbitMQ's words.
	ErrExclusiveConsumer = errors.New("queue: in exclusive use")
	// ErrClosed is returned once the queue has been deleted; the broker
	// answers 404 NOT_FOUND, as for a queue that never existed.
	ErrClosed = errors.New("queue: closed")
	// ErrInUse refuses queue.delete with if-unused while consumers exist:
	// 406 PRECONDITION_FAILED. DeleteExpired returns it for a queue that
	// is in use or whose x-expires lease has not run out.
	ErrInUse = errors.New("queue: in use")
	// ErrNotEmpty refuses queue.delete with if-empty while messages are
	// ready: 406 PRECONDITION_FAILED.
	ErrNotEmpty = errors.New("queue: not empty")
	// ErrSeqOrder refuses a Restore whose Seq is not above every Seq the
	// queue has already assigned.
	ErrSeqOrder = errors.New("queue: sequence out of order")
	// ErrNoPaging refuses RestorePaged on a queue that does not page (a
	// priority queue); ShouldPage is false for it, so recovery that asks
	// first never sees this.
	ErrNoPaging = errors.New("queue: does not page")
)

// Options are a queue's declared properties. The queue only records them;
// the broker enforces what they mean (exclusive owner, auto-delete after the
// last consumer, durability in the store) and keeps the x-arguments itself.
//
// The zero value of every field added for RabbitMQ's extensions means the
// extension is off, so Options{Name: "q"} is a plain FIFO queue.
type Options struct {
	Name       string
	Durable    bool
	Exclusive  bool
	AutoDelete bool
	// Limits are x-max-length, x-max-length-bytes and x-overflow; nil
	// means unlimited.
	Limits *Limits
	// Paging, if set, bounds the messages held in memory. Priority queues
	// ignore it (see prioReady).
	Paging *Paging
	// OnRemove, if set, is called under the queue's lock for each ready
	// entry removed without being delivered (purge, drop-head, expiry),
	// so that the broker can delete its stored copy. It must not block or
	// call back into the queue.
	OnRemove func(e *Entry)

	// MessageTTL is x-message-ttl: how long a message may stay ready in
	// this queue, from its arrival (Message.ArrivedAt, or the queue's
	// clock when it enters). nil means no TTL; a pointer because 0 is
	// meaningful: the message expires at once unless a consumer can take
	// it immediately (RabbitMQ ttl.md). The per-message deadline
	// (Message.ExpiresAt) applies as well; the earlier one wins.
	MessageTTL *time.Duration
	// Expires is x-expires: how long the queue may stay unused before the
	// broker deletes it (Unused, ExpiresAt, DeleteExpired). 0 means never.
	Expires time.Duration
	// MaxPriority is x-max-priority (1-255): the queue delivers higher
	// Message.Priority first, FIFO within a priority. 0 is an ordinary
	// queue.
	MaxPriority uint8
	// SingleActiveConsumer is x-single-active-consumer: only one consumer
	// receives at a time (ActiveConsumer).
	SingleActiveConsumer bool
	// Now is the clock for TTL and x-expires; nil means time.Now. Tests
	// inject a fake one: the queue never sleeps and starts no timers.
	Now func() time.Time
	// OnDeadLetter, if set, receives the entries that left the queue
	// without delivery for a reason that dead-letters: expiry (ReasonExpired)
	// and x-max-length drop-head or reject-publish-dlx (ReasonMaxLen).
	// Purged and deleted messages are not dead-lettered, as in RabbitMQ.
	//
	// It is called after the queue's lock is released, on the goroutine
	// whose call removed them (a publish, a Get, an ack's Dispatch, the
	// broker's timer calling ExpireHead...), once per call, in the order
	// they left; OnRemove has been called for each already. It may call
	// back into this queue and publish to others (dead-lettering to the
	// dead-letter exchange), but it runs with whatever locks that caller
	// holds. The slice is the callee's to keep.
	OnDeadLetter func(dead []DeadLetter)
	// OnNextExpiry, if set, is called under the queue's lock when the
	// head's expiry deadline becomes earlier than the last one reported
	// (or there was none), so that the broker can (re)arm one timer per
	// queue (time.Timer.Reset) and call ExpireHead when it fires. It must
	// not block or call back into the queue.
	OnNextExpiry func(at time.Time)
}

// Limits bound a queue's ready messages, as RabbitMQ's x-max-length and
// x-max-length-bytes do. Only ready messages count, not unacked ones.
type Limits struct {
	// MaxLength and MaxBytes are the limits; a negative value means none.
	MaxLength int64
	MaxBytes  int64
	// RejectPublish refuses a new message that does not fit (x-overflow
	// reject-publish: the publisher gets basic.nack); otherwise the oldest
	// ready messages are dropped to make room (drop-head, the default),
	// and dead-lettered with reason maxlen.
	RejectPublish bool
	// RejectPublishDLX, with RejectPublish, is x-overflow
	// reject-publish-dlx: the refused message is also dead-lettered
	// (OnDeadLetter, ReasonMaxLen, an entry with Seq 0). Offer still
	// returns ErrOverflow: the publisher is nacked in both cases.
	RejectPublishDLX bool
}

// ErrOverflow is returned by Offer when a reject-publish queue is full.
var ErrOverflow = errors.New("queue: full")

// Queue is one AMQP queue. All its state is guarded by one mutex and every
// method is safe for concurrent use. See the package documentation for the
// lock order.
type Queue struct {
	opts  Options          // immutable after New
	clock func() time.Time // opts.Now or time.Now
	ttl   int64            // opts.MessageTTL in ns; -1 for none

	mu      sync.Mutex
	ready   deque      // sorted by Seq; unused by a priority queue
	prio    *prioReady // the ready list of a priority queue, else nil
	bytes   int        // sum of Msg.Size() over ready
	lastSeq uint64
	tail    paged // messages that live only in the store
	// via is OfferWith's argument while it runs (see Via).
	via       any
	consumers []*Consumer
	groups    []consumerGroup // consumers by x-priority, highest first
	active    *Consumer       // single active consumer
	exclusive bool            // an exclusive consumer holds the queue
	closed    bool

	expiring bool         // entries may have deadlines: check the head
	armed    int64        // deadline last reported to OnNextExpiry
	now      int64        // the clock, read once per call (nowNanos)
	lastUsed int64        // x-expires lease, Unix ns
	dead     []DeadLetter // for OnDeadLetter once the lock is released
}

// New returns an empty queue.
func New(opts Options) *Queue {
	q := &Queue{opts: opts, clock: opts.Now, ttl: -1}
	if q.clock == nil {
		q.clock = time.Now
	}
	if opts.MessageTTL != nil {
		q.ttl = max(int64(*opts.MessageTTL), 0)
		q.expiring = true
	}
	if opts.MaxPriority > 0 {
		q.prio = newPrioReady(opts.MaxPriority)
		q.opts.Paging = nil
	}
	if opts.Expires > 0 {
		q.lastUsed = q.clock().UnixNano()
	}
	return q
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
	return q.OfferWith(m, nil, nil)
}

// OfferWith is Offer that calls onQueued (if not nil) under the queue's
// lock once the entry has its Seq and before it can be delivered. The
// broker appends persistent messages to the store there: an ack, and so
// the store delete, can then never overtake the append.
//
// The order follows RabbitMQ's maybe_deliver_or_enqueue: a reject-publish
// queue refuses a message that would not fit, even if a consumer could
// take it; otherwise a message that finds nothing ready and a consumer
// with credit is delivered at once, without counting against the limits
// and without expiring (x-message-ttl 0 means "unless delivered
// immediately"); otherwise it is queued, drop-head makes room, and an
// expired head is dropped.
//
// via is handed to the Sink.Deliver calls this offer makes (see Via).
func (q *Queue) OfferWith(m *Message, onQueued func(e *Entry), via any) (*Entry, error) {
	q.mu.Lock()
	defer q.unlock()
	q.via = via
	if q.closed {
		return nil, ErrClosed
	}
	l := q.opts.Limits
	if l != nil && l.RejectPublish && !q.fits(l, m.Size()) {
		if l.RejectPublishDLX {
			q.deadLetter(&Entry{Msg: m}, ReasonMaxLen)
		}
		return nil, ErrOverflow
	}
	if len(q.consumers) > 0 && q.readyLen() == 0 && q.tail.count == 0 {
		if c := q.pick(); c != nil {
			q.lastSeq++
			e := &Entry{Msg: m, Seq: q.lastSeq}
			if q.ttl >= 0 || m.ExpiresAt != 0 {
				q.setDeadline(e)
			}
			if onQueued != nil {
				onQueued(e)
			}
			e.DeliveryCount++
			c.Sink.Deliver(q, c, e)
			return e, nil
		}
	}
	if l != nil && !l.RejectPublish && !q.makeRoom(l, m) {
		// Queued and at once dropped from the head, as RabbitMQ does
		// with a message larger than the byte limit on its own.
		q.deadLetter(&Entry{Msg: m}, ReasonMaxLen)
		return nil, nil
	}
	q.lastSeq++
	e := &Entry{Msg: m, Seq: q.lastSeq}
	if q.ttl >= 0 || m.ExpiresAt != 0 {
		q.setDeadline(e)
	}
	if q.pageFull() {
		// The entry is not kept: a page-in rebuilds it from the store.
		if onQueued != nil {
			onQueued(e)
		}
		q.pageOut(e)
		return e, nil
	}
	q.enqueue(e)
	if onQueued != nil {
		onQueued(e)
	}
	q.dispatch()
	return e, nil
}

// fits reports whether one more message of size bytes stays within l.
func (q *Queue) fits(l *Limits, size int) bool {
	return (l.MaxLength < 0 || int64(q.readyLen()+q.tail.count)+1 <= l.MaxLength) &&
		(l.MaxBytes < 0 || int64(q.bytes+q.tail.bytes+size) <= l.MaxBytes)
}

// makeRoom applies drop-head for m: it drops heads (dead-lettered, reason
// maxlen) until m fits and reports whether m may be queued. It is false
// when m itself would be dropped: when nothing else is left, or, in a
// priority queue, when m would be the head. RabbitMQ enqueues first and
// then drops from the head, so a message of a higher priority than
// everything ready is the one dropped (priority.md: "higher priority
// messages might be dropped to make way for lower priority ones").
func (q *Queue) makeRoom(l *Limits, m *Message) bool {
	for !q.fits(l, m.Size()) {
		if q.readyLen() == 0 && !q.refill() {
			return false
		}
		if q.prio != nil && int(q.prio.level(m)) > q.prio.top() {
			return false
		}
		q.drop(q.popHead(), ReasonMaxLen)
	}
	return true
}

// trim drops heads while the ready messages exceed l (drop-head only): a
// requeue can overfill a queue, and RabbitMQ's requeue_and_run calls
// maybe_drop_head, which may drop the requeued messages themselves.
func (q *Queue) trim(l *Limits) {
	for (l.MaxLength >= 0 && int64(q.readyLen()+q.tail.count) > l.MaxLength) ||
		(l.MaxBytes >= 0 && int64(q.bytes+q.tail.bytes) > l.MaxBytes) {
		if q.readyLen() == 0 && !q.refill() {
			return
		}
		q.drop(q.popHead(), ReasonMaxLen)
	}
}

// Restore appends a message recovered from the store at start-up, with the
// Seq it was stored under, marked redelivered (the broker cannot know
// whether it had been delivered before the restart). Messages must be
// restored in Seq order; later Publishes continue after the highest Seq.
//
// Its deadline is computed as on publish, from m.ExpiresAt and
// m.ArrivedAt (when the broker stored them) and x-message-ttl: an expired
// message is dropped, and dead-lettered, once it is at the head. Length
// limits are not applied here; they act again from the next publish or
// requeue.
func (q *Queue) Restore(m *Message, seq uint64) (*Entry, error) {
	q.mu.Lock()
	defer q.unlock()
	if q.closed {
		return nil, ErrClosed
	}
	if seq <= q.lastSeq {
		return nil, ErrSeqOrder
	}
	q.lastSeq = seq
	e := &Entry{Msg: m, Seq: seq, Redelivered: true}
	if q.ttl >= 0 || m.ExpiresAt != 0 {
		q.setDeadline(e)
	}
	q.enqueue(e)
	q.dispatch()
	return e, nil
}

// Get is basic.get: it pops the first ready entry and counts the delivery.
// The caller records it as unacked unless no-ack was asked for. It reports
// false when no message is ready. Expired heads are dropped first, and an
// x-expires lease is renewed.
func (q *Queue) Get() (*Entry, bool) {
	q.mu.Lock()
	defer q.unlock()
	if !q.closed {
		q.use()
	}
	var e *Entry
	if q.plain() {
		if q.ready.n == 0 && !q.refill() {
			return nil, false
		}
		e = q.pop()
	} else {
		if e = q.liveHead(); e == nil {
			return nil, false
		}
		q.popHead()
	}
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
//
// They keep their expiry deadlines. As in RabbitMQ's requeue_and_run, a
// drop-head queue that the requeue overfills drops from the head (which
// may be the requeued entries) before anything is delivered.
func (q *Queue) Requeue(es []*Entry) {
	q.mu.Lock()
	defer q.unlock()
	if q.closed || len(es) == 0 {
		return
	}
	for _, e := range es {
		e.Redelivered = true
		q.bytes += e.Msg.Size()
		if e.ExpiresAt != 0 {
			q.expiring = true
		}
	}
	if q.prio != nil {
		q.prio.merge(es)
	} else {
		if !slices.IsSortedFunc(es, bySeq) {
			slices.SortFunc(es, bySeq)
		}
		q.ready.merge(es)
	}
	if l := q.opts.Limits; l != nil && !l.RejectPublish {
		q.trim(l)
	}
	q.dispatch()
}

func bySeq(a, b *Entry) int { return cmp.Compare(a.Seq, b.Seq) }

// Purge is queue.purge: it drops every ready message and returns how many.
// Delivered, unacked messages are not touched; if they are requeued later,
// they come back. Purged messages are not dead-lettered.
func (q *Queue) Purge() int {
	q.mu.Lock()
	defer q.unlock()
	n := q.readyLen() + q.tail.count
	if q.opts.OnRemove != nil {
		for q.readyLen() > 0 {
			q.removed(q.popHead())
		}
	}
	if q.tail.count > 0 {
		q.opts.Paging.Pager.DropRange(q.tail.from, q.lastSeq)
		q.tail = paged{}
	}
	q.clearReady()
	return n
}

// Len is the number of ready messages: message-count in queue.declare-ok
// and basic.get-ok. Unacked messages are not counted, as in RabbitMQ.
// Expired messages not yet dropped (behind a live head) are counted, as
// in RabbitMQ.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.readyLen() + q.tail.count
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
	return Stats{Ready: q.readyLen() + q.tail.count, Bytes: q.bytes + q.tail.bytes, Consumers: len(q.consumers)}
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
	if ifEmpty && q.readyLen()+q.tail.count > 0 {
		return nil, 0, ErrNotEmpty
	}
	cs, n := q.closeLocked()
	return cs, n, nil
}

// closeLocked closes the queue and returns its consumers and the number of
// ready messages dropped. The stored tail goes with the queue (the broker
// deletes the queue's messages in the store).
func (q *Queue) closeLocked() ([]*Consumer, int) {
	cs, n := q.consumers, q.readyLen()+q.tail.count
	q.tail = paged{}
	q.consumers, q.groups, q.active, q.exclusive = nil, nil, nil, false
	q.clearReady()
	q.closed = true
	return cs, n
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

// readyLen is the number of ready entries in memory.
func (q *Queue) readyLen() int {
	if q.prio != nil {
		return q.prio.n
	}
	return q.ready.n
}

// peek returns the head in memory, or nil; it never pages in.
func (q *Queue) peek() *Entry {
	if q.prio != nil {
		return q.prio.head()
	}
	if q.ready.n == 0 {
		return nil
	}
	return q.ready.at(0)
}

// head returns the head, reading the next batch of a paged tail back
// into memory if need be, or nil when nothing is ready.
func (q *Queue) head() *Entry {
	if q.readyLen() == 0 && !q.refill() {
		return nil
	}
	return q.peek()
}

// plain reports that the FIFO fast paths apply: not a priority queue, and
// no ready entry has a deadline. The hot paths (Get, dispatch, publish)
// branch on it once and then use the inlined FIFO push and pop, so that a
// queue without priorities or TTL runs the code it ran before them.
func (q *Queue) plain() bool { return q.prio == nil && !q.expiring }

// enqueue appends e to the ready list (its level's, in a priority queue).
func (q *Queue) enqueue(e *Entry) {
	if q.prio == nil {
		q.push(e)
		return
	}
	q.prio.pushBack(e)
	q.bytes += e.Msg.Size()
}

// push appends e to the FIFO ready list.
func (q *Queue) push(e *Entry) {
	q.ready.pushBack(e)
	q.bytes += e.Msg.Size()
}

// pop removes the first entry of the FIFO ready list, which must not be
// empty.
func (q *Queue) pop() *Entry {
	e := q.ready.popFront()
	q.bytes -= e.Msg.Size()
	return e
}

// popHead removes the head; the ready list must not be empty.
func (q *Queue) popHead() *Entry {
	if q.prio == nil {
		return q.pop()
	}
	e := q.prio.popFront()
	q.bytes -= e.Msg.Size()
	return e
}

// clearReady drops every ready entry without reporting them.
func (q *Queue) clearReady() {
	if q.prio != nil {
		q.prio.clear()
	}
	q.ready.clear()
	q.bytes = 0
}
