package broker

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/amqp"
)

// The consumer acknowledgement timeout, as RabbitMQ's consumer_timeout: a
// delivery left unacked for longer than the timeout (Options.ConsumerTimeout,
// or the queue's x-consumer-timeout) closes its channel with 406, and the
// channel's unacked messages go back to their queues.
//
// One goroutine per server (the housekeeper) checks every channel's oldest
// unacked delivery a few times a second, and keeps the coarse clock that
// deliveries are stamped with: a clock read per delivery would cost more
// than the delivery's own bookkeeping.

const housekeepingTick = 250 * time.Millisecond

// housekeeper runs until stop is closed.
func (s *Server) housekeeper(stop <-chan struct{}) {
	t := time.NewTicker(housekeepingTick)
	defer t.Stop()
	var conns []*conn
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.coarseNow.Store(now.UnixNano())
			s.checkConsumerTimeouts(now)
			conns = s.sendHeartbeats(now, conns[:0])
		}
	}
}

// sendHeartbeats sends a heartbeat to each connection that has written
// nothing for half its interval; the tick adds at most a quarter second
// to that half, within the interval the client expects. conns is scratch.
func (s *Server) sendHeartbeats(now time.Time, conns []*conn) []*conn {
	s.mu.Lock()
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	ns := now.UnixNano()
	for i, c := range conns {
		c.sendHeartbeat(ns)
		conns[i] = nil
	}
	return conns
}

func (s *Server) checkConsumerTimeouts(now time.Time) {
	s.channels.Range(func(k, _ any) bool {
		ch := k.(*channel)
		if timeout, late := ch.oldestUnackedTooOld(now); late {
			ch.timeOut(timeout)
		}
		return true
	})
}

// oldestUnackedTooOld reports whether the oldest unacked delivery of the
// channel is older than its queue's timeout.
func (ch *channel) oldestUnackedTooOld(now time.Time) (time.Duration, bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	l := &ch.unacked
	for i := l.head; i < len(l.items); i++ {
		it := &l.items[i]
		if it.acked || it.at == 0 {
			continue
		}
		timeout := it.q.consumerTimeout
		if timeout <= 0 {
			timeout = ch.c.s.opts.ConsumerTimeout
		}
		if timeout <= 0 {
			return 0, false
		}
		return timeout, now.UnixNano()-it.at > int64(timeout)
	}
	return 0, false
}

// timeOut closes the channel from the housekeeper's goroutine. Only what
// is safe there happens here (consumers detached, unacked requeued, the
// close sent); the reader sees timedOut and treats the channel as closing.
func (ch *channel) timeOut(timeout time.Duration) {
	if !ch.timedOut.CompareAndSwap(false, true) {
		return
	}
	ch.releaseShared()
	text := fmt.Sprintf("delivery acknowledgement on channel %d timed out. Timeout value used: %d ms. "+
		"This timeout value can be configured, see consumers doc guide to learn more", ch.id, timeout.Milliseconds())
	e := amqp.NewError(amqp.PreconditionFailed, 0, 0, "%s", text)
	ch.c.logAt(zerolog.InfoLevel).Uint16("channel", ch.id).Dur("timeout", timeout).Msg("consumer acknowledgement timed out")
	ch.c.writeMethod(ch.id, &amqp.ChannelClose{ReplyCode: e.Code, ReplyText: e.Text})
}
