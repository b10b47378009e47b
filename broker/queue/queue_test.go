package queue_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

func TestPublishGetFIFO(t *testing.T) {
	opts := queue.Options{Name: "q1", Durable: true, AutoDelete: true}
	q := queue.New(opts)
	if got := q.Options(); q.Name() != "q1" || got.Name != opts.Name || got.Durable != opts.Durable ||
		got.Exclusive != opts.Exclusive || got.AutoDelete != opts.AutoDelete {
		t.Fatalf("Name() = %q, Options() = %+v", q.Name(), q.Options())
	}
	published := publishN(t, q, 5)
	mustEqual(t, "published seqs", seqsOf(published), seqRange(1, 5))
	if got, want := q.Len(), 5; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	if got, want := q.Bytes(), 1+2+3+4+5; got != want {
		t.Fatalf("Bytes() = %d, want %d", got, want)
	}

	e, ok := q.Get()
	if !ok || e != published[0] {
		t.Fatalf("Get() = %v, %v; want the first entry", e, ok)
	}
	if e.DeliveryCount != 1 || e.Redelivered {
		t.Fatalf("first Get: DeliveryCount=%d Redelivered=%v, want 1, false", e.DeliveryCount, e.Redelivered)
	}
	if got, want := q.Bytes(), 2+3+4+5; got != want {
		t.Fatalf("Bytes() after Get = %d, want %d", got, want)
	}
	rest := drain(q)
	mustEqual(t, "drained seqs", seqsOf(rest), seqRange(2, 5))
	if e, ok := q.Get(); ok || e != nil {
		t.Fatalf("Get() on empty queue = %v, %v", e, ok)
	}
	if q.Len() != 0 || q.Bytes() != 0 {
		t.Fatalf("empty queue: Len=%d Bytes=%d", q.Len(), q.Bytes())
	}
	// Seq keeps counting after the queue empties.
	if e := q.Publish(msg("x")); e.Seq != 6 {
		t.Fatalf("Seq after drain = %d, want 6", e.Seq)
	}
}

func TestMessageShared(t *testing.T) {
	// One message routed to two queues: the same *Message, two envelopes.
	m := msg("body")
	q1, q2 := queue.New(queue.Options{Name: "a"}), queue.New(queue.Options{Name: "b"})
	q2.Publish(msg("earlier"))
	e1, e2 := q1.Publish(m), q2.Publish(m)
	if e1 == e2 || e1.Msg != m || e2.Msg != m {
		t.Fatalf("entries must be distinct and share the message")
	}
	if e1.Seq != 1 || e2.Seq != 2 {
		t.Fatalf("seqs = %d, %d; want per-queue 1, 2", e1.Seq, e2.Seq)
	}
	if m.Size() != 4 {
		t.Fatalf("Size() = %d", m.Size())
	}
}

func TestRoundRobin(t *testing.T) {
	tests := []struct {
		name      string
		consumers []string
		messages  int
		want      []string
	}{
		{"one", []string{"a"}, 3, []string{"a", "a", "a"}},
		{"two", []string{"a", "b"}, 5, []string{"a", "b", "a", "b", "a"}},
		{"three", []string{"a", "b", "c"}, 7, []string{"a", "b", "c", "a", "b", "c", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			rec := &recorder{}
			for _, tag := range tt.consumers {
				mustAdd(t, q, consumer(tag, rec))
			}
			publishN(t, q, tt.messages)
			mustEqual(t, "consumers in delivery order", rec.tags(), tt.want)
			mustEqual(t, "seqs in delivery order", rec.seqs(), seqRange(1, uint64(tt.messages)))
			if q.Len() != 0 {
				t.Fatalf("Len() = %d, want 0", q.Len())
			}
		})
	}
}

func TestRoundRobinSkipsConsumerWithoutCredit(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	mustAdd(t, q,
		consumer("a", rec),
		consumer("b", rec, queue.NewLimiter(1)),
		consumer("c", rec))
	publishN(t, q, 6)
	mustEqual(t, "consumers", rec.tags(), []string{"a", "b", "c", "a", "c", "a"})
}

