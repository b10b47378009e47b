package broker

import (
	"time"

	"github.com/rs/zerolog"
)

// Deliveries made while a publisher's reader handles its read batch are
// written out by that reader at the end of the batch (nats' flushClients),
// not by waking each consumer connection's writer goroutine. Waking a
// goroutine makes the Go runtime wake a second thread as well, which on
// a virtual machine is an inter-processor interrupt on the message's path:
// at 1,000 msg/s, writing inline took p99 latency from 229-254 to 217-222 µs.
// The inline write never blocks the publisher: it takes what the socket
// accepts now and leaves the rest to the writer goroutine. Large outputs go
// to the writer goroutine from the start, so that under load the writes
// still run on another core, in parallel with the reader.

// inlineFlushMax is the most output a delivery leaves for an inline flush;
// beyond it the writer goroutine is woken at once.
const inlineFlushMax = 16 << 10

// wakeFor makes sure output just queued on c gets written: by the reader
// of via (the publishing connection, on whose goroutine this runs) at the
// end of its read batch, or else by c's writer goroutine. pending is the
// size of c's outbound buffer after the append.
//
// Only the last frame of a batch defers: while via has more input buffered
// the publisher is under load, and the writer goroutines then write in
// parallel with its reader, which is what throughput needs (fan-out to ten
// consumers lost 25-40% when all writes waited for the end of the batch).
// A reader keeping up with a light load ends a batch at every message, and
// there latency is what counts.
func (c *conn) wakeFor(via *conn, pending int) {
	if via == nil || via.br.Buffered() > 0 || pending > inlineFlushMax || !c.raw.ok() {
		c.signal()
		return
	}
	via.deferFlush(c)
}

// deferFlush records that c has output for the end of this reader's batch.
// Reader goroutine only; it may run under the queue and channel locks.
func (r *conn) deferFlush(c *conn) {
	// A batch mostly delivers to the same few connections: looking at the
	// last few entries keeps the list short without a map.
	for i := len(r.deferred) - 1; i >= 0 && i >= len(r.deferred)-8; i-- {
		if r.deferred[i] == c {
			return
		}
	}
	if len(r.deferred) >= 256 { // a batch writing to that many: the writers
		c.signal()
		return
	}
	r.deferred = append(r.deferred, c)
}

// flushDeferred writes out what the batch delivered. Reader goroutine
// only; it must run before the reader waits for anything.
func (r *conn) flushDeferred() {
	for i, c := range r.deferred {
		c.flushInline()
		r.deferred[i] = nil
	}
	r.deferred = r.deferred[:0]
}

// flushInline writes c's output without blocking: what the socket does not
// take now, or output while another flush runs, is left to the writer.
func (c *conn) flushInline() {
	if !c.flushMu.TryLock() {
		c.signal()
		return
	}
	done := len(c.carry) == 0 && c.raw.ok()
	if done {
		c.takeOut()
		done = c.writeCarry(false)
	}
	c.flushMu.Unlock()
	if !done {
		c.signal()
	}
}

// takeOut moves the outbound buffer into carry, to be written; flushMu is
// held and carry is empty.
func (c *conn) takeOut() {
	c.outMu.Lock()
	buf := c.out
	c.out = c.spare[:0]
	c.outMu.Unlock()
	c.spare = nil
	c.carry, c.carried = buf, buf
}

// writeCarry writes carry, blocking (with a deadline) or not, and reports
// whether all of it was written without error; flushMu is held. A failed
// blocking write means the socket is broken. Once carry is written its
// buffer becomes the spare for the next swap.
func (c *conn) writeCarry(blocking bool) bool {
	if len(c.carry) > 0 {
		var n int
		var err error
		now := time.Now()
		if blocking {
			_ = c.nc.SetWriteDeadline(now.Add(30 * time.Second))
			n, err = c.nc.Write(c.carry)
		} else {
			n, err = c.raw.tryWrite(c.carry)
		}
		c.written.Store(now.UnixNano())
		c.carry = c.carry[n:]
		if err != nil || len(c.carry) > 0 {
			if blocking {
				c.logAt(zerolog.DebugLevel).Err(err).Msg("write failed")
			}
			return false
		}
	}
	// Keep the buffer for reuse; give a large one back only when the
	// burst that grew it is over (this write used under a quarter of it).
	// Dropping it after every large write made a sustained fan-out regrow
	// it from nothing on each flush.
	buf := c.carried
	if cap(buf) > 4<<20 && len(buf) < cap(buf)/4 {
		buf = nil
	}
	if c.shrinkBuffers.CompareAndSwap(true, false) {
		buf = nil
		c.outMu.Lock()
		if len(c.out) == 0 {
			c.out = nil
		}
		c.outMu.Unlock()
	}
	c.spare, c.carry, c.carried = buf[:0], nil, nil
	return true
}
