package queue_test

import (
	"errors"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// cspec describes a consumer for the tables below: its tag, x-priority and
// prefetch (0 = unlimited).
type cspec struct {
	tag      string
	priority int32
	prefetch uint32
}

func addSpecs(t *testing.T, q *queue.Queue, rec *recorder, specs []cspec) map[string]*queue.Consumer {
	t.Helper()
	cs := map[string]*queue.Consumer{}
	for _, s := range specs {
		c := consumer(s.tag, rec, queue.NewLimiter(s.prefetch))
		c.Priority = s.priority
		mustAdd(t, q, c)
		cs[s.tag] = c
	}
	return cs
}

// TestConsumerPriority: consumer-priority.md, "high priority consumers
// receive messages while they are active, with messages only going to
// lower priority consumers when the high priority consumers block", and
// "messages are delivered round-robin if multiple active consumers exist
// with the same high priority".
func TestConsumerPriority(t *testing.T) {
	tests := []struct {
		name      string
		consumers []cspec
		messages  int
		want      []string
	}{
		{"highest takes all while it has credit", []cspec{{"low", 0, 0}, {"high", 10, 0}}, 4,
			[]string{"high", "high", "high", "high"}},
		{"lower ones when the highest is blocked", []cspec{{"low", 0, 0}, {"high", 10, 2}}, 4,
			[]string{"high", "high", "low", "low"}},
		{"round-robin within the top priority", []cspec{{"a", 5, 0}, {"low", 1, 0}, {"b", 5, 0}}, 5,
			[]string{"a", "b", "a", "b", "a"}},
		{"cascade through three levels", []cspec{{"p1", 1, 0}, {"p3", 3, 1}, {"p2", 2, 2}}, 5,
			[]string{"p3", "p2", "p2", "p1", "p1"}},
		{"negative priorities rank below the default", []cspec{{"neg", -5, 0}, {"zero", 0, 1}}, 3,
			[]string{"zero", "neg", "neg"}},
		{"round-robin among the next level once the top is blocked",
			[]cspec{{"top", 9, 1}, {"x", 0, 0}, {"y", 0, 0}}, 5,
			[]string{"top", "x", "y", "x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q"})
			rec := &recorder{}
			addSpecs(t, q, rec, tt.consumers)
			publishN(t, q, tt.messages)
			mustEqual(t, "consumers", rec.tags(), tt.want)
		})
	}
}

// TestConsumerPriorityCredit: once the high-priority consumer gets credit
// back, it is served first again; when it leaves, the lower ones take over.
func TestConsumerPriorityCredit(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	rec := &recorder{}
	hl, ll := queue.NewLimiter(1), queue.NewLimiter(1)
	high := consumer("high", rec, hl)
	high.Priority = 10
	low := consumer("low", rec, ll)
	mustAdd(t, q, low, high)
	publishN(t, q, 4) // high, low; two wait
	hl.Release(1)
	ll.Release(1)
	q.Dispatch()
	mustEqual(t, "after both ack", rec.tags(), []string{"high", "low", "high", "low"})
	publishN(t, q, 1)
	q.RemoveConsumer(high)
	ll.Release(1)
	q.Dispatch()
	mustEqual(t, "after high leaves", rec.tags(), []string{"high", "low", "high", "low", "low"})
}

