package queue_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/warrenmq/warren/broker/queue"
)

// memPager is a store in a map.
type memPager struct {
	stored  map[uint64]*queue.Message
	pageIns int
	dropped [][2]uint64
}

func newMemPager() *memPager { return &memPager{stored: map[uint64]*queue.Message{}} }

func (p *memPager) PageOut(seq uint64, m *queue.Message) { p.stored[seq] = m }

func (p *memPager) PageIn(from uint64, max int, fn func(uint64, *queue.Message)) error {
	p.pageIns++
	var seqs []uint64
	for s := range p.stored {
		if s >= from {
			seqs = append(seqs, s)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, s := range seqs {
		if i == max {
			break
		}
		fn(s, p.stored[s])
	}
	return nil
}

func (p *memPager) DropRange(from, to uint64) {
	p.dropped = append(p.dropped, [2]uint64{from, to})
	for s := range p.stored {
		if s >= from && s <= to {
			delete(p.stored, s)
		}
	}
}

func pagedQueue(p *memPager, maxMem int, limits *queue.Limits) *queue.Queue {
	return queue.New(queue.Options{Name: "paged", Limits: limits,
		Paging: &queue.Paging{Pager: p, MaxMessages: maxMem, Batch: 2}})
}

func bodies(t *testing.T, q *queue.Queue) (out []string) {
	t.Helper()
	for {
		e, ok := q.Get()
		if !ok {
			return out
		}
		out = append(out, string(e.Msg.Body))
	}
}

func TestPagingKeepsOrderAndBoundsMemory(t *testing.T) {
	p := newMemPager()
	q := pagedQueue(p, 3, nil)
	for i := 1; i <= 10; i++ {
		q.Publish(msg(fmt.Sprint(i)))
	}
	if q.Len() != 10 || q.Paged() != 7 || len(p.stored) != 7 {
		t.Fatalf("Len %d Paged %d stored %d, want 10, 7, 7", q.Len(), q.Paged(), len(p.stored))
	}
	if q.Bytes() != 11 { // "1".."9" and "10"
		t.Fatalf("Bytes %d, want 11", q.Bytes())
	}
	got := bodies(t, q)
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("order: %v", got)
	}
	if q.Len() != 0 || q.Paged() != 0 || q.Bytes() != 0 {
		t.Fatalf("drained: Len %d Paged %d Bytes %d", q.Len(), q.Paged(), q.Bytes())
	}
	// Drained: new messages stay in memory again.
	q.Publish(msg("11"))
	if q.Paged() != 0 {
		t.Fatalf("after draining, a new message was paged")
	}
}

func TestPagingConsumerDrainsInOrder(t *testing.T) {
	p := newMemPager()
	q := pagedQueue(p, 2, nil)
	for i := 1; i <= 9; i++ {
		q.Publish(msg(fmt.Sprint(i)))
	}
	r := &recorder{}
	if err := q.AddConsumer(&queue.Consumer{Tag: "c", Sink: r}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.seqs()) != "[1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("consumer got %v", r.seqs())
	}
	if p.pageIns == 0 {
		t.Fatal("no page-in happened")
	}
}

func TestPagingPurgeDropsTail(t *testing.T) {
	p := newMemPager()
	var removed []uint64
	q := queue.New(queue.Options{Paging: &queue.Paging{Pager: p, MaxMessages: 2},
		OnRemove: func(e *queue.Entry) { removed = append(removed, e.Seq) }})
	for i := 1; i <= 5; i++ {
		q.Publish(msg("m"))
	}
	if n := q.Purge(); n != 5 {
		t.Fatalf("Purge = %d, want 5", n)
	}
	if fmt.Sprint(removed) != "[1 2]" || fmt.Sprint(p.dropped) != "[[3 5]]" || len(p.stored) != 0 {
		t.Fatalf("removed %v dropped %v stored %d", removed, p.dropped, len(p.stored))
	}
	if q.Len() != 0 {
		t.Fatalf("Len after purge %d", q.Len())
	}
}

func TestPagingDropHeadReachesIntoTail(t *testing.T) {
	p := newMemPager()
	limits := &queue.Limits{MaxLength: 4, MaxBytes: -1}
	q := pagedQueue(p, 2, limits)
	for i := 1; i <= 9; i++ {
		q.Publish(msg(fmt.Sprint(i)))
	}
	got := bodies(t, q)
	if fmt.Sprint(got) != "[6 7 8 9]" {
		t.Fatalf("max-length 4 kept %v, want the last four", got)
	}
}

func TestRestorePaged(t *testing.T) {
	p := newMemPager()
	q := pagedQueue(p, 2, nil)
	for seq := uint64(1); seq <= 5; seq++ {
		m := msg(fmt.Sprint(seq))
		p.stored[seq] = m // recovered messages are in the store already
		if q.ShouldPage() {
			if err := q.RestorePaged(seq, len(m.Body)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := q.Restore(m, seq); err != nil {
			t.Fatal(err)
		}
	}
	if q.Paged() != 3 || q.Len() != 5 {
		t.Fatalf("Paged %d Len %d, want 3 and 5", q.Paged(), q.Len())
	}
	got := bodies(t, q)
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("got %v", got)
	}
	if e := q.Publish(msg("6")); e.Seq != 6 {
		t.Fatalf("next seq %d, want 6", e.Seq)
	}
}
