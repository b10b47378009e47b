package queue

import (
	"math"
	"time"
)

// Reason is why a message left a queue without being delivered, as the
// "reason" of RabbitMQ's x-death header.
type Reason uint8

const (
	// ReasonMaxLen: dropped from the head by x-max-length or
	// x-max-length-bytes (drop-head), or refused by reject-publish-dlx.
	ReasonMaxLen Reason = iota + 1
	// ReasonExpired: its per-message or per-queue TTL ran out.
	ReasonExpired
	// ReasonRejected is never produced by the queue: it names basic.reject
	// and basic.nack with requeue=false, which the broker dead-letters
	// itself, so that one type covers every x-death reason.
	ReasonRejected
)

// String returns the reason as x-death spells it.
func (r Reason) String() string {
	switch r {
	case ReasonMaxLen:
		return "maxlen"
	case ReasonExpired:
		return "expired"
	case ReasonRejected:
		return "rejected"
	}
	return "unknown"
}

// DeadLetter is an entry that left the queue without delivery, for the
// broker to dead-letter (Options.OnDeadLetter).
//
// Entry.Seq is 0 for a message that never entered the queue: refused by
// reject-publish-dlx, or larger on its own than x-max-length-bytes. Such
// an entry has no stored copy in this queue.
type DeadLetter struct {
	Entry  *Entry
	Reason Reason
}

// deadline is the expiry deadline of m on entering this queue (Unix ns,
// 0 = never): min(per-message deadline, arrival + x-message-ttl). The
// arrival is m.ArrivedAt when the broker set it, or now.
func (q *Queue) deadline(m *Message) int64 {
	exp := m.ExpiresAt
	if q.ttl >= 0 {
		base := m.ArrivedAt
		if base == 0 {
			base = q.nowNanos()
		}
		d := base + q.ttl
		if d < base {
			d = math.MaxInt64 // a TTL of centuries: never, in practice
		}
		if exp == 0 || d < exp {
			exp = d
		}
	}
	return exp
}

func (q *Queue) setDeadline(e *Entry) {
	e.ExpiresAt = q.deadline(e.Msg)
	if e.ExpiresAt != 0 {
		q.expiring = true
	}
}

// nowNanos is the queue's clock, read at most once per call into the
// queue (the value is kept until unlock), so that one dispatch loop sees
// one instant and a queue without TTL never reads the clock.
func (q *Queue) nowNanos() int64 {
	if q.now == 0 {
		q.now = q.clock().UnixNano()
	}
	return q.now
}

// expired reports whether e is past its deadline: RabbitMQ drops a message
// once Now >= Expiry.
func (q *Queue) expired(e *Entry) bool {
	return e.ExpiresAt != 0 && q.nowNanos() >= e.ExpiresAt
}

// liveHead returns the head that may be delivered, after dropping (and
// dead-lettering, reason expired) the expired entries before it; nil when
// nothing is ready. RabbitMQ expires only at the head: an expired entry
// behind a live one stays, and counts, until it reaches the head.
func (q *Queue) liveHead() *Entry {
	for {
		e := q.head()
		if e == nil || e.ExpiresAt == 0 || !q.expired(e) {
			return e
		}
		q.popHead()
		q.drop(e, ReasonExpired)
	}
}

// drop reports a ready entry removed without delivery: OnRemove (its
// stored copy goes) and, for a reason that dead-letters, OnDeadLetter.
func (q *Queue) drop(e *Entry, r Reason) {
	q.removed(e)
	q.deadLetter(e, r)
}

// deadLetter queues e for OnDeadLetter, which unlock calls once the lock
// is released.
func (q *Queue) deadLetter(e *Entry, r Reason) {
	if q.opts.OnDeadLetter != nil {
		q.dead = append(q.dead, DeadLetter{Entry: e, Reason: r})
	}
}

// unlock ends every call that may change the queue. Still under the lock,
// it drops expired heads and reports an earlier head deadline to
// OnNextExpiry; then it releases the lock and hands what was dropped to
// OnDeadLetter. A call that read no clock on a queue without TTL and
// dropped nothing pays three loads.
func (q *Queue) unlock() {
	q.via = nil
	if !q.expiring && q.dead == nil && q.now == 0 {
		q.mu.Unlock()
		return
	}
	if q.expiring && !q.closed {
		q.liveHead()
		q.reportExpiry()
		if q.ttl < 0 && q.readyLen() == 0 && q.tail.count == 0 {
			q.expiring = false // until an entry with a deadline comes
		}
	}
	q.now = 0
	dead := q.dead
	if dead != nil {
		q.dead = nil
	}
	q.mu.Unlock()
	if dead != nil {
		q.opts.OnDeadLetter(dead)
	}
}

