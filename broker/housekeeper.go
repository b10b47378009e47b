package broker

import "time"

// One goroutine per server, the housekeeper, does the periodic work a few
// times a second: it checks every channel's oldest unacked delivery
// (consumer_timeout.go), sends the heartbeats idle connections owe, and
// keeps the coarse clock that deliveries are stamped with: a clock read per
// delivery would cost more than the delivery's own bookkeeping.

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
