// Package rawconn is a raw AMQP 0-9-1 client for tests that must put
// exact bytes on the wire: malformed frames, frames in the wrong order,
// methods on the wrong channel, the errors amqp091-go cannot produce. It
// follows nats' test setupConn → (send, expect): a Conn writes frames built
// with the amqp codec (or arbitrary bytes) and reads the broker's answer
// with an expectation.
//
// Every read and write is bounded by Conn.Timeout, and every failure is
// returned as an error: nothing panics and nothing blocks forever, so a
// broker that does not answer fails a test rather than hanging it.
package rawconn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// DefaultTimeout bounds each read and write unless Conn.Timeout is changed.
const DefaultTimeout = 5 * time.Second

// Conn is one raw AMQP connection. It is not safe for concurrent use.
type Conn struct {
	// Timeout bounds each read and each write.
	Timeout time.Duration

	// Start and Tune are the server's connection.start and
	// connection.tune, filled in by Handshake.
	Start *amqp.ConnectionStart
	Tune  *amqp.ConnectionTune

	// FrameMax and ChannelMax are the negotiated values Handshake sent in
	// tune-ok (the server's own). SendContent splits bodies at FrameMax.
	FrameMax   uint32
	ChannelMax uint16

	nc   net.Conn
	br   *bufio.Reader
	fr   *amqp.FrameReader
	wbuf []byte
}

// Dial opens a TCP connection to addr (host:port). It sends nothing.
func Dial(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("rawconn: dial %s: %w", addr, err)
	}
	return New(nc), nil
}

// New wraps an established connection, e.g. one end of net.Pipe.
func New(nc net.Conn) *Conn {
	br := bufio.NewReader(nc)
	fr := amqp.NewFrameReader(br)
	// The client does not enforce frame_max on what the server sends: a
	// test wants to see the frame, whatever its size.
	fr.SetFrameMax(0)
	return &Conn{Timeout: DefaultTimeout, FrameMax: amqp.FrameMinSize, nc: nc, br: br, fr: fr}
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the socket without an AMQP close.
func (c *Conn) Close() error { return c.nc.Close() }

// SendRaw writes b as it is.
func (c *Conn) SendRaw(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("rawconn: write: %w", err)
	}
	return nil
}

// SendProtocolHeader writes the AMQP 0-9-1 protocol header.
func (c *Conn) SendProtocolHeader() error { return c.SendRaw([]byte(amqp.ProtocolHeader)) }

// Send writes f as one well-formed frame: its size field is the payload's
// length and it ends in the frame-end octet, whatever the type, channel or
// payload. Use SendRaw for a malformed frame.
func (c *Conn) Send(f amqp.Frame) error {
	return c.SendRaw(AppendFrame(c.wbuf[:0], f.Type, f.Channel, f.Payload))
}

// SendMethod writes a method frame.
func (c *Conn) SendMethod(ch uint16, m amqp.Method) error {
	c.wbuf = amqp.AppendMethodFrame(c.wbuf[:0], ch, m)
	return c.SendRaw(c.wbuf)
}

// SendContent writes a basic-class content header carrying props (nil
// for none) and the body cut into frames of at most FrameMax bytes.
func (c *Conn) SendContent(ch uint16, props *amqp.Properties, body []byte) error {
	var p amqp.Properties
	if props != nil {
		p = *props
	}
	b := amqp.AppendHeaderFrame(c.wbuf[:0], ch, amqp.ClassBasic, uint64(len(body)), amqp.AppendProperties(nil, &p))
	c.wbuf = amqp.AppendBodyFrames(b, ch, body, c.FrameMax)
	return c.SendRaw(c.wbuf)
}

// Publish writes basic.publish followed by its content.
func (c *Conn) Publish(ch uint16, exchange, key string, body []byte) error {
	if err := c.SendMethod(ch, &amqp.BasicPublish{Exchange: exchange, RoutingKey: key}); err != nil {
		return err
	}
	return c.SendContent(ch, nil, body)
}

// AppendFrame appends a frame of any type with a correct size field and
// frame-end octet.
func AppendFrame(b []byte, typ uint8, ch uint16, payload []byte) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint16(b, ch)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, amqp.FrameEnd)
}

// MethodPayload returns a method frame payload: the class and method ids
// followed by args, which may be anything (truncated, garbage).
func MethodPayload(classID, methodID uint16, args []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, classID)
	b = binary.BigEndian.AppendUint16(b, methodID)
	return append(b, args...)
}

// ReadRaw reads exactly n bytes, for answers that are not frames (a
// protocol header).
func (c *Conn) ReadRaw(n int) ([]byte, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	b := make([]byte, n)
	got, err := io.ReadFull(c.br, b)
	if err != nil {
		return b[:got], fmt.Errorf("rawconn: read %d bytes (got %q): %w", n, b[:got], err)
	}
	return b, nil
}

