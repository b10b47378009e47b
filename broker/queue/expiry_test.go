package queue_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker/queue"
)

// epoch is the fake clock's start: any fixed instant will do.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a fake Options.Now that moves only when told.
type clock struct{ t time.Time }

func newClock() *clock                    { return &clock{t: epoch} }
func (c *clock) Now() time.Time           { return c.t }
func (c *clock) advance(d time.Duration)  { c.t = c.t.Add(d) }
func (c *clock) at(d time.Duration) int64 { return epoch.Add(d).UnixNano() }

// deadLog records OnDeadLetter calls as "body:reason". It checks that the
// hook runs without the queue's lock by calling back into the queue.
type deadLog struct {
	q     *queue.Queue
	got   []string
	calls int
}

func (d *deadLog) hook(dead []queue.DeadLetter) {
	d.calls++
	if d.q != nil {
		d.q.Len() // would deadlock if the lock were held
	}
	for _, x := range dead {
		d.got = append(d.got, string(x.Entry.Msg.Body)+":"+x.Reason.String())
	}
}

func ttl(d time.Duration) *time.Duration { return &d }

// ttlQueue builds a queue on a fake clock that logs dead letters.
func ttlQueue(c *clock, opts queue.Options) (*queue.Queue, *deadLog) {
	d := &deadLog{}
	opts.Name = "q"
	opts.Now = c.Now
	opts.OnDeadLetter = d.hook
	q := queue.New(opts)
	d.q = q
	return q, d
}

// expiring is a message with a per-message TTL set the way the broker
// sets it: a deadline from the publish instant.
func expiring(c *clock, body string, d time.Duration) *queue.Message {
	return &queue.Message{Body: []byte(body), ExpiresAt: c.Now().Add(d).UnixNano()}
}

func getBodies(q *queue.Queue) []string {
	var out []string
	for {
		e, ok := q.Get()
		if !ok {
			return out
		}
		out = append(out, string(e.Msg.Body))
	}
}

// ttlOp is one step of a TTL script: advance the clock, then publish body
// (if any) with a per-message TTL (if msgTTL > 0).
type ttlOp struct {
	advance time.Duration
	body    string
	msgTTL  time.Duration
}

func TestMessageTTL(t *testing.T) {
	tests := []struct {
		name     string
		queueTTL *time.Duration
		ops      []ttlOp
		wantLen  int      // Len() after the script, before any Get
		wantGet  []string // what Get then returns, in order
		wantDead []string // everything dead-lettered, in order
	}{{
		name:     "queue ttl: all expire together",
		queueTTL: ttl(10 * time.Second),
		ops:      []ttlOp{{body: "a"}, {body: "b"}, {advance: 10 * time.Second}},
		wantLen:  2, // Len expires nothing; the next call drops both
		wantDead: []string{"a:expired", "b:expired"},
	}, {
		name:     "queue ttl counts from entering this queue",
		queueTTL: ttl(10 * time.Second),
		ops:      []ttlOp{{body: "a"}, {advance: 5 * time.Second, body: "b"}, {advance: 5 * time.Second}},
		wantLen:  2,
		wantGet:  []string{"b"},
		wantDead: []string{"a:expired"},
	}, {
		name:     "one nanosecond before the deadline is alive",
		queueTTL: ttl(10 * time.Second),
		ops:      []ttlOp{{body: "a"}, {advance: 10*time.Second - 1}},
		wantLen:  1,
		wantGet:  []string{"a"},
	}, {
		name:     "per-message ttl",
		ops:      []ttlOp{{body: "a", msgTTL: 5 * time.Second}, {body: "b"}, {advance: 5 * time.Second}},
		wantLen:  2,
		wantGet:  []string{"b"},
		wantDead: []string{"a:expired"},
	}, {
		name:     "the shorter of queue and message ttl: message",
		queueTTL: ttl(10 * time.Second),
		ops:      []ttlOp{{body: "a", msgTTL: 3 * time.Second}, {advance: 3 * time.Second}},
		wantLen:  1,
		wantDead: []string{"a:expired"},
	}, {
		name:     "the shorter of queue and message ttl: queue",
		queueTTL: ttl(10 * time.Second),
		ops:      []ttlOp{{body: "a", msgTTL: 30 * time.Second}, {advance: 10 * time.Second}},
		wantLen:  1,
		wantDead: []string{"a:expired"},
	}, {
		// ttl.md caveats: "Only when expired messages reach the head of
		// a queue will they actually be discarded": b expired first but
		// waits behind a, and is counted until then.
		name:     "expired entry behind a live head waits",
		ops:      []ttlOp{{body: "a"}, {body: "b", msgTTL: time.Second}, {advance: 2 * time.Second}},
		wantLen:  2,
		wantGet:  []string{"a"},
		wantDead: []string{"b:expired"},
	}, {
		name:     "ttl 0 without a consumer: expired on arrival",
		queueTTL: ttl(0),
		ops:      []ttlOp{{body: "a"}, {body: "b"}},
		wantLen:  0,
		wantDead: []string{"a:expired", "b:expired"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			q, dead := ttlQueue(c, queue.Options{MessageTTL: tt.queueTTL})
			for _, op := range tt.ops {
				c.advance(op.advance)
				if op.body == "" {
					continue
				}
				m := msg(op.body)
				if op.msgTTL > 0 {
					m = expiring(c, op.body, op.msgTTL)
				}
				q.Publish(m)
			}
			// Len does not expire anything: RabbitMQ counts an expired
			// message until it is dropped from the head.
			if got := q.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			mustEqual(t, "Get", getBodies(q), tt.wantGet)
			mustEqual(t, "dead letters", dead.got, tt.wantDead)
			if q.Len() != 0 {
				t.Fatalf("Len() = %d after draining", q.Len())
			}
		})
	}
}

