package perf

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/warrenmq/warren/amqp"
)

// wireConn is a client connection that speaks AMQP 0-9-1 with Warren's
// codec over a raw socket, with one channel (number 1) open. It does the
// handshake synchronously; after that the pipelined producer and consumer
// own its reading and writing.
type wireConn struct {
	c        net.Conn
	br       *bufio.Reader
	fr       *amqp.FrameReader
	dec      amqp.MethodDecoder
	frameMax uint32

	wmu  sync.Mutex // guards wbuf and writes to c
	wbuf []byte
}

// wireChannel is the one channel a wireConn uses.
const wireChannel = 1

// wireFrameMax is the frame_max we ask for: RabbitMQ's default, and
// Warren's.
const wireFrameMax = 131072

// BrokerError is a connection.close or channel.close sent by the broker.
type BrokerError struct {
	Code     uint16
	Text     string
	ClassID  uint16
	MethodID uint16
	Channel  bool // channel.close rather than connection.close
}

func (e *BrokerError) Error() string {
	what := "connection"
	if e.Channel {
		what = "channel"
	}
	s := fmt.Sprintf("broker closed the %s: %d %s", what, e.Code, e.Text)
	if e.ClassID != 0 {
		s += fmt.Sprintf(" (in %s)", amqp.MethodName(uint32(e.ClassID)<<16|uint32(e.MethodID)))
	}
	return s
}

// dialWire connects, authenticates with PLAIN, tunes (heartbeats off, so
// that a busy or idle client owes the broker nothing), opens the vhost and
// channel 1.
func dialWire(ctx context.Context, uri amqp091.URI, readBuf int) (*wireConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port)))
	if err != nil {
		return nil, err
	}
	w := &wireConn{c: c, br: bufio.NewReaderSize(c, readBuf)}
	w.fr = amqp.NewFrameReader(w.br)
	if err := w.handshake(ctx, uri); err != nil {
		_ = c.Close()
		return nil, err
	}
	return w, nil
}

func (w *wireConn) handshake(ctx context.Context, uri amqp091.URI) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = w.c.SetDeadline(dl)
	} else {
		_ = w.c.SetDeadline(time.Now().Add(30 * time.Second))
	}
	defer func() { _ = w.c.SetDeadline(time.Time{}) }()
	if _, err := w.c.Write([]byte(amqp.ProtocolHeader)); err != nil {
		return err
	}
	m, err := w.expect(amqp.MethodConnectionStart)
	if err != nil {
		return fmt.Errorf("connection.start: %w", err)
	}
	if start := m.(*amqp.ConnectionStart); !strings.Contains(" "+start.Mechanisms+" ", " PLAIN ") {
		return fmt.Errorf("broker offers %q, not PLAIN", start.Mechanisms)
	}
	caps := amqp.Table{
		{Key: "publisher_confirms", Value: true},
		{Key: "basic.nack", Value: true},
		{Key: "consumer_cancel_notify", Value: true},
		{Key: "connection.blocked", Value: true},
	}
	err = w.sendNow(&amqp.ConnectionStartOk{
		ClientProperties: amqp.Table{
			{Key: "product", Value: "warren-perf"},
			{Key: "platform", Value: "Go"},
			{Key: "connection_name", Value: "warren-perf (pipelined)"},
			{Key: "capabilities", Value: caps},
		},
		Mechanism: "PLAIN",
		Response:  "\x00" + uri.Username + "\x00" + uri.Password,
		Locale:    "en_US",
	})
	if err != nil {
		return err
	}
	m, err = w.expect(amqp.MethodConnectionTune)
	if err != nil {
		return fmt.Errorf("connection.tune: %w", err)
	}
	tune := m.(*amqp.ConnectionTune)
	w.frameMax = wireFrameMax
	if tune.FrameMax != 0 && tune.FrameMax < w.frameMax {
		w.frameMax = tune.FrameMax
	}
	if err := w.sendNow(&amqp.ConnectionTuneOk{ChannelMax: tune.ChannelMax, FrameMax: w.frameMax, Heartbeat: 0}); err != nil {
		return err
	}
	w.fr.SetFrameMax(w.frameMax)
	if err := w.sendNow(&amqp.ConnectionOpen{VirtualHost: uri.Vhost}); err != nil {
		return err
	}
	if _, err := w.expect(amqp.MethodConnectionOpenOk); err != nil {
		return fmt.Errorf("connection.open: %w", err)
	}
	if err := w.sendNow(&amqp.ChannelOpen{}); err != nil {
		return err
	}
	if _, err := w.expect(amqp.MethodChannelOpenOk); err != nil {
		return fmt.Errorf("channel.open: %w", err)
	}
	return nil
}

