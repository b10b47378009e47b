package conformance

// Helpers for the cases that put raw frames on the wire (section
// "errors"), built on conformance/rawconn. Names carry an "r" prefix so
// they cannot collide with helpers of other sections.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/conformance/rawconn"
)

// rSilentClose is how long RabbitMQ waits before it closes the socket
// after an error it does not report with connection.close (a failed
// handshake, a fatal frame error): SILENT_CLOSE_DELAY in rabbit_reader,
// 3 s.
const rSilentClose = 3 * time.Second

// rCreds returns the user, password and vhost of the target URL.
func rCreds(t T, env *Env) (user, pass, vhost string) {
	t.Helper()
	u, err := amqp091.ParseURI(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	return u.Username, u.Password, u.Vhost
}

// rSocket opens a TCP connection to the target and sends nothing. It is
// closed when the case ends.
func rSocket(t T, env *Env) *rawconn.Conn {
	t.Helper()
	c, err := rawconn.Dial(env.Addr())
	if err != nil {
		t.Fatalf("%v", err)
	}
	// Long enough to see a socket RabbitMQ closes rSilentClose after an
	// error, with the usual margin on top.
	c.Timeout = rSilentClose + Timeout
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rDial opens a raw connection and completes the handshake.
func rDial(t T, env *Env) *rawconn.Conn {
	t.Helper()
	c := rSocket(t, env)
	user, pass, vhost := rCreds(t, env)
	if err := c.Handshake(user, pass, vhost); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return c
}

// rDialChannel opens a raw connection and channel 1 on it.
func rDialChannel(t T, env *Env) *rawconn.Conn {
	t.Helper()
	c := rDial(t, env)
	rMust(t, c.OpenChannel(1), "channel.open 1")
	return c
}

// rMust fails the case on a send or expectation error.
func rMust(t T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// rText checks a reply text: exact, or a prefix when want ends in "*".
func rText(got, want string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(got, p)
	}
	return got == want
}

// rAny as a class or method id tells rExpectConnClose not to check it.
const rAny = 0xFFFF

// rExpectConnClose waits for connection.close with the given code, reply
// text (exact, or a prefix when it ends in "*") and class and method ids
// (rAny for any), answers close-ok, and checks that the server then closes
// the socket.
func rExpectConnClose(t T, c *rawconn.Conn, code uint16, text string, classID, methodID uint16, what string) {
	t.Helper()
	cl, err := c.ExpectConnectionClose(code)
	var ce *rawconn.CodeError
	if err != nil && !errors.As(err, &ce) {
		t.Fatalf("%s: %v", what, err)
	}
	if err != nil {
		t.Fatalf("%s: connection.close %d %q, want %d %q", what, cl.ReplyCode, cl.ReplyText, code, text)
	}
	if !rText(cl.ReplyText, text) {
		t.Errorf("%s: reply text %q, want %q", what, cl.ReplyText, text)
	}
	if (classID != rAny && cl.ClassID != classID) || (methodID != rAny && cl.MethodID != methodID) {
		t.Errorf("%s: close names class %d method %d, want %d %d", what, cl.ClassID, cl.MethodID, classID, methodID)
	}
	if err := c.ExpectEOF(); err != nil {
		t.Errorf("%s: after close-ok: %v", what, err)
	}
}

// rExpectRefused is for errors before connection.open-ok. RabbitMQ sends
// no connection.close there: it waits SILENT_CLOSE_DELAY (3 s) and drops
// the socket. Warren answers with connection.close and the spec's code
// (530 for a tune-ok out of range, as our issue tracker asks, 501 for an
// oversize frame, 503 for a wrong method), which tells the client why. The
// case accepts both: the socket must close, and a close must carry code.
func rExpectRefused(t T, c *rawconn.Conn, code uint16, what string) {
	t.Helper()
	if err := rTerminated(c, []uint16{code}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// rExpectTerminated is for errors where RabbitMQ 3.x crashes the
// connection process and drops the socket without connection.close: the
// case accepts that, or a connection.close with one of codes, followed by
// the socket closing.
func rExpectTerminated(t T, c *rawconn.Conn, codes []uint16, what string) {
	t.Helper()
	if err := rTerminated(c, codes); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// rTerminated is the check behind rExpectRefused and rExpectTerminated.
func rTerminated(c *rawconn.Conn, codes []uint16) error {
	ch, m, err := c.ReadMethod()
	if err != nil {
		// rawconn wraps the read error; a closed socket is what we want.
		if eofErr := c.ExpectEOF(); eofErr != nil {
			return fmt.Errorf("want the connection closed: %w", err)
		}
		return nil
	}
	cl, ok := m.(*amqp.ConnectionClose)
	if !ok || ch != 0 {
		return fmt.Errorf("got %s on channel %d, want the connection closed", rawconn.Describe(m), ch)
	}
	_ = c.SendMethod(0, &amqp.ConnectionCloseOk{})
	okCode := false
	for _, code := range codes {
		okCode = okCode || cl.ReplyCode == code
	}
	if !okCode {
		return fmt.Errorf("got %s, want the socket closed or a close with one of %v", rawconn.Describe(cl), codes)
	}
	if err := c.ExpectEOF(); err != nil {
		return fmt.Errorf("after close-ok: %w", err)
	}
	return nil
}

// rBrokerOK checks that a fresh connection still completes the handshake,
// opens a channel and declares a queue: the error hurt only its own
// connection.
func rBrokerOK(t T, env *Env) {
	t.Helper()
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Exclusive: true, AutoDelete: true}), "queue.declare")
	if _, err := rawconn.Expect[*amqp.QueueDeclareOk](c, 1); err != nil {
		t.Fatalf("fresh connection after the error: %v", err)
	}
	rMust(t, c.CloseConnection(), "connection.close on the fresh connection")
}

// rQueue declares a server-named exclusive queue on channel 1 of c and
// returns its name.
func rQueue(t T, c *rawconn.Conn) string {
	t.Helper()
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Exclusive: true}), "queue.declare")
	ok, err := rawconn.Expect[*amqp.QueueDeclareOk](c, 1)
	rMust(t, err, "queue.declare")
	return ok.Queue
}

// rOctets formats bytes as Erlang prints a binary that is not a printable
// string (~p, short enough not to be truncated or wrapped), the way
// RabbitMQ quotes frames in FRAME_ERROR and UNEXPECTED_FRAME texts:
// <<0,50,0,10>>.
func rOctets(b []byte) string {
	var s strings.Builder
	s.WriteString("<<")
	for i, v := range b {
		if i > 0 {
			s.WriteByte(',')
		}
		fmt.Fprint(&s, v)
	}
	s.WriteString(">>")
	return s.String()
}