// TestTTLZero: x-message-ttl 0 "causes messages to be expired upon
// reaching a queue unless they can be delivered to a consumer immediately"
// (ttl.md); RabbitMQ 3.10 does deliver to a waiting consumer.
func TestTTLZero(t *testing.T) {
	for _, credit := range []uint32{0, 1} {
		t.Run(fmt.Sprintf("credit=%d", credit), func(t *testing.T) {
			c := newClock()
			q, dead := ttlQueue(c, queue.Options{MessageTTL: ttl(0)})
			rec := &recorder{}
			l := queue.NewLimiter(1)
			if credit == 0 {
				l.TryAcquire() // the consumer is busy
			}
			mustAdd(t, q, consumer("c", rec, l))
			q.Publish(msg("a"))
			if credit == 1 {
				mustEqual(t, "delivered", rec.seqs(), []uint64{1})
				mustEqual(t, "dead", dead.got, nil)
			} else {
				mustEqual(t, "delivered", rec.seqs(), nil)
				mustEqual(t, "dead", dead.got, []string{"a:expired"})
			}
			if q.Len() != 0 {
				t.Fatalf("Len() = %d", q.Len())
			}
		})
	}
}

// TestTTLNeverDelivered: an expired head is dropped when dispatch reaches
// it, whoever asks: a consumer whose credit comes back, or a new consumer.
func TestTTLNeverDelivered(t *testing.T) {
	c := newClock()
	q, dead := ttlQueue(c, queue.Options{MessageTTL: ttl(10 * time.Second)})
	rec := &recorder{}
	l := queue.NewLimiter(1)
	mustAdd(t, q, consumer("c", rec, l))
	q.Publish(msg("a")) // delivered
	q.Publish(msg("b")) // waits for credit
	c.advance(5 * time.Second)
	q.Publish(msg("c"))
	c.advance(5 * time.Second) // b expires, c has 5s left
	l.Release(1)
	q.Dispatch()
	mustEqual(t, "delivered", rec.seqs(), []uint64{1, 3})
	mustEqual(t, "dead", dead.got, []string{"b:expired"})
}

// TestRequeueKeepsExpiry: ttl.md, "The original expiry time of a message
// is preserved if it is requeued". A requeued entry that has expired is
// dropped on requeue instead of being delivered.
func TestRequeueKeepsExpiry(t *testing.T) {
	tests := []struct {
		name     string
		wait     time.Duration // between Get and Requeue
		wantGet  []string
		wantDead []string
	}{
		{"requeued before its deadline", 9 * time.Second, []string{"a", "b"}, nil},
		{"requeued after its deadline", 10 * time.Second, nil, []string{"a:expired", "b:expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			q, dead := ttlQueue(c, queue.Options{MessageTTL: ttl(10 * time.Second)})
			q.Publish(msg("a"))
			q.Publish(msg("b"))
			a, _ := q.Get()
			b, _ := q.Get()
			if a.ExpiresAt != c.at(10*time.Second) {
				t.Fatalf("ExpiresAt = %d, want %d", a.ExpiresAt, c.at(10*time.Second))
			}
			c.advance(tt.wait)
			q.Requeue([]*queue.Entry{b, a})
			if a.ExpiresAt != c.at(10*time.Second) {
				t.Fatalf("requeue changed ExpiresAt")
			}
			mustEqual(t, "Get", getBodies(q), tt.wantGet)
			mustEqual(t, "dead", dead.got, tt.wantDead)
		})
	}
}

