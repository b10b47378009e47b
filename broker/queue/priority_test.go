package queue_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// pmsg is a message of priority p whose body names it.
func pmsg(body string, p uint8) *queue.Message {
	return &queue.Message{Body: []byte(body), Priority: p}
}

// TestPriorityOrder: higher priorities first, FIFO within one; no
// priority property is 0; above the maximum counts as the maximum
// (priority.md). The "3.10.8" case is what a RabbitMQ 3.10.8 node returned.
func TestPriorityOrder(t *testing.T) {
	type pub struct {
		body string
		p    uint8
	}
	tests := []struct {
		name string
		max  uint8
		pubs []pub
		want []string
	}{
		{"3.10.8: max 2", 2, []pub{{"none", 0}, {"p9", 9}, {"p2", 2}, {"p0", 0}}, []string{"p9", "p2", "none", "p0"}},
		{"fifo within a priority", 5, []pub{{"a1", 1}, {"b3", 3}, {"c1", 1}, {"d3", 3}, {"e0", 0}}, []string{"b3", "d3", "a1", "c1", "e0"}},
		{"above max is max, keeps arrival order", 3, []pub{{"a3", 3}, {"b200", 200}, {"c3", 3}}, []string{"a3", "b200", "c3"}},
		{"max 255", 255, []pub{{"a0", 0}, {"b255", 255}, {"c64", 64}, {"d63", 63}, {"e128", 128}}, []string{"b255", "e128", "c64", "d63", "a0"}},
		{"max 1", 1, []pub{{"a0", 0}, {"b1", 1}, {"c7", 7}}, []string{"b1", "c7", "a0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q", MaxPriority: tt.max})
			want := 0
			for _, p := range tt.pubs {
				q.Publish(pmsg(p.body, p.p))
				want += len(p.body)
			}
			if q.Len() != len(tt.pubs) || q.Bytes() != want {
				t.Fatalf("Len %d Bytes %d, want %d, %d", q.Len(), q.Bytes(), len(tt.pubs), want)
			}
			mustEqual(t, "order", getBodies(q), tt.want)
			if q.Bytes() != 0 {
				t.Fatalf("Bytes %d after draining", q.Bytes())
			}
		})
	}
}

// TestPriorityRequeue: a requeued message goes back to its own priority at
// its original position. 3.10.8: p1 m0, p1 m1, p3 m2; get m2 and m0,
// requeue both → m2 m0 m1.
func TestPriorityRequeue(t *testing.T) {
	q := queue.New(queue.Options{Name: "q", MaxPriority: 5})
	q.Publish(pmsg("m0-p1", 1))
	q.Publish(pmsg("m1-p1", 1))
	q.Publish(pmsg("m2-p3", 3))
	a, _ := q.Get()
	b, _ := q.Get()
	mustEqual(t, "gets", []string{string(a.Msg.Body), string(b.Msg.Body)}, []string{"m2-p3", "m0-p1"})
	q.Publish(pmsg("m3-p3", 3))
	q.Requeue([]*queue.Entry{b, a})
	mustEqual(t, "after requeue", getBodies(q), []string{"m2-p3", "m3-p3", "m0-p1", "m1-p1"})
}

// TestPriorityDropHead: drop-head drops from the head, which in a priority
// queue is the highest priority (priority.md: "higher priority messages
// might be dropped to make way for lower priority ones"). 3.10.8:
// x-max-length 2, p1 p5 p3 → p3 p1.
func TestPriorityDropHead(t *testing.T) {
	tests := []struct {
		name     string
		pubs     []uint8
		want     []string
		wantDead []string
	}{
		{"3.10.8: p1 p5 p3", []uint8{1, 5, 3}, []string{"2p3", "0p1"}, []string{"1p5:maxlen"}},
		// RabbitMQ enqueues, then drops the head: the newcomer itself
		// when it outranks everything.
		{"a newcomer above everything is the one dropped", []uint8{1, 3, 5}, []string{"1p3", "0p1"}, []string{"2p5:maxlen"}},
		{"a newcomer level with the top drops the older one", []uint8{3, 1, 3}, []string{"2p3", "1p1"}, []string{"0p3:maxlen"}},
		{"all the same priority is FIFO", []uint8{2, 2, 2, 2}, []string{"2p2", "3p2"}, []string{"0p2:maxlen", "1p2:maxlen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &deadLog{}
			q := queue.New(queue.Options{Name: "q", MaxPriority: 5, OnDeadLetter: d.hook,
				Limits: &queue.Limits{MaxLength: 2, MaxBytes: -1}})
			for i, p := range tt.pubs {
				q.Publish(pmsg(fmt.Sprintf("%dp%d", i, p), p))
			}
			mustEqual(t, "ready", getBodies(q), tt.want)
			mustEqual(t, "dead", d.got, tt.wantDead)
		})
	}
}

// TestPriorityConsumers: a consumer with credit 1 receives in priority
// order as it acks; a message published while nothing is ready goes
// straight through.
func TestPriorityConsumers(t *testing.T) {
	q := queue.New(queue.Options{Name: "q", MaxPriority: 9})
	var got []string
	l := queue.NewLimiter(1)
	mustAdd(t, q, &queue.Consumer{Tag: "c", Limits: []*queue.Limiter{l},
		Sink: sinkFunc(func(e *queue.Entry) { got = append(got, string(e.Msg.Body)) })})
	for i, p := range []uint8{0, 3, 9, 3, 1} {
		q.Publish(pmsg(fmt.Sprintf("%dp%d", i, p), p))
	}
	for q.Len() > 0 {
		l.Release(1)
		q.Dispatch()
	}
	mustEqual(t, "deliveries", got, []string{"0p0", "2p9", "1p3", "3p3", "4p1"})
}