func TestPrefetch(t *testing.T) {
	// Each case builds consumers a and b (b optional) from named limiters and
	// publishes before or after consuming; it checks who got what, the
	// in-flight count of every limiter, and what stays ready.
	tests := []struct {
		name     string
		limits   map[string]uint32   // limiter name -> prefetch
		uses     map[string][]string // consumer tag -> limiter names, in Limits order
		order    []string            // consumers to add, in order
		messages int
		want     []string
		inFlight map[string]int
	}{{
		name:     "per-consumer limit",
		limits:   map[string]uint32{"a": 2},
		uses:     map[string][]string{"a": {"a"}},
		order:    []string{"a"},
		messages: 5,
		want:     []string{"a", "a"},
		inFlight: map[string]int{"a": 2},
	}, {
		name:     "shared channel limiter across two consumers",
		limits:   map[string]uint32{"a": 2, "b": 2, "ch": 3},
		uses:     map[string][]string{"a": {"a", "ch"}, "b": {"b", "ch"}},
		order:    []string{"a", "b"},
		messages: 6,
		want:     []string{"a", "b", "a"},
		inFlight: map[string]int{"a": 2, "b": 1, "ch": 3},
	}, {
		// The channel limiter is asked first and grants; the consumer's
		// own limiter then refuses, so the channel's unit must be given
		// back. Otherwise ch would read 3 and starve every other consumer.
		name:     "credit rolled back when a later limiter refuses",
		limits:   map[string]uint32{"ch": 5, "a": 1, "b": 1},
		uses:     map[string][]string{"a": {"ch", "a"}, "b": {"ch", "b"}},
		order:    []string{"a", "b"},
		messages: 5,
		want:     []string{"a", "b"},
		inFlight: map[string]int{"ch": 2, "a": 1, "b": 1},
	}, {
		name:     "unlimited limiter",
		limits:   map[string]uint32{"a": 0},
		uses:     map[string][]string{"a": {"a"}},
		order:    []string{"a"},
		messages: 4,
		want:     []string{"a", "a", "a", "a"},
		inFlight: map[string]int{"a": 4},
	}}
	for _, tt := range tests {
		for _, consumeFirst := range []bool{true, false} {
			name := tt.name + "/publish-first"
			if consumeFirst {
				name = tt.name + "/consume-first"
			}
			t.Run(name, func(t *testing.T) {
				q := queue.New(queue.Options{Name: "q"})
				rec := &recorder{}
				ls := map[string]*queue.Limiter{}
				for n, lim := range tt.limits {
					ls[n] = queue.NewLimiter(lim)
				}
				add := func() {
					for _, tag := range tt.order {
						var limits []*queue.Limiter
						for _, n := range tt.uses[tag] {
							limits = append(limits, ls[n])
						}
						mustAdd(t, q, consumer(tag, rec, limits...))
					}
				}
				if consumeFirst {
					add()
					publishN(t, q, tt.messages)
				} else {
					publishN(t, q, tt.messages)
					add()
				}
				if consumeFirst {
					mustEqual(t, "consumers", rec.tags(), tt.want)
				} else if len(rec.got) != len(tt.want) {
					// Consumers added one by one: the first takes what
					// it can before the second exists, so only the
					// count is fixed.
					t.Fatalf("delivered %d, want %d", len(rec.got), len(tt.want))
				}
				mustEqual(t, "seqs", rec.seqs(), seqRange(1, uint64(len(tt.want))))
				if !consumeFirst {
					return
				}
				for n, want := range tt.inFlight {
					if got := ls[n].InFlight(); got != want {
						t.Errorf("limiter %s InFlight() = %d, want %d", n, got, want)
					}
				}
				if got, want := q.Len(), tt.messages-len(tt.want); got != want {
					t.Errorf("Len() = %d, want %d", got, want)
				}
			})
		}
	}
}

