package broker

import (
	"errors"
	"sync"
	"time"

	"github.com/warrenmq/warren/broker/queue"
)

// queueTimers are a queue's two timers: message expiry (x-message-ttl and
// per-message expiration; one timer per queue, re-armed for the head's
// deadline, never one per message) and the x-expires lease.
type queueTimers struct {
	mu      sync.Mutex
	expiry  *time.Timer
	expAt   time.Time
	lease   *time.Timer
	stopped bool
}

// armExpiry is the queue's OnNextExpiry hook: it runs under the queue's
// lock, so it only (re)sets a timer.
func (q *Queue) armExpiry(at time.Time) {
	t := &q.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if t.expiry != nil && !t.expAt.IsZero() && !at.Before(t.expAt) && t.expiry.Stop() {
		// An earlier deadline is armed already; keep it.
		t.expiry.Reset(time.Until(t.expAt))
		return
	}
	t.expAt = at
	if t.expiry == nil {
		t.expiry = time.AfterFunc(time.Until(at), q.expireHead)
		return
	}
	t.expiry.Reset(time.Until(at))
}

func (q *Queue) expireHead() {
	q.timers.mu.Lock()
	q.timers.expAt = time.Time{}
	q.timers.mu.Unlock()
	q.ExpireHead(time.Now())
}

// armLease starts the x-expires countdown from the queue's last use.
func (q *Queue) armLease() {
	at, ok := q.ExpiresAt()
	if !ok {
		return
	}
	t := &q.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if t.lease != nil {
		t.lease.Stop()
	}
	t.lease = time.AfterFunc(time.Until(at), q.leaseExpired)
}

func (q *Queue) leaseExpired() {
	_, err := q.DeleteExpired(time.Now())
	switch {
	case err == nil:
		q.vhost.s.log.Debug().Str("queue", q.name).Msg("queue expired (x-expires)")
		q.vhost.unlinkQueue(q, nil)
	case errors.Is(err, queue.ErrInUse):
		q.armLease() // used since: count again from the last use
	}
}

func (q *Queue) stopTimers() {
	t := &q.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.expiry != nil {
		t.expiry.Stop()
	}
	if t.lease != nil {
		t.lease.Stop()
	}
}

// deadLetterEntries is the queue's OnDeadLetter hook: expired and
// overflowed messages, grouped by reason.
func (q *Queue) deadLetterEntries(dls []queue.DeadLetter) {
	var msgs []*queue.Message
	for i, d := range dls {
		msgs = append(msgs, d.Entry.Msg)
		if i == len(dls)-1 || dls[i+1].Reason != d.Reason {
			q.deadLetter(msgs, d.Reason.String())
			msgs = msgs[:0]
		}
	}
}