// timerLog is a broker-style timer: OnNextExpiry arms it, and the test
// "fires" it by calling ExpireHead at the armed instant.
type timerLog struct {
	armed []time.Duration // relative to epoch
}

func (l *timerLog) arm(at time.Time) { l.armed = append(l.armed, at.Sub(epoch)) }

func TestExpiryTimer(t *testing.T) {
	c := newClock()
	tl := &timerLog{}
	q, dead := ttlQueue(c, queue.Options{OnNextExpiry: tl.arm})
	if _, ok := q.NextExpiry(); ok {
		t.Fatal("NextExpiry on an empty queue")
	}
	q.Publish(expiring(c, "a", 10*time.Second)) // head: arm at 10s
	q.Publish(msg("b"))                         // no deadline
	q.Publish(expiring(c, "c", time.Second))    // not the head: no arm
	mustEqual(t, "armed after publishes", tl.armed, []time.Duration{10 * time.Second})
	if at, ok := q.NextExpiry(); !ok || !at.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("NextExpiry() = %v, %v", at, ok)
	}

	// The timer fires early (the broker's timer is coarse): nothing yet.
	c.advance(9 * time.Second)
	if n := q.ExpireHead(c.Now()); n != 0 {
		t.Fatalf("ExpireHead before the deadline dropped %d", n)
	}
	// ExpireHead re-reports the deadline that is still pending.
	mustEqual(t, "armed after early fire", tl.armed, []time.Duration{10 * time.Second, 10 * time.Second})

	c.advance(time.Second)
	if n := q.ExpireHead(c.Now()); n != 1 {
		t.Fatalf("ExpireHead at the deadline dropped %d, want 1", n)
	}
	mustEqual(t, "dead", dead.got, []string{"a:expired"})
	// b never expires and heads the queue: nothing to arm; c waits.
	if _, ok := q.NextExpiry(); ok {
		t.Fatal("NextExpiry with a head that never expires")
	}
	if q.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", q.Len())
	}
	// Get takes b; c, long expired, is dropped on the way out of Get.
	e, _ := q.Get()
	if string(e.Msg.Body) != "b" {
		t.Fatalf("Get() = %q", e.Msg.Body)
	}
	mustEqual(t, "dead", dead.got, []string{"a:expired", "c:expired"})
	if q.Len() != 0 {
		t.Fatalf("Len() = %d", q.Len())
	}
	// A new head with an earlier deadline than anything armed is reported.
	q.Publish(expiring(c, "d", time.Second))
	mustEqual(t, "armed", tl.armed, []time.Duration{10 * time.Second, 10 * time.Second, 11 * time.Second})
}

// TestExpiryTimerEarlierHead: a requeued entry with an earlier deadline
// than the head's is reported at once.
func TestExpiryTimerEarlierHead(t *testing.T) {
	c := newClock()
	tl := &timerLog{}
	q, _ := ttlQueue(c, queue.Options{MessageTTL: ttl(10 * time.Second), OnNextExpiry: tl.arm})
	q.Publish(msg("a"))
	a, _ := q.Get()
	c.advance(time.Second)
	q.Publish(msg("b")) // head: 11s; the 10s one is gone with a
	mustEqual(t, "armed", tl.armed, []time.Duration{10 * time.Second})
	q.Requeue([]*queue.Entry{a}) // a is the head again: 10s, not earlier than armed
	mustEqual(t, "armed", tl.armed, []time.Duration{10 * time.Second})
	c.advance(9 * time.Second)
	if n := q.ExpireHead(c.Now()); n != 1 {
		t.Fatalf("ExpireHead = %d, want 1", n)
	}
	mustEqual(t, "armed", tl.armed, []time.Duration{10 * time.Second, 11 * time.Second})
}