func TestCreditReleaseThenDispatch(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	l := queue.NewLimiter(1)
	mustAdd(t, q, consumer("a", rec, l))
	publishN(t, q, 4)
	mustEqual(t, "after publish", rec.seqs(), []uint64{1})

	q.Dispatch() // no credit was released: nothing moves
	mustEqual(t, "after idle kick", rec.seqs(), []uint64{1})

	l.Release(1) // basic.ack of delivery 1
	mustEqual(t, "release alone does not deliver", rec.seqs(), []uint64{1})
	q.Dispatch()
	mustEqual(t, "after ack + kick", rec.seqs(), []uint64{1, 2})

	l.SetLimit(3) // basic.qos raised: two more units free
	q.Dispatch()
	mustEqual(t, "after qos raise + kick", rec.seqs(), []uint64{1, 2, 3, 4})
	if q.Len() != 0 || l.InFlight() != 3 {
		t.Fatalf("Len=%d InFlight=%d, want 0, 3", q.Len(), l.InFlight())
	}
}

func TestNoAckIgnoresCredit(t *testing.T) {
	t.Run("alone", func(t *testing.T) {
		q := queue.New(queue.Options{Name: "q"})
		rec := &recorder{}
		l := queue.NewLimiter(1)
		c := consumer("a", rec, l)
		c.NoAck = true
		mustAdd(t, q, c)
		publishN(t, q, 5)
		mustEqual(t, "seqs", rec.seqs(), seqRange(1, 5))
		if l.InFlight() != 0 {
			t.Fatalf("no-ack deliveries took credit: InFlight() = %d", l.InFlight())
		}
	})
	t.Run("beside a limited consumer", func(t *testing.T) {
		q := queue.New(queue.Options{Name: "q"})
		rec := &recorder{}
		b := consumer("b", rec, queue.NewLimiter(1))
		b.NoAck = true
		mustAdd(t, q, consumer("a", rec, queue.NewLimiter(1)), b)
		publishN(t, q, 4)
		mustEqual(t, "consumers", rec.tags(), []string{"a", "b", "b", "b"})
	})
}

func TestRequeue(t *testing.T) {
	// Publish n, take the first `take` with Get, then requeue the given
	// groups of seqs (one Requeue call per group, in the order given), and
	// check the ready order by draining.
	tests := []struct {
		name   string
		n      int
		take   int
		groups [][]uint64
		want   []uint64
	}{
		{"front, reversed batch", 5, 2, [][]uint64{{2, 1}}, seqRange(1, 5)},
		{"partial: 2 still held", 6, 3, [][]uint64{{3, 1}}, []uint64{1, 3, 4, 5, 6}},
		{"interleaved: 2 and 5 into 3,4,6", 6, 6, [][]uint64{{3, 4, 6}, {5, 2}}, []uint64{2, 3, 4, 5, 6}},
		{"tail then middle", 4, 4, [][]uint64{{1, 2}, {4}, {3}}, seqRange(1, 4)},
		{"singles, newest first", 5, 5, [][]uint64{{5}, {4}, {3}, {2}, {1}}, seqRange(1, 5)},
		{"singles, oldest first", 5, 5, [][]uint64{{1}, {2}, {3}, {4}, {5}}, seqRange(1, 5)},
		{"unsorted batch into gaps", 8, 8, [][]uint64{{2, 4, 6, 8}, {7, 1, 5, 3}}, seqRange(1, 8)},
		{"into the middle of a long queue", 20, 20, [][]uint64{seqRange(1, 8), seqRange(12, 20), {11, 9, 10}}, seqRange(1, 20)},
		{"empty requeue", 3, 1, [][]uint64{{}}, []uint64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			publishN(t, q, tt.n)
			held := map[uint64]*queue.Entry{}
			for range tt.take {
				e, ok := q.Get()
				if !ok {
					t.Fatal("Get: queue empty")
				}
				held[e.Seq] = e
			}
			requeued := map[uint64]bool{}
			for _, g := range tt.groups {
				var es []*queue.Entry
				for _, s := range g {
					es = append(es, held[s])
					requeued[s] = true
				}
				q.Requeue(es)
			}
			wantBytes := 0
			for _, s := range tt.want {
				wantBytes += int(s) // publishN: body of seq s is s bytes
			}
			if got := q.Bytes(); got != wantBytes {
				t.Errorf("Bytes() = %d, want %d", got, wantBytes)
			}
			got := drain(q)
			mustEqual(t, "ready order", seqsOf(got), tt.want)
			for _, e := range got {
				wantCount := uint32(1)
				if requeued[e.Seq] {
					wantCount = 2
				}
				if e.Redelivered != requeued[e.Seq] || e.DeliveryCount != wantCount {
					t.Errorf("seq %d: Redelivered=%v DeliveryCount=%d, want %v, %d",
						e.Seq, e.Redelivered, e.DeliveryCount, requeued[e.Seq], wantCount)
				}
			}
		})
	}
}