// ReadFrame reads the next frame, heartbeats included. Its payload is a
// copy and stays valid.
func (c *Conn) ReadFrame() (amqp.Frame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	f, err := c.fr.ReadFrame()
	if err != nil {
		return amqp.Frame{}, fmt.Errorf("rawconn: read frame: %w", err)
	}
	f.Payload = bytes.Clone(f.Payload)
	return f, nil
}

// next reads the next frame that is not a heartbeat.
func (c *Conn) next() (amqp.Frame, error) {
	for {
		f, err := c.ReadFrame()
		if err != nil || f.Type != amqp.FrameHeartbeat {
			return f, err
		}
	}
}

// ReadMethod reads the next non-heartbeat frame, which must be a method
// frame, and decodes it.
func (c *Conn) ReadMethod() (uint16, amqp.Method, error) {
	f, err := c.next()
	if err != nil {
		return 0, nil, err
	}
	if f.Type != amqp.FrameMethod {
		return f.Channel, nil, fmt.Errorf("rawconn: got frame type %d on channel %d, want a method frame", f.Type, f.Channel)
	}
	m, err := amqp.DecodeMethod(f.Payload)
	if err != nil {
		return f.Channel, nil, fmt.Errorf("rawconn: decode method on channel %d: %w", f.Channel, err)
	}
	return f.Channel, m, nil
}

// Describe formats a method for messages, with the reply code and text of
// a close.
func Describe(m amqp.Method) string {
	switch m := m.(type) {
	case *amqp.ConnectionClose:
		return fmt.Sprintf("connection.close %d %q (class %d, method %d)", m.ReplyCode, m.ReplyText, m.ClassID, m.MethodID)
	case *amqp.ChannelClose:
		return fmt.Sprintf("channel.close %d %q (class %d, method %d)", m.ReplyCode, m.ReplyText, m.ClassID, m.MethodID)
	case nil:
		return "nothing"
	}
	return m.Name()
}

// Expect reads the next non-heartbeat frame, which must be method M on
// channel ch.
func Expect[M amqp.Method](c *Conn, ch uint16) (M, error) {
	var zero M
	got, m, err := c.ReadMethod()
	if err != nil {
		return zero, fmt.Errorf("want %s on channel %d: %w", zero.Name(), ch, err)
	}
	want, ok := m.(M)
	if !ok || got != ch {
		return zero, fmt.Errorf("rawconn: got %s on channel %d, want %s on channel %d", Describe(m), got, zero.Name(), ch)
	}
	return want, nil
}

// CodeError is returned by ExpectConnectionClose and ExpectChannelClose
// when the close came with another reply code.
type CodeError struct {
	Want  uint16
	Got   uint16
	Text  string
	Close amqp.Method
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("rawconn: got %s, want reply code %d", Describe(e.Close), e.Want)
}

// ExpectConnectionClose reads the next non-heartbeat frame, which must be
// connection.close with the given reply code (0 accepts any), and answers
// it with connection.close-ok. It returns the close whatever its code, so
// a caller can report the text.
func (c *Conn) ExpectConnectionClose(code uint16) (*amqp.ConnectionClose, error) {
	cl, err := Expect[*amqp.ConnectionClose](c, 0)
	if err != nil {
		return nil, err
	}
	if err := c.SendMethod(0, &amqp.ConnectionCloseOk{}); err != nil {
		return cl, err
	}
	if code != 0 && cl.ReplyCode != code {
		return cl, &CodeError{Want: code, Got: cl.ReplyCode, Text: cl.ReplyText, Close: cl}
	}
	return cl, nil
}

// ExpectChannelClose reads the next non-heartbeat frame, which must be
// channel.close on ch with the given reply code (0 accepts any), and
// answers it with channel.close-ok, so that ch may be opened again.
func (c *Conn) ExpectChannelClose(ch, code uint16) (*amqp.ChannelClose, error) {
	cl, err := Expect[*amqp.ChannelClose](c, ch)
	if err != nil {
		return nil, err
	}
	if err := c.SendMethod(ch, &amqp.ChannelCloseOk{}); err != nil {
		return cl, err
	}
	if code != 0 && cl.ReplyCode != code {
		return cl, &CodeError{Want: code, Got: cl.ReplyCode, Text: cl.ReplyText, Close: cl}
	}
	return cl, nil
}

// ErrNotClosed is returned by ExpectEOF when the peer kept the socket open
// for the whole timeout.
var ErrNotClosed = errors.New("rawconn: socket still open")

// ExpectEOF waits for the peer to close the socket. Heartbeats are
// skipped; any other frame is an error that describes it, as is a socket
// still open after Timeout. A reset counts as closed.
func (c *Conn) ExpectEOF() error {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	for {
		if _, err := c.br.Peek(1); err != nil {
			return c.eof(err)
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("rawconn: want the socket closed, got a broken frame: %w", err)
		}
		if f.Type == amqp.FrameHeartbeat {
			continue
		}
		return fmt.Errorf("rawconn: got %s, want the socket closed", describeFrame(f))
	}
}

