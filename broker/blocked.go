package broker

import (
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
	if s.unblocked == nil {
		s.unblocked = make(chan struct{})
		s.blockReason = reason
		s.log.Warn().Str("reason", reason).Msg("blocking publishers")
	}
}

// Unblock clears the alarm; blocked connections are sent
// connection.unblocked and resume.
func (s *Server) Unblock() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unblocked != nil {
		close(s.unblocked)
		s.unblocked = nil
		s.log.Info().Msg("unblocking publishers")
	}
}

func (s *Server) alarm() (<-chan struct{}, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unblocked, s.blockReason
}

// waitWhileBlocked runs on the reader goroutine before a publish is
// processed. It returns false if the connection is being closed.
func (c *conn) waitWhileBlocked() bool {
	unblocked, reason := c.s.alarm()
	if unblocked == nil {
		return true
	}
	notify := c.capability("connection.blocked")
	if notify {
		c.writeMethod(0, &amqp.ConnectionBlocked{Reason: reason})
	}
	c.log.Debug().Str("reason", reason).Msg("connection blocked")
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