func TestRequeueRedeliversFirst(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	l := queue.NewLimiter(2)
	mustAdd(t, q, consumer("a", rec, l))
	es := publishN(t, q, 3)
	mustEqual(t, "first deliveries", rec.seqs(), []uint64{1, 2})

	// basic.nack multiple requeue=true of both deliveries: the broker gives
	// the credit back, then requeues.
	l.Release(2)
	q.Requeue([]*queue.Entry{es[1], es[0]})
	want := []delivery{
		{"a", 1, false, 1}, {"a", 2, false, 1},
		{"a", 1, true, 2}, {"a", 2, true, 2},
	}
	mustEqual(t, "deliveries", rec.got, want)
	if q.Len() != 1 {
		t.Fatalf("Len() = %d, want 1 (seq 3 waits for credit)", q.Len())
	}
}

func TestGetTakesNoCredit(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	l := queue.NewLimiter(1)
	mustAdd(t, q, consumer("a", rec, l))
	publishN(t, q, 3)
	e, ok := q.Get()
	if !ok || e.Seq != 2 {
		t.Fatalf("Get() = %v, %v; want seq 2 (seq 1 went to the consumer)", e, ok)
	}
	if l.InFlight() != 1 {
		t.Fatalf("InFlight() = %d, want 1", l.InFlight())
	}
}

func TestPurge(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	publishN(t, q, 5)
	a, _ := q.Get()
	b, _ := q.Get()
	if n := q.Purge(); n != 3 {
		t.Fatalf("Purge() = %d, want 3", n)
	}
	if q.Len() != 0 || q.Bytes() != 0 {
		t.Fatalf("after Purge: Len=%d Bytes=%d", q.Len(), q.Bytes())
	}
	if n := q.Purge(); n != 0 {
		t.Fatalf("second Purge() = %d, want 0", n)
	}
	// Unacked entries are not purged: requeued, they come back.
	q.Requeue([]*queue.Entry{a, b})
	if e := q.Publish(msg("new")); e.Seq != 6 {
		t.Fatalf("Seq after Purge = %d, want 6", e.Seq)
	}
	mustEqual(t, "ready", seqsOf(drain(q)), []uint64{1, 2, 6})
}

func TestClose(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	a, b := consumer("a", rec, queue.NewLimiter(1)), consumer("b", rec, queue.NewLimiter(1))
	mustAdd(t, q, a, b)
	es := publishN(t, q, 4)
	delivered := len(rec.got)

	cs := q.Close()
	if len(cs) != 2 || cs[0] != a || cs[1] != b {
		t.Fatalf("Close() = %v, want [a b]", cs)
	}
	if q.Len() != 0 || q.Bytes() != 0 || q.ConsumerCount() != 0 {
		t.Fatalf("after Close: Len=%d Bytes=%d Consumers=%d", q.Len(), q.Bytes(), q.ConsumerCount())
	}
	if e := q.Publish(msg("late")); e != nil {
		t.Fatalf("Publish after Close = %+v, want nil", e)
	}
	q.Requeue(es[:2])
	q.Dispatch()
	if q.Len() != 0 || len(rec.got) != delivered {
		t.Fatalf("closed queue took messages: Len=%d deliveries=%d", q.Len(), len(rec.got))
	}
	if _, ok := q.Get(); ok {
		t.Fatal("Get on a closed queue succeeded")
	}
	if err := q.AddConsumer(consumer("c", rec)); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("AddConsumer after Close: %v, want ErrClosed", err)
	}
	if _, err := q.Restore(msg("r"), 100); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Restore after Close: %v, want ErrClosed", err)
	}
	if cs := q.Close(); cs != nil {
		t.Fatalf("second Close() = %v, want nil", cs)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name              string
		consumers, ready  int
		ifUnused, ifEmpty bool
		wantErr           error
	}{
		{"unconditional", 1, 3, false, false, nil},
		{"if-unused, unused", 0, 3, true, false, nil},
		{"if-unused, in use", 1, 0, true, false, queue.ErrInUse},
		{"if-empty, empty", 1, 0, false, true, nil},
		{"if-empty, not empty", 0, 1, false, true, queue.ErrNotEmpty},
		{"both, in use and not empty", 1, 2, true, true, queue.ErrInUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			publishN(t, q, tt.ready)
			for range tt.consumers {
				// No credit, so the ready messages stay ready.
				mustAdd(t, q, consumer("c", &recorder{}, queue.NewLimiter(1)))
				q.Get()
			}
			ready := q.Len()
			cs, n, err := q.Delete(tt.ifUnused, tt.ifEmpty)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Delete() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				// Refused: the queue carries on untouched.
				if q.Len() != ready || q.ConsumerCount() != tt.consumers || q.Publish(msg("m")) == nil {
					t.Fatal("refused Delete changed the queue")
				}
				return
			}
			if len(cs) != tt.consumers || n != ready {
				t.Fatalf("Delete() = %d consumers, %d messages; want %d, %d", len(cs), n, tt.consumers, ready)
			}
			if q.Publish(msg("m")) != nil {
				t.Fatal("Publish after Delete was not dropped")
			}
		})
	}
}

