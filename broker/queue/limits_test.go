package queue_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// TestLengthLimitDeadLetters: what each overflow policy keeps, what the
// publisher is told, and what is dead-lettered with reason maxlen
// (maxlength.md; the cases marked "3.10.8" were checked against a
// RabbitMQ 3.10.8 node).
func TestLengthLimitDeadLetters(t *testing.T) {
	const none = -1
	tests := []struct {
		name       string
		limits     queue.Limits
		consumer   bool     // a consumer with credit is waiting
		publish    []string // bodies; the byte limit counts len(body)
		wantErr    []bool   // ErrOverflow per publish
		wantReady  []string
		wantDead   []string
		wantDeliv  int      // deliveries to the consumer
		wantRemove []string // OnRemove (stored copies to delete)
	}{{
		name:       "drop-head drops and dead-letters the oldest",
		limits:     queue.Limits{MaxLength: 2, MaxBytes: none},
		publish:    []string{"a", "b", "c", "d"},
		wantErr:    []bool{false, false, false, false},
		wantReady:  []string{"c", "d"},
		wantDead:   []string{"a:maxlen", "b:maxlen"},
		wantRemove: []string{"a", "b"},
	}, {
		name:      "reject-publish nacks and does not dead-letter",
		limits:    queue.Limits{MaxLength: 2, MaxBytes: none, RejectPublish: true},
		publish:   []string{"a", "b", "c"},
		wantErr:   []bool{false, false, true},
		wantReady: []string{"a", "b"},
	}, {
		name:      "reject-publish-dlx nacks and dead-letters the refused message",
		limits:    queue.Limits{MaxLength: 2, MaxBytes: none, RejectPublish: true, RejectPublishDLX: true},
		publish:   []string{"a", "b", "c"},
		wantErr:   []bool{false, false, true},
		wantReady: []string{"a", "b"},
		wantDead:  []string{"c:maxlen"},
	}, {
		// 3.10.8: a consumer waiting on an x-max-length 0 queue receives.
		name:      "drop-head: max-length 0 still delivers to a waiting consumer",
		limits:    queue.Limits{MaxLength: 0, MaxBytes: none},
		consumer:  true,
		publish:   []string{"a"},
		wantErr:   []bool{false},
		wantDeliv: 1,
	}, {
		// RabbitMQ checks will_overflow before trying to deliver.
		name:     "reject-publish: max-length 0 refuses even with a consumer",
		limits:   queue.Limits{MaxLength: 0, MaxBytes: none, RejectPublish: true},
		consumer: true,
		publish:  []string{"a"},
		wantErr:  []bool{true},
	}, {
		// 3.10.8: x-max-length-bytes 3, "ab" then "abcd": both go.
		name:       "a message larger than the byte limit on its own",
		limits:     queue.Limits{MaxLength: none, MaxBytes: 3},
		publish:    []string{"ab", "abcd"},
		wantErr:    []bool{false, false},
		wantDead:   []string{"ab:maxlen", "abcd:maxlen"},
		wantRemove: []string{"ab"},
	}, {
		name:       "byte limit drops as many heads as it takes",
		limits:     queue.Limits{MaxLength: none, MaxBytes: 5},
		publish:    []string{"a", "bb", "cc", "ddd"},
		wantErr:    []bool{false, false, false, false},
		wantReady:  []string{"cc", "ddd"},
		wantDead:   []string{"a:maxlen", "bb:maxlen"},
		wantRemove: []string{"a", "bb"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var removed []string
			d := &deadLog{}
			limits := tt.limits
			q := queue.New(queue.Options{Name: "q", Limits: &limits, OnDeadLetter: d.hook,
				OnRemove: func(e *queue.Entry) { removed = append(removed, string(e.Msg.Body)) }})
			d.q = q
			rec := &recorder{}
			c := consumer("c", rec)
			if tt.consumer {
				mustAdd(t, q, c)
			}
			for i, b := range tt.publish {
				e, err := q.Offer(msg(b))
				if got := errors.Is(err, queue.ErrOverflow); got != tt.wantErr[i] {
					t.Fatalf("Offer(%q) error = %v, want overflow %v", b, err, tt.wantErr[i])
				}
				if err != nil && e != nil {
					t.Fatalf("Offer(%q) returned an entry with an error", b)
				}
			}
			if tt.consumer {
				if len(rec.got) != tt.wantDeliv {
					t.Fatalf("%d deliveries, want %d", len(rec.got), tt.wantDeliv)
				}
				q.RemoveConsumer(c)
			}
			mustEqual(t, "ready", getBodies(q), tt.wantReady)
			mustEqual(t, "dead letters", d.got, tt.wantDead)
			mustEqual(t, "OnRemove", removed, tt.wantRemove)
		})
	}
}