// reportExpiry tells OnNextExpiry about the head's deadline when it is
// earlier than the one reported last, so that one timer per queue always
// fires in time. A deadline that moved later needs no report: the timer
// fires early, ExpireHead finds nothing to drop, and reports the next one.
func (q *Queue) reportExpiry() {
	if q.opts.OnNextExpiry == nil {
		return
	}
	h := q.peek()
	if h == nil || h.ExpiresAt == 0 {
		return
	}
	if q.armed == 0 || h.ExpiresAt < q.armed {
		q.armed = h.ExpiresAt
		q.opts.OnNextExpiry(time.Unix(0, h.ExpiresAt))
	}
}

// NextExpiry returns the deadline of the head, the only entry RabbitMQ
// expires, so that the broker can arm one timer per queue: at that
// instant, ExpireHead drops it. ok is false when nothing is ready or the
// head never expires. Entries in a paged tail are not looked at until
// they are read back (see ExpireHead).
//
// In a priority queue the head is the oldest entry of the highest
// non-empty priority; expired entries of lower priorities wait behind it,
// as RabbitMQ's priority.md warns.
func (q *Queue) NextExpiry() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.peek()
	if h == nil || h.ExpiresAt == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, h.ExpiresAt), true
}

// ExpireHead is the timer's work: it drops the expired entries at the head
// (as of now) and returns how many. Each goes to OnRemove and then, after
// the lock is released, to OnDeadLetter with ReasonExpired. OnNextExpiry
// then hears of the new head's deadline, if any, even if it is not earlier
// than the one that fired: the broker re-arms from that call.
//
// Expired entries are also dropped without a timer whenever they reach the
// head during a delivery, a Get, a publish, a requeue or a consumer
// change, and are never delivered. When the in-memory part of a paged
// queue runs empty, the next batch is read back and checked in turn: a
// paged entry expires when it is paged in.
func (q *Queue) ExpireHead(now time.Time) int {
	q.mu.Lock()
	defer q.unlock()
	if q.closed {
		return 0
	}
	q.armed = 0
	q.now = now.UnixNano()
	n := 0
	for {
		e := q.head()
		if e == nil || !q.expired(e) {
			return n
		}
		q.popHead()
		q.drop(e, ReasonExpired)
		n++
	}
}

// Touch renews the x-expires lease: the broker calls it for queue.declare
// (passive or not) of an existing queue, as RabbitMQ's declare "renews the
// lease". AddConsumer, RemoveConsumer and Get renew it themselves.
func (q *Queue) Touch(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lastUsed = now.UnixNano()
}

// use renews the lease with the queue's clock. Called with q.mu held.
func (q *Queue) use() {
	if q.opts.Expires > 0 {
		q.lastUsed = q.nowNanos()
	}
}

// Unused reports since when the queue has been unused in the sense of
// x-expires: no consumers, and no Touch, Get or consumer change since.
// ok is false while a consumer exists, after Delete, and for a queue
// without Options.Expires (whose lease is not tracked).
func (q *Queue) Unused() (since time.Time, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.opts.Expires <= 0 || q.closed || len(q.consumers) > 0 {
		return time.Time{}, false
	}
	return time.Unix(0, q.lastUsed), true
}

// ExpiresAt is when the unused queue may be deleted: Unused's since plus
// Options.Expires. The broker arms a timer for it when the queue is
// created without consumers and when RemoveConsumer reports none left;
// when the timer fires it calls DeleteExpired, and if that refuses
// (ErrInUse: the lease was renewed), re-arms for ExpiresAt again.
func (q *Queue) ExpiresAt() (time.Time, bool) {
	since, ok := q.Unused()
	if !ok {
		return time.Time{}, false
	}
	return since.Add(q.opts.Expires), true
}

// DeleteExpired is Delete for x-expires: it deletes the queue if it has
// been unused for at least Options.Expires as of now, checking and closing
// in one critical section, so that a consumer or a Get arriving at the
// same moment either renews the lease first or finds the queue gone. It
// returns the number of ready messages dropped, ErrInUse if the queue is
// in use or its lease has not run out, and ErrClosed after Delete.
func (q *Queue) DeleteExpired(now time.Time) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, ErrClosed
	}
	if q.opts.Expires <= 0 || len(q.consumers) > 0 ||
		now.UnixNano()-q.lastUsed < int64(q.opts.Expires) {
		return 0, ErrInUse
	}
	_, n := q.closeLocked()
	return n, nil
}