func TestExclusiveConsumer(t *testing.T) {
	tests := []struct {
		name     string
		existing []bool // exclusive flags of the consumers already there
		add      bool   // exclusive flag of the new one
		wantErr  error
	}{
		{"exclusive on an unused queue", nil, true, nil},
		{"shared beside shared", []bool{false}, false, nil},
		{"exclusive beside shared", []bool{false}, true, queue.ErrExclusiveConsumer},
		{"shared beside exclusive", []bool{true}, false, queue.ErrExclusiveConsumer},
		{"exclusive beside exclusive", []bool{true}, true, queue.ErrExclusiveConsumer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			rec := &recorder{}
			var existing []*queue.Consumer
			for _, ex := range tt.existing {
				c := consumer("old", rec)
				c.Exclusive = ex
				mustAdd(t, q, c)
				existing = append(existing, c)
			}
			c := consumer("new", rec)
			c.Exclusive = tt.add
			if err := q.AddConsumer(c); !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddConsumer() = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil {
				return
			}
			if q.ConsumerCount() != len(tt.existing) {
				t.Fatalf("refused consumer was added: %d consumers", q.ConsumerCount())
			}
			publishN(t, q, 1)
			if rec.got[0].tag != "old" {
				t.Fatalf("refused consumer got a delivery")
			}
			// Once the others are gone, the consumer is welcome.
			for _, e := range existing {
				q.RemoveConsumer(e)
			}
			if err := q.AddConsumer(c); err != nil {
				t.Fatalf("AddConsumer() after the others left: %v", err)
			}
		})
	}
}

func TestRemoveConsumer(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	// Consumer tags are per channel: two channels may both use "t".
	a, b, c := consumer("a", rec), consumer("t", rec), consumer("t", rec)
	mustAdd(t, q, a, b, c)
	publishN(t, q, 2) // a, b; the cursor now points at c

	if removed, remaining := q.RemoveConsumer(a); !removed || remaining != 2 {
		t.Fatalf("RemoveConsumer(a) = %v, %d; want true, 2", removed, remaining)
	}
	publishN(t, q, 3)
	// c's turn is not lost when a consumer before it leaves.
	mustEqual(t, "consumers", rec.cs, []*queue.Consumer{a, b, c, b, c})
	if removed, _ := q.RemoveConsumer(a); removed {
		t.Fatal("removing a twice succeeded")
	}
	if removed, remaining := q.RemoveConsumer(c); !removed || remaining != 1 {
		t.Fatalf("RemoveConsumer(c) = %v, %d; want true, 1", removed, remaining)
	}
	if q.ConsumerCount() != 1 {
		t.Fatalf("ConsumerCount() = %d, want 1", q.ConsumerCount())
	}
	if removed, remaining := q.RemoveConsumer(b); !removed || remaining != 0 {
		t.Fatalf("RemoveConsumer(b) = %v, %d; want true, 0", removed, remaining)
	}
	publishN(t, q, 1)
	if q.Len() != 1 {
		t.Fatalf("Len() = %d, want 1 with no consumers", q.Len())
	}
}