type sinkFunc func(e *queue.Entry)

func (f sinkFunc) Deliver(_ *queue.Queue, _ *queue.Consumer, e *queue.Entry) { f(e) }

func TestPriorityPurgeRestoreDelete(t *testing.T) {
	var removed []string
	q := queue.New(queue.Options{Name: "q", MaxPriority: 3,
		OnRemove: func(e *queue.Entry) { removed = append(removed, string(e.Msg.Body)) }})
	for i, p := range []uint8{1, 3, 0} {
		if _, err := q.Restore(pmsg(fmt.Sprint(i), p), uint64(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	if e := q.Publish(pmsg("3", 2)); e.Seq != 13 {
		t.Fatalf("Seq after Restore = %d", e.Seq)
	}
	if n := q.Purge(); n != 4 {
		t.Fatalf("Purge = %d", n)
	}
	mustEqual(t, "purged in head order", removed, []string{"1", "3", "0", "2"})
	q.Publish(pmsg("x", 1))
	if _, n, err := q.Delete(false, false); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	if q.Len() != 0 || q.Publish(pmsg("y", 1)) != nil {
		t.Fatal("deleted priority queue took a message")
	}
}

// TestPriorityDoesNotPage: Paging is ignored by a priority queue.
func TestPriorityDoesNotPage(t *testing.T) {
	p := newMemPager()
	q := queue.New(queue.Options{Name: "q", MaxPriority: 3,
		Paging: &queue.Paging{Pager: p, MaxMessages: 1}})
	for i := range 5 {
		q.Publish(pmsg(fmt.Sprint(i), uint8(i%4)))
	}
	if q.Paged() != 0 || len(p.stored) != 0 || q.ShouldPage() {
		t.Fatalf("priority queue paged: Paged %d stored %d", q.Paged(), len(p.stored))
	}
	if err := q.RestorePaged(99, 1); !errors.Is(err, queue.ErrNoPaging) {
		t.Fatalf("RestorePaged: %v", err)
	}
}

// TestPriorityModel runs random publishes, gets, requeues and drop-head
// overflows against a model that sorts by (priority desc, Seq).
func TestPriorityModel(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		const max = 4
		limit := int64(-1)
		if seed%2 == 0 {
			limit = 40
		}
		var dropped []uint64
		q := queue.New(queue.Options{Name: "q", MaxPriority: max,
			Limits:   &queue.Limits{MaxLength: limit, MaxBytes: -1},
			OnRemove: func(e *queue.Entry) { dropped = append(dropped, e.Seq) }})
		var model []*queue.Entry // ready, in delivery order
		var held []*queue.Entry
		level := func(e *queue.Entry) uint8 { return min(e.Msg.Priority, max) }
		sortModel := func() {
			slices.SortFunc(model, func(a, b *queue.Entry) int {
				if la, lb := level(a), level(b); la != lb {
					return int(lb) - int(la)
				}
				return int(a.Seq) - int(b.Seq)
			})
		}
		for step := range 2000 {
			switch op := r.IntN(10); {
			case op < 4:
				e := q.Publish(pmsg("m", uint8(r.IntN(7))))
				if e != nil {
					model = append(model, e)
					sortModel()
				}
				// Drop-head: the model drops its head until it fits,
				// which may be the newcomer.
				for limit >= 0 && int64(len(model)) > limit {
					model = model[1:]
				}
			case op < 7:
				for k := r.IntN(5); k > 0; k-- {
					e, ok := q.Get()
					if !ok {
						if len(model) != 0 {
							t.Fatalf("seed %d step %d: Get empty, model has %d", seed, step, len(model))
						}
						break
					}
					if e != model[0] {
						t.Fatalf("seed %d step %d: Get seq %d, model seq %d", seed, step, e.Seq, model[0].Seq)
					}
					model = model[1:]
					held = append(held, e)
				}
			case op < 8:
				held = held[:len(held)/2] // acked
			default:
				r.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
				k := r.IntN(len(held) + 1)
				back := slices.Clone(held[:k])
				held = held[k:]
				q.Requeue(back)
				model = append(model, back...)
				sortModel()
				for limit >= 0 && int64(len(model)) > limit {
					model = model[1:]
				}
			}
			if q.Len() != len(model) {
				t.Fatalf("seed %d step %d: Len %d, model %d", seed, step, q.Len(), len(model))
			}
		}
		got := drain(q)
		if len(got) != len(model) {
			t.Fatalf("seed %d: drained %d, model %d", seed, len(got), len(model))
		}
		for i := range got {
			if got[i] != model[i] {
				t.Fatalf("seed %d: drain %d: seq %d, model %d", seed, i, got[i].Seq, model[i].Seq)
			}
		}
		if limit >= 0 && len(dropped) == 0 {
			t.Fatalf("seed %d: the limit never dropped anything", seed)
		}
	}
}
