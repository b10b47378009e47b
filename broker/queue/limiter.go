package queue

import "sync/atomic"

// Limiter is prefetch credit: the prefetch-count of basic.qos, counted in
// unacknowledged deliveries. A consumer holds a per-consumer limiter and, if
// the channel set a global qos, the channel's limiter too.
//
// It is lock-free because the queue calls it with its own lock held, and a
// channel's limiter is shared by consumers on different queues, which
// dispatch concurrently under different locks. The zero value is an
// unlimited limiter.
//
// RabbitMQ does not implement prefetch-size (byte credit); neither do we.
type Limiter struct {
	limit    atomic.Uint32 // 0 = unlimited
	inFlight atomic.Int64
}

// NewLimiter returns a limiter granting limit deliveries in flight; 0 means
// unlimited, as prefetch-count 0 does in basic.qos.
func NewLimiter(limit uint32) *Limiter {
	l := &Limiter{}
	l.limit.Store(limit)
	return l
}

// SetLimit changes the limit (a new basic.qos). Lowering it below the
// current in-flight count takes back no deliveries: no new credit is granted
// until enough are acknowledged. After raising it, the broker calls Dispatch
// on the queues that this limiter's consumers read from.
func (l *Limiter) SetLimit(n uint32) { l.limit.Store(n) }

// Limit reports the current limit (0 = unlimited).
func (l *Limiter) Limit() uint32 { return l.limit.Load() }

// TryAcquire takes one unit of credit. It returns false, taking nothing,
// when the limit is set and the in-flight count has reached it.
func (l *Limiter) TryAcquire() bool {
	for {
		cur := l.inFlight.Load()
		if lim := l.limit.Load(); lim != 0 && cur >= int64(lim) {
			return false
		}
		// A CAS rather than Add-then-check: two queues sharing a channel
		// limiter must not both take the last unit.
		if l.inFlight.CompareAndSwap(cur, cur+1) {
			return true
		}
	}
}

// Release returns n units of credit: on basic.ack, nack, reject or a requeue
// of n deliveries that TryAcquire granted. The count never drops below zero,
// so that a bookkeeping slip in the caller cannot turn into unlimited credit.
func (l *Limiter) Release(n int) {
	if n <= 0 {
		return
	}
	for {
		cur := l.inFlight.Load()
		next := cur - int64(n)
		if next < 0 {
			next = 0
		}
		if l.inFlight.CompareAndSwap(cur, next) {
			return
		}
	}
}

// InFlight reports the deliveries holding credit.
func (l *Limiter) InFlight() int { return int(l.inFlight.Load()) }
