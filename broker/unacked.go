package broker

import (
	"sort"

	"github.com/warrenmq/warren/broker/queue"
)

// unackedItem is a delivery awaiting ack, nack or reject.
type unackedItem struct {
	tag   uint64
	q     *Queue
	e     *queue.Entry
	cs    *consumer // nil for basic.get
	acked bool
	at    int64 // when delivered, by the server's coarse clock (consumer timeout)
}

// unackedList holds a channel's deliveries in delivery-tag order. Tags
// only grow, so it is an append-only slice with a moving head: lookups
// are binary searches, ack-multiple pops from the front, and nothing is
// allocated per delivery once the slice has grown.
type unackedList struct {
	items []unackedItem
	head  int
}

func (l *unackedList) add(tag uint64, q *Queue, e *queue.Entry, cs *consumer, at int64) {
	if l.head > 0 && l.head == len(l.items) {
		l.items, l.head = l.items[:0], 0
	}
	l.items = append(l.items, unackedItem{tag: tag, q: q, e: e, cs: cs, at: at})
}

// take removes tag (or, with multiple, every tag up to it) and appends
// the removed items to out. As in RabbitMQ's collect_acks, the tag itself
// must be outstanding even with multiple; only tag 0 with multiple means
// "everything", and is never an error. ok is false for an unknown tag.
func (l *unackedList) take(tag uint64, multiple bool, out []unackedItem) ([]unackedItem, bool) {
	if multiple && tag == 0 {
		for i := l.head; i < len(l.items); i++ {
			if it := &l.items[i]; !it.acked {
				it.acked = true
				out = append(out, *it)
			}
		}
		l.compact()
		return out, true
	}
	rest := l.items[l.head:]
	i := sort.Search(len(rest), func(i int) bool { return rest[i].tag >= tag })
	if i == len(rest) || rest[i].tag != tag || rest[i].acked {
		return out, false
	}
	from := i
	if multiple {
		from = 0
	}
	for j := from; j <= i; j++ {
		if it := &rest[j]; !it.acked {
			it.acked = true
			out = append(out, *it)
		}
	}
	l.compact()
	return out, true
}

// has reports whether tag is outstanding.
func (l *unackedList) has(tag uint64) bool {
	rest := l.items[l.head:]
	i := sort.Search(len(rest), func(i int) bool { return rest[i].tag >= tag })
	return i < len(rest) && rest[i].tag == tag && !rest[i].acked
}

func (l *unackedList) takeAll() []unackedItem {
	out, _ := l.take(0, true, nil)
	return out
}

// compact drops acked items from the front, and shrinks the slice when
// most of it is dead.
func (l *unackedList) compact() {
	for l.head < len(l.items) && l.items[l.head].acked {
		l.items[l.head] = unackedItem{}
		l.head++
	}
	if l.head == len(l.items) {
		l.items, l.head = l.items[:0], 0
		return
	}
	if l.head > 1024 && l.head > len(l.items)/2 {
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items, l.head = l.items[:n], 0
	}
}

// requeueItems puts deliveries back in their queues, in original order,
// releasing their consumers' credit first.
func requeueItems(items []unackedItem) {
	if len(items) == 0 {
		return
	}
	releaseCredit(items)
	byQueue := map[*Queue][]*queue.Entry{}
	var order []*Queue
	for _, it := range items {
		if _, ok := byQueue[it.q]; !ok {
			order = append(order, it.q)
		}
		byQueue[it.q] = append(byQueue[it.q], it.e)
	}
	for _, q := range order {
		q.Requeue(byQueue[q])
	}
}

func releaseCredit(items []unackedItem) {
	for _, it := range items {
		if it.cs != nil {
			for _, l := range it.cs.qc.Limits {
				l.Release(1)
			}
		}
	}
}