// TestTTLArrivedAt: with ArrivedAt set, x-message-ttl counts from the
// message's arrival, so a restored (or paged-in) message keeps its
// deadline; without it, from the moment it enters the queue.
func TestTTLArrivedAt(t *testing.T) {
	tests := []struct {
		name      string
		arrivedAt time.Duration // relative to epoch; -1: not set
		want      time.Duration // the entry's deadline, relative to epoch
	}{
		{"arrived before the restart", 0, 10 * time.Second},
		{"unknown arrival: counts from the restore", -1, 30*time.Second + 10*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			m := msg("a")
			if tt.arrivedAt >= 0 {
				m.ArrivedAt = c.at(tt.arrivedAt)
			}
			c.advance(30 * time.Second) // the broker restarts
			q, _ := ttlQueue(c, queue.Options{MessageTTL: ttl(10 * time.Second)})
			e, err := q.Restore(m, 7)
			if err != nil {
				t.Fatal(err)
			}
			if e.ExpiresAt != c.at(tt.want) {
				t.Fatalf("ExpiresAt = %v, want %v", time.Duration(e.ExpiresAt-epoch.UnixNano()), tt.want)
			}
		})
	}
}

// TestTTLPaged: paged entries are checked when they are read back. With
// ArrivedAt they keep their deadlines, so the timer drains the whole
// queue, tail included.
func TestTTLPaged(t *testing.T) {
	c := newClock()
	p := newMemPager()
	var removed []uint64
	q, dead := ttlQueue(c, queue.Options{
		MessageTTL: ttl(10 * time.Second),
		Paging:     &queue.Paging{Pager: p, MaxMessages: 2, Batch: 2},
		OnRemove:   func(e *queue.Entry) { removed = append(removed, e.Seq) },
	})
	for i := range 5 {
		m := msg(fmt.Sprint(i))
		m.ArrivedAt = c.Now().UnixNano()
		q.Publish(m)
	}
	if q.Paged() != 3 {
		t.Fatalf("Paged() = %d, want 3", q.Paged())
	}
	c.advance(10 * time.Second)
	if n := q.ExpireHead(c.Now()); n != 5 {
		t.Fatalf("ExpireHead = %d, want 5", n)
	}
	mustEqual(t, "dead", dead.got, []string{"0:expired", "1:expired", "2:expired", "3:expired", "4:expired"})
	mustEqual(t, "OnRemove", removed, seqRange(1, 5))
	if q.Len() != 0 || q.Paged() != 0 {
		t.Fatalf("Len %d Paged %d", q.Len(), q.Paged())
	}
}

// TestTTLPriority: in a priority queue the head is the oldest entry of the
// highest priority; priority.md: "expired lower-priority messages getting
// stuck behind non-expired higher priority ones".
func TestTTLPriority(t *testing.T) {
	c := newClock()
	q, dead := ttlQueue(c, queue.Options{MaxPriority: 5})
	low := expiring(c, "low", time.Second)
	high := expiring(c, "high", time.Hour)
	high.Priority = 5
	q.Publish(low)
	q.Publish(high)
	c.advance(time.Minute)
	if n := q.ExpireHead(c.Now()); n != 0 {
		t.Fatalf("ExpireHead dropped %d behind a live head", n)
	}
	if at, _ := q.NextExpiry(); !at.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("NextExpiry = %v, want the high head's", at)
	}
	mustEqual(t, "Get", getBodies(q), []string{"high"})
	mustEqual(t, "dead", dead.got, []string{"low:expired"})
}