// TestSingleActiveConsumer: consumers.md#single-active-consumer and
// RabbitMQ 3.10.8 as checked on a node: the first consumer registered is
// the active one whatever the priorities; when it goes, the consumer of
// the highest priority takes over (the earliest registered among equals).
func TestSingleActiveConsumer(t *testing.T) {
	tests := []struct {
		name       string
		consumers  []cspec
		remove     []string // removed in this order after the first batch
		wantActive []string // active consumer first, then after each removal
	}{
		{"registration order", []cspec{{"a", 0, 0}, {"b", 0, 0}, {"c", 0, 0}},
			[]string{"a", "b"}, []string{"a", "b", "c"}},
		{"3.10.8: first is active even with a lower priority; then the highest",
			[]cspec{{"a-low", 1, 0}, {"b-mid", 5, 0}, {"c-high", 10, 0}},
			[]string{"a-low", "c-high"}, []string{"a-low", "c-high", "b-mid"}},
		{"a waiting consumer leaving changes nothing", []cspec{{"a", 0, 0}, {"b", 0, 0}, {"c", 0, 0}},
			[]string{"b", "a"}, []string{"a", "a", "c"}},
		{"equal priorities: the earliest registered", []cspec{{"a", 0, 0}, {"b", 3, 0}, {"c", 3, 0}},
			[]string{"a", "b"}, []string{"a", "b", "c"}},
		{"last one gone: none", []cspec{{"a", 0, 0}}, []string{"a"}, []string{"a", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue.New(queue.Options{Name: "q", SingleActiveConsumer: true})
			rec := &recorder{}
			cs := addSpecs(t, q, rec, tt.consumers)
			check := func(i int) {
				t.Helper()
				got := ""
				if a := q.ActiveConsumer(); a != nil {
					got = a.Tag
				}
				if got != tt.wantActive[i] {
					t.Fatalf("step %d: ActiveConsumer() = %q, want %q", i, got, tt.wantActive[i])
				}
				// Every message goes to the active consumer.
				rec.got = nil
				publishN(t, q, 3)
				if got == "" {
					if len(rec.got) != 0 {
						t.Fatalf("delivered with no active consumer")
					}
					return
				}
				mustEqual(t, "deliveries", rec.tags(), []string{got, got, got})
			}
			check(0)
			for i, tag := range tt.remove {
				if removed, _ := q.RemoveConsumer(cs[tag]); !removed {
					t.Fatalf("RemoveConsumer(%s) = false", tag)
				}
				check(i + 1)
			}
		})
	}
}

// TestSingleActiveConsumerBusy: "Messages are always delivered to the
// active consumer, even if it is too busy ... the other consumers are
// ignored and messages are enqueued." When the active one is cancelled,
// the new one receives the backlog at once.
func TestSingleActiveConsumerBusy(t *testing.T) {
	q := queue.New(queue.Options{Name: "q", SingleActiveConsumer: true})
	rec := &recorder{}
	cs := addSpecs(t, q, rec, []cspec{{"a", 0, 1}, {"b", 0, 0}})
	publishN(t, q, 3)
	mustEqual(t, "deliveries", rec.tags(), []string{"a"})
	if q.Len() != 2 {
		t.Fatalf("Len() = %d, want 2 waiting for a", q.Len())
	}
	q.RemoveConsumer(cs["a"])
	mustEqual(t, "deliveries", rec.tags(), []string{"a", "b", "b"})
	mustEqual(t, "seqs", rec.seqs(), []uint64{1, 2, 3})
}

// TestSingleActiveConsumerExclusive: "Trying to register a consumer with
// the exclusive consume flag set to true will result in an error if single
// active consumer is enabled" (403 in exclusive use on 3.10.8), even on an
// unused queue.
func TestSingleActiveConsumerExclusive(t *testing.T) {
	q := queue.New(queue.Options{Name: "q", SingleActiveConsumer: true})
	c := consumer("x", &recorder{})
	c.Exclusive = true
	if err := q.AddConsumer(c); !errors.Is(err, queue.ErrExclusiveConsumer) {
		t.Fatalf("AddConsumer(exclusive) = %v, want ErrExclusiveConsumer", err)
	}
	if q.ActiveConsumer() != nil || q.ConsumerCount() != 0 {
		t.Fatal("refused consumer was registered")
	}
}

func TestActiveConsumerWithoutSAC(t *testing.T) {
	q := queue.New(queue.Options{Name: "q"})
	mustAdd(t, q, consumer("a", &recorder{}))
	if q.ActiveConsumer() != nil {
		t.Fatal("ActiveConsumer() on a queue without single active consumer")
	}
}
