package amqp

import "fmt"

// Error is an AMQP exception: the reply code and text that go into a
// channel.close or connection.close, and the class/method that caused it.
// Whether it closes the channel or the connection follows from Code (see
// IsConnectionError), in RabbitMQ's classification rather than the bare
// spec table.
type Error struct {
	Code     uint16
	Text     string
	ClassID  uint16
	MethodID uint16
	// Cause is the decoding error behind a 501 "cannot decode", for logs.
	Cause error
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("amqp %d: %s (class %d, method %d): %v", e.Code, e.Text, e.ClassID, e.MethodID, e.Cause)
	}
	return fmt.Sprintf("amqp %d: %s (class %d, method %d)", e.Code, e.Text, e.ClassID, e.MethodID)
}

// Connection reports whether the error closes the whole connection.
func (e *Error) Connection() bool { return IsConnectionError(e.Code) }

// NewError builds an *Error with a formatted reply text. Reply texts follow
// RabbitMQ's style: "NOT_FOUND - no queue 'q1' in vhost '/'".
func NewError(code uint16, classID, methodID uint16, format string, args ...any) *Error {
	return &Error{Code: code, ClassID: classID, MethodID: methodID,
		Text: ReplyName(code) + " - " + fmt.Sprintf(format, args...)}
}

// IsConnectionError follows RabbitMQ: 311-313 and 403-406 close the channel;
// 320, 402, 501-506, 530, 540 and 541 close the connection.
func IsConnectionError(code uint16) bool {
	switch code {
	case ContentTooLarge, NoRoute, NoConsumers, AccessRefused, NotFound, ResourceLocked, PreconditionFailed:
		return false
	}
	return true
}