// TestDeadLetterAfterUnlock: OnDeadLetter runs once per call, after the
// lock is released (deadLog calls Len from inside), and OnRemove has seen
// each entry first.
func TestDeadLetterAfterUnlock(t *testing.T) {
	c := newClock()
	var events []string
	d := &deadLog{}
	q := queue.New(queue.Options{Name: "q", Now: c.Now, MessageTTL: ttl(time.Second),
		OnRemove: func(e *queue.Entry) { events = append(events, "remove "+string(e.Msg.Body)) },
		OnDeadLetter: func(dl []queue.DeadLetter) {
			events = append(events, fmt.Sprintf("dead-letter %d", len(dl)))
			d.hook(dl)
		}})
	d.q = q
	q.Publish(msg("a"))
	q.Publish(msg("b"))
	c.advance(time.Second)
	q.ExpireHead(c.Now())
	mustEqual(t, "events", events, []string{"remove a", "remove b", "dead-letter 2"})
	if d.calls != 1 {
		t.Fatalf("%d OnDeadLetter calls, want 1", d.calls)
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[queue.Reason]string{
		queue.ReasonMaxLen: "maxlen", queue.ReasonExpired: "expired",
		queue.ReasonRejected: "rejected", 0: "unknown",
	} {
		if r.String() != want {
			t.Errorf("Reason(%d).String() = %q, want %q", r, r.String(), want)
		}
	}
}

// TestQueueExpires: x-expires. ttl.md: "Unused means the queue has no
// consumers, the queue has not been recently redeclared (redeclaring
// renews the lease), and basic.get has not been invoked for a duration of
// at least the expiration period."
func TestQueueExpires(t *testing.T) {
	const expires = 10 * time.Second
	type op struct {
		at   time.Duration // clock, relative to epoch
		do   string        // touch, get, add, remove, check
		want time.Duration // for check: the expiry instant; -1: in use
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"created unused", []op{{0, "check", expires}}},
		{"redeclare renews", []op{{4 * time.Second, "touch", 0}, {5 * time.Second, "check", 14 * time.Second}}},
		{"basic.get renews", []op{{6 * time.Second, "get", 0}, {6 * time.Second, "check", 16 * time.Second}}},
		{"a consumer holds it", []op{{1 * time.Second, "add", 0}, {30 * time.Second, "check", -1}}},
		{"lease starts when the last consumer leaves", []op{
			{1 * time.Second, "add", 0}, {20 * time.Second, "remove", 0}, {21 * time.Second, "check", 30 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			q := queue.New(queue.Options{Name: "q", Expires: expires, Now: c.Now})
			cons := consumer("c", &recorder{})
			for _, o := range tt.ops {
				c.t = epoch.Add(o.at)
				switch o.do {
				case "touch":
					q.Touch(c.Now())
				case "get":
					q.Get()
				case "add":
					mustAdd(t, q, cons)
				case "remove":
					q.RemoveConsumer(cons)
				case "check":
					at, ok := q.ExpiresAt()
					if o.want < 0 {
						if ok {
							t.Fatalf("ExpiresAt() = %v while in use", at)
						}
						if _, err := q.DeleteExpired(c.Now()); !errors.Is(err, queue.ErrInUse) {
							t.Fatalf("DeleteExpired in use: %v", err)
						}
						return
					}
					if !ok || !at.Equal(epoch.Add(o.want)) {
						t.Fatalf("ExpiresAt() = %v, %v; want %v", at.Sub(epoch), ok, o.want)
					}
					// One nanosecond early: refused; at the instant: deleted.
					if _, err := q.DeleteExpired(at.Add(-1)); !errors.Is(err, queue.ErrInUse) {
						t.Fatalf("DeleteExpired early: %v", err)
					}
					q.Publish(msg("m"))
					if n, err := q.DeleteExpired(at); err != nil || n != 1 {
						t.Fatalf("DeleteExpired() = %d, %v; want 1, nil", n, err)
					}
					if _, err := q.DeleteExpired(at); !errors.Is(err, queue.ErrClosed) {
						t.Fatalf("DeleteExpired twice: %v", err)
					}
					if _, ok := q.Unused(); ok {
						t.Fatal("Unused() after delete")
					}
				}
			}
		})
	}
}

func TestQueueExpiresOff(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	if _, ok := q.Unused(); ok {
		t.Fatal("Unused() without Expires")
	}
	if _, err := q.DeleteExpired(time.Now().Add(time.Hour)); !errors.Is(err, queue.ErrInUse) {
		t.Fatalf("DeleteExpired without Expires: %v", err)
	}
}

// TestTTLHuge: a TTL whose deadline overflows int64 never expires.
func TestTTLHuge(t *testing.T) {
	c := newClock()
	q, dead := ttlQueue(c, queue.Options{MessageTTL: ttl(time.Duration(math.MaxInt64))})
	q.Publish(msg("a"))
	c.advance(100 * 365 * 24 * time.Hour)
	if n := q.ExpireHead(c.Now()); n != 0 || len(dead.got) != 0 {
		t.Fatalf("ExpireHead = %d", n)
	}
	mustEqual(t, "Get", getBodies(q), []string{"a"})
}
