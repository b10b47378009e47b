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
// The housekeeper (housekeeper.go) runs the check a few times a second.

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