func TestRestore(t *testing.T) {
	q := queue.New(queue.Options{Name: "q", Durable: true})
	for _, s := range []uint64{3, 7} {
		if _, err := q.Restore(msg("stored"), s); err != nil {
			t.Fatalf("Restore(%d): %v", s, err)
		}
	}
	if _, err := q.Restore(msg("stored"), 5); !errors.Is(err, queue.ErrSeqOrder) {
		t.Fatalf("Restore out of order: %v, want ErrSeqOrder", err)
	}
	if e := q.Publish(msg("new")); e.Seq != 8 {
		t.Fatalf("Publish after Restore: Seq %d, want 8", e.Seq)
	}
	got := drain(q)
	mustEqual(t, "ready", seqsOf(got), []uint64{3, 7, 8})
	if !got[0].Redelivered || !got[1].Redelivered || got[2].Redelivered {
		t.Fatalf("restored entries must be redelivered, new ones not")
	}
}

func TestStats(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	mustAdd(t, q, consumer("a", &recorder{}, queue.NewLimiter(1)))
	publishN(t, q, 3) // seq 1 (1 byte) delivered; 2 and 3 ready
	want := queue.Stats{Ready: 2, Bytes: 2 + 3, Consumers: 1}
	if got := q.Stats(); got != want {
		t.Fatalf("Stats() = %+v, want %+v", got, want)
	}
}

// eventSink records consume-ok (from OnAdd) and deliveries as one stream.
type eventSink struct{ events []string }

func (s *eventSink) Deliver(_ *queue.Queue, c *queue.Consumer, e *queue.Entry) {
	s.events = append(s.events, "deliver "+c.Tag+" "+string(e.Msg.Body))
}

func (s *eventSink) consumer(tag string, exclusive bool) *queue.Consumer {
	return &queue.Consumer{Tag: tag, Sink: s, Exclusive: exclusive,
		OnAdd: func() { s.events = append(s.events, "consume-ok "+tag) }}
}

func TestOnAddBeforeFirstDelivery(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	s := &eventSink{}
	q.Publish(msg("m1"))
	q.Publish(msg("m2"))
	mustAdd(t, q, s.consumer("a", true))
	// Refused: no consume-ok for b.
	if err := q.AddConsumer(s.consumer("b", false)); err == nil {
		t.Fatal("second consumer beside an exclusive one was accepted")
	}
	q.Publish(msg("m3"))
	mustEqual(t, "events", s.events, []string{"consume-ok a", "deliver a m1", "deliver a m2", "deliver a m3"})
}

// viaSink records the Via each delivery saw.
type viaSink struct{ seen []any }

func (s *viaSink) Deliver(q *queue.Queue, _ *queue.Consumer, _ *queue.Entry) {
	s.seen = append(s.seen, q.Via())
}

// Via is OfferWith's via during the deliveries that offer makes, and nil
// for deliveries that anything else makes.
func TestViaOnlyDuringItsOffer(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	lim := queue.NewLimiter(1)
	sink := &viaSink{}
	if err := q.AddConsumer(&queue.Consumer{Tag: "c", Sink: sink, Limits: []*queue.Limiter{lim}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.OfferWith(msg("1"), nil, "publisher"); err != nil { // delivered at once
		t.Fatal(err)
	}
	if _, err := q.OfferWith(msg("2"), nil, "publisher"); err != nil { // no credit: queued
		t.Fatal(err)
	}
	lim.Release(1)
	q.Dispatch() // delivered by something other than an offer
	if fmt.Sprint(sink.seen) != "[publisher <nil>]" {
		t.Fatalf("Via in the deliveries: %v, want [publisher <nil>]", sink.seen)
	}
	if q.Via() != nil {
		t.Fatalf("Via after the offers: %v", q.Via())
	}
}