// ExpectSilence checks that nothing but heartbeats arrives for d and that
// the socket stays open.
func (c *Conn) ExpectSilence(d time.Duration) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(d))
	for {
		_, err := c.br.Peek(1)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rawconn: want silence for %v, socket closed: %w", d, err)
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("rawconn: want silence for %v: %w", d, err)
		}
		if f.Type != amqp.FrameHeartbeat {
			return fmt.Errorf("rawconn: got %s, want silence for %v", describeFrame(f), d)
		}
	}
}

// describeFrame names a frame for messages: the method (with the code and
// text of a close) or the frame type.
func describeFrame(f amqp.Frame) string {
	if f.Type == amqp.FrameMethod {
		if m, err := amqp.DecodeMethod(f.Payload); err == nil {
			return fmt.Sprintf("%s on channel %d", Describe(m), f.Channel)
		}
	}
	return fmt.Sprintf("frame type %d on channel %d (%d bytes)", f.Type, f.Channel, len(f.Payload))
}

func (c *Conn) eof(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w after %v", ErrNotClosed, c.Timeout)
	case errors.Is(err, syscall.ECONNRESET):
		return nil // closed, if not gracefully
	}
	return fmt.Errorf("rawconn: waiting for close: %w", err)
}

// Handshake sends the protocol header and completes the opening of spec
// 2.2.4: start-ok with PLAIN credentials, tune-ok echoing the server's
// channel_max and frame_max with heartbeats off, and connection.open of
// vhost.
func (c *Conn) Handshake(user, pass, vhost string) error {
	if err := c.SendProtocolHeader(); err != nil {
		return err
	}
	return c.Login(user, pass, vhost)
}

// Login is Handshake after the protocol header, for a test that sent its
// own header.
func (c *Conn) Login(user, pass, vhost string) error {
	tune, err := c.Authenticate(user, pass)
	if err != nil {
		return err
	}
	if err := c.TuneOk(tune.ChannelMax, tune.FrameMax, 0); err != nil {
		return err
	}
	return c.Open(vhost)
}

// Authenticate waits for connection.start, answers it with start-ok
// (PLAIN) and waits for connection.tune, which it returns. The caller
// sends tune-ok.
func (c *Conn) Authenticate(user, pass string) (*amqp.ConnectionTune, error) {
	start, err := Expect[*amqp.ConnectionStart](c, 0)
	if err != nil {
		return nil, err
	}
	c.Start = start
	if err := c.SendMethod(0, &amqp.ConnectionStartOk{
		ClientProperties: amqp.Table{
			{Key: "product", Value: "warren rawconn"},
			{Key: "capabilities", Value: amqp.Table{
				{Key: "authentication_failure_close", Value: true},
			}},
		},
		Mechanism: "PLAIN",
		Response:  "\x00" + user + "\x00" + pass,
		Locale:    "en_US",
	}); err != nil {
		return nil, err
	}
	tune, err := Expect[*amqp.ConnectionTune](c, 0)
	if err != nil {
		return nil, err
	}
	c.Tune = tune
	return tune, nil
}

// Open sends connection.open and waits for open-ok.
func (c *Conn) Open(vhost string) error {
	if err := c.SendMethod(0, &amqp.ConnectionOpen{VirtualHost: vhost}); err != nil {
		return err
	}
	_, err := Expect[*amqp.ConnectionOpenOk](c, 0)
	return err
}

// TuneOk sends connection.tune-ok with the given values and records
// frame_max and channel_max as negotiated.
func (c *Conn) TuneOk(channelMax uint16, frameMax uint32, heartbeat uint16) error {
	c.ChannelMax, c.FrameMax = channelMax, frameMax
	return c.SendMethod(0, &amqp.ConnectionTuneOk{ChannelMax: channelMax, FrameMax: frameMax, Heartbeat: heartbeat})
}

// OpenChannel sends channel.open on ch and waits for open-ok.
func (c *Conn) OpenChannel(ch uint16) error {
	if err := c.SendMethod(ch, &amqp.ChannelOpen{}); err != nil {
		return err
	}
	_, err := Expect[*amqp.ChannelOpenOk](c, ch)
	return err
}

// CloseConnection runs the client side of connection.close: send close,
// wait for close-ok (skipping anything else the server still had in
// flight), then close the socket.
func (c *Conn) CloseConnection() error {
	defer c.nc.Close()
	if err := c.SendMethod(0, &amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "bye"}); err != nil {
		return err
	}
	for {
		f, err := c.next()
		if err != nil {
			return err
		}
		if f.Type == amqp.FrameMethod && f.Channel == 0 && len(f.Payload) >= 4 &&
			binary.BigEndian.Uint32(f.Payload) == amqp.MethodConnectionCloseOk {
			return nil
		}
	}
}