// appendMethod appends a method frame on the channel (channel 0 for the
// connection class) to wbuf. The caller holds wmu or owns w alone.
func (w *wireConn) appendMethod(m amqp.Method) {
	ch := uint16(wireChannel)
	if amqp.ClassOf(m.ID()) == amqp.ClassConnection {
		ch = 0
	}
	w.wbuf = amqp.AppendMethodFrame(w.wbuf, ch, m)
}

// flushLocked writes wbuf. The caller holds wmu.
func (w *wireConn) flushLocked() error {
	if len(w.wbuf) == 0 {
		return nil
	}
	_, err := w.c.Write(w.wbuf)
	w.wbuf = w.wbuf[:0]
	return err
}

// sendNow appends m and writes everything buffered.
func (w *wireConn) sendNow(m amqp.Method) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.appendMethod(m)
	return w.flushLocked()
}

// expect reads frames until a method arrives, and returns it if it is id.
// connection.close and channel.close are answered and returned as a
// *BrokerError. Only for the synchronous set-up: deliveries in between
// are an error.
func (w *wireConn) expect(id uint32) (amqp.Method, error) {
	for {
		f, err := w.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		if f.Type == amqp.FrameHeartbeat {
			continue
		}
		if f.Type != amqp.FrameMethod {
			return nil, fmt.Errorf("unexpected frame type %d while waiting for %s", f.Type, amqp.MethodName(id))
		}
		m, err := w.dec.Decode(f.Payload)
		if err != nil {
			return nil, err
		}
		if be := w.brokerClose(m); be != nil {
			return nil, be
		}
		if m.ID() != id {
			return nil, fmt.Errorf("got %s, want %s", m.Name(), amqp.MethodName(id))
		}
		return m, nil
	}
}

// brokerClose answers a connection.close or channel.close from the broker
// and returns it as an error; any other method gives nil.
func (w *wireConn) brokerClose(m amqp.Method) *BrokerError {
	switch m := m.(type) {
	case *amqp.ConnectionClose:
		_ = w.sendNow(&amqp.ConnectionCloseOk{})
		return &BrokerError{Code: m.ReplyCode, Text: m.ReplyText, ClassID: m.ClassID, MethodID: m.MethodID}
	case *amqp.ChannelClose:
		_ = w.sendNow(&amqp.ChannelCloseOk{})
		return &BrokerError{Code: m.ReplyCode, Text: m.ReplyText, ClassID: m.ClassID, MethodID: m.MethodID, Channel: true}
	}
	return nil
}

// closeGracefully sends connection.close and waits (up to timeout) for
// close-ok, reading and discarding whatever comes first. Only for a
// connection nobody else reads from.
func (w *wireConn) closeGracefully(timeout time.Duration) error {
	defer w.c.Close()
	_ = w.c.SetDeadline(time.Now().Add(timeout))
	if err := w.sendNow(&amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "bye"}); err != nil {
		return err
	}
	for {
		f, err := w.fr.ReadFrame()
		if err != nil {
			return err
		}
		if f.Type != amqp.FrameMethod || len(f.Payload) < 4 {
			continue
		}
		switch binary.BigEndian.Uint32(f.Payload) {
		case amqp.MethodConnectionCloseOk:
			return nil
		case amqp.MethodConnectionClose:
			_ = w.sendNow(&amqp.ConnectionCloseOk{})
			return nil
		}
	}
}

// errClosed reports an error that only says the socket is gone, which is
// how a forced stop looks.
func errClosed(err error) bool {
	return errors.Is(err, net.ErrClosed)
}
