package broker

import (
	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/amqp"
)

// Block raises a resource alarm, as RabbitMQ's memory and disk alarms do:
// a connection that publishes while it is raised is sent
// connection.blocked (if it announced the capability) and is not read
// from until Unblock. Consumers keep receiving, which is what drains the
// broker.
func (s *Server) Block(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alarmState.Load() == nil {
		s.alarmState.Store(&alarm{unblocked: make(chan struct{}), reason: reason})
		s.log.Warn().Str("reason", reason).Msg("blocking publishers")
	}
}

// alarm is a raised resource alarm; unblocked closes when it clears.
type alarm struct {
	unblocked chan struct{}
	reason    string
}

// Unblock clears the alarm; blocked connections are sent
// connection.unblocked and resume.
func (s *Server) Unblock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.alarmState.Load(); a != nil {
		close(a.unblocked)
		s.alarmState.Store(nil)
		s.log.Info().Msg("unblocking publishers")
	}
}

// waitWhileBlocked runs on the reader goroutine before a publish is
// processed. It returns false if the connection is being closed.
func (c *conn) waitWhileBlocked() bool {
	// An atomic load: this runs for every publish, on every connection.
	a := c.s.alarmState.Load()
	if a == nil {
		return true
	}
	unblocked, reason := a.unblocked, a.reason
	notify := c.capBlocked
	if notify {
		c.writeMethod(0, &amqp.ConnectionBlocked{Reason: reason})
	}
	c.logAt(zerolog.DebugLevel).Str("reason", reason).Msg("connection blocked")
	c.flushDeferred() // consumers keep receiving while this reader waits
	select {
	case <-unblocked:
	case <-c.kill:
		return false
	}
	if notify {
		c.writeMethod(0, &amqp.ConnectionUnblocked{})
	}
	return true
}
