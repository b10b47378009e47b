package broker

import (
	"container/heap"
	"sync"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// The delayed-message exchange (RabbitMQ's community plugin
// rabbitmq_delayed_message_exchange): exchange type x-delayed-message
// routes like its x-delayed-type, but holds a message whose x-delay header
// is positive for that many milliseconds first. Held persistent messages
// of a durable exchange are stored under the exchange's own id, with the
// release time in the record's expiry field, and held again after a
// restart.

const kindDelayed = "x-delayed-message"

// delayer holds an exchange's delayed messages: a heap by release time and
// one timer for the earliest.
type delayer struct {
	x     *Exchange
	v     *VHost
	id    uint64 // store id of the held messages (durable exchange)
	mu    sync.Mutex
	held  heldHeap
	seq   uint64
	timer *time.Timer
	stop  bool
}

type held struct {
	at  int64 // release time, Unix ns
	seq uint64
	msg *queue.Message
}

type heldHeap []held

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h heldHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)   { *h = append(*h, x.(held)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// delayOf reads the x-delay header in milliseconds (0: none).
func delayOf(props []byte) int64 {
	var p amqp.Properties
	if _, err := amqp.DecodeProperties(props, &p); err != nil {
		return 0
	}
	v, _ := p.Headers.Get("x-delay")
	n, _ := integerArg(v)
	return max(n, 0)
}

// hold keeps msg until its delay is over; done runs once it is safe (at
// once, or after the store write of a persistent message).
func (d *delayer) hold(msg *queue.Message, delay time.Duration, hold confirmHold) {
	at := time.Now().Add(delay).UnixNano()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	h := held{at: at, seq: d.seq, msg: msg}
	if d.id != 0 && msg.Persistent {
		stored := *msg
		stored.ExpiresAt = at
		if hold.tag != 0 {
			hold.ch.confirms.addWrite(hold.tag)
		}
		d.v.s.store.AppendOnce(d.id, h.seq, messageRecord(&stored), hold.storeDone())
	}
	heap.Push(&d.held, h)
	d.armLocked()
}

// restore holds a message recovered from the store. Its timer is armed
// by start, once queues and bindings are back: a message whose time
// passed while the broker was down must not be routed into nothing.
func (d *delayer) restore(seq uint64, msg *queue.Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq = max(d.seq, seq)
	heap.Push(&d.held, held{at: msg.ExpiresAt, seq: seq, msg: msg})
}

// start arms the timer after recovery.
func (d *delayer) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armLocked()
}

func (d *delayer) armLocked() {
	if d.stop || len(d.held) == 0 {
		return
	}
	wait := time.Until(time.Unix(0, d.held[0].at))
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.release)
		return
	}
	d.timer.Reset(wait)
}

// release routes the messages whose time has come, in release order.
func (d *delayer) release() {
	now := time.Now().UnixNano()
	d.mu.Lock()
	var due []held
	for len(d.held) > 0 && d.held[0].at <= now {
		due = append(due, heap.Pop(&d.held).(held))
	}
	d.armLocked()
	d.mu.Unlock()
	var rt router
	for _, h := range due {
		m := h.msg
		m.ExpiresAt, m.ArrivedAt = 0, 0
		rt.props = m.Props
		if !d.x.deleted.Load() {
			enqueue(d.v.route(&rt, d.x, m.RoutingKey), m, confirmHold{})
		}
		if d.id != 0 && m.Persistent {
			d.v.s.store.Delete(d.id, h.seq)
		}
	}
}

func (d *delayer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stop = true
	if d.timer != nil {
		d.timer.Stop()
	}
}