// TestRejectPublishDLXEntry: the refused message is handed over as an
// entry that never entered the queue (Seq 0), and it used up no Seq.
func TestRejectPublishDLXEntry(t *testing.T) {
	var dead []queue.DeadLetter
	q := queue.New(queue.Options{Name: "q",
		Limits:       &queue.Limits{MaxLength: 1, MaxBytes: -1, RejectPublish: true, RejectPublishDLX: true},
		OnDeadLetter: func(dl []queue.DeadLetter) { dead = append(dead, dl...) }})
	q.Publish(msg("a"))
	m := msg("b")
	if _, err := q.Offer(m); !errors.Is(err, queue.ErrOverflow) {
		t.Fatalf("Offer: %v", err)
	}
	if len(dead) != 1 || dead[0].Entry.Msg != m || dead[0].Entry.Seq != 0 || dead[0].Reason != queue.ReasonMaxLen {
		t.Fatalf("dead letters: %+v", dead)
	}
	q.Get()
	if e := q.Publish(msg("c")); e.Seq != 2 {
		t.Fatalf("next Seq %d, want 2", e.Seq)
	}
}

// TestRequeueOverLimit: RabbitMQ's requeue_and_run applies drop-head. On
// 3.10.8, x-max-length 2 holding b, c with a unacked: requeueing a drops a
// itself (it is the head), leaving b c.
func TestRequeueOverLimit(t *testing.T) {
	for _, reject := range []bool{false, true} {
		t.Run(fmt.Sprintf("reject-publish=%v", reject), func(t *testing.T) {
			d := &deadLog{}
			q := queue.New(queue.Options{Name: "q", OnDeadLetter: d.hook,
				Limits: &queue.Limits{MaxLength: 2, MaxBytes: -1, RejectPublish: reject}})
			q.Publish(msg("a"))
			q.Publish(msg("b"))
			a, _ := q.Get()
			q.Publish(msg("c"))
			q.Requeue([]*queue.Entry{a})
			if reject {
				// maybe_drop_head does nothing for reject-publish: the
				// requeue overfills the queue.
				mustEqual(t, "ready", getBodies(q), []string{"a", "b", "c"})
				mustEqual(t, "dead", d.got, nil)
				return
			}
			mustEqual(t, "ready", getBodies(q), []string{"b", "c"})
			mustEqual(t, "dead", d.got, []string{"a:maxlen"})
		})
	}
}

// TestPurgeDoesNotDeadLetter: purged messages are removed (OnRemove) but
// not dead-lettered.
func TestPurgeDoesNotDeadLetter(t *testing.T) {
	d := &deadLog{}
	removed := 0
	q := queue.New(queue.Options{Name: "q", OnDeadLetter: d.hook, OnRemove: func(*queue.Entry) { removed++ }})
	publishN(t, q, 3)
	if n := q.Purge(); n != 3 || removed != 3 || d.calls != 0 {
		t.Fatalf("Purge = %d, removed %d, dead-letter calls %d", n, removed, d.calls)
	}
}
