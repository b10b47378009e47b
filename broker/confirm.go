package broker

import (
	"sync"

	"github.com/warrenmq/warren/amqp"
)

// confirmTracker follows the publishes of a confirm-mode channel until
// they are safe: routed, and fsynced where they are persistent. Store
// callbacks complete them out of order on the committer goroutine; the
// tracker acks the longest finished prefix with one basic.ack multiple and
// nacks failed ones singly, so that confirms are sent in publish order.
type confirmTracker struct {
	mu      sync.Mutex
	base    uint64 // delivery tag of pending[0]
	pending []confirmState
	head    int
	closed  bool
	dirty   bool // finished entries not yet written
	ack     amqp.BasicAck
	nack    amqp.BasicNack
}

type confirmState struct {
	remaining int32 // store writes outstanding
	failed    bool
}

// add registers the next publish, waiting for writes store writes, and
// returns its delivery tag.
func (t *confirmTracker) add(writes int32, failed bool) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.base == 0 {
		t.base = 1
	}
	t.pending = append(t.pending, confirmState{remaining: writes, failed: failed})
	tag := t.base + uint64(len(t.pending)-t.head) - 1
	if writes == 0 {
		t.dirty = true
	}
	return tag
}

// addWrite makes tag wait for one more store write.
func (t *confirmTracker) addWrite(tag uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i := t.head + int(tag-t.base); !t.closed && i >= t.head && i < len(t.pending) {
		t.pending[i].remaining++
	}
}

// complete records one finished store write for tag; it reports whether
// the tracker now has something to send.
func (t *confirmTracker) complete(tag uint64, err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := t.head + int(tag-t.base)
	if t.closed || i < t.head || i >= len(t.pending) {
		return false
	}
	st := &t.pending[i]
	st.remaining--
	if err != nil {
		st.failed = true
	}
	if st.remaining == 0 && i == t.head {
		t.dirty = true
	}
	return t.dirty
}

// appendFrames appends the confirms that are ready to out.
func (t *confirmTracker) appendFrames(out []byte, ch uint16) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty = false
	if t.closed {
		return out
	}
	var run uint64 // finished, successful tags since the last frame
	for t.head < len(t.pending) && t.pending[t.head].remaining == 0 {
		tag := t.base
		if t.pending[t.head].failed {
			out = t.flushRun(out, ch, run)
			run = 0
			t.nack.DeliveryTag = tag
			out = amqp.AppendMethodFrame(out, ch, &t.nack)
		} else {
			run++
		}
		t.head++
		t.base++
	}
	out = t.flushRun(out, ch, run)
	if t.head == len(t.pending) {
		t.pending, t.head = t.pending[:0], 0
	} else if t.head > 1024 && t.head > len(t.pending)/2 {
		n := copy(t.pending, t.pending[t.head:])
		t.pending, t.head = t.pending[:n], 0
	}
	return out
}

// flushRun acks the run of successful tags ending just before t.base.
func (t *confirmTracker) flushRun(out []byte, ch uint16, run uint64) []byte {
	if run == 0 {
		return out
	}
	t.ack.DeliveryTag = t.base - 1
	t.ack.Multiple = run > 1
	return amqp.AppendMethodFrame(out, ch, &t.ack)
}

// close drops what is pending: a closed channel confirms nothing more.
func (t *confirmTracker) close() {
	t.mu.Lock()
	t.closed = true
	t.pending = nil
	t.mu.Unlock()
}
