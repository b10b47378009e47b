package rawconn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// peer is the scripted server end of a net.Pipe, in the style of
// amqp091-go's client_test.go.
type peer struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
	fr *amqp.FrameReader
}

func pipe(t *testing.T) (*Conn, *peer) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	c := New(a)
	c.Timeout = time.Second
	br := bufio.NewReader(b)
	fr := amqp.NewFrameReader(br)
	fr.SetFrameMax(0)
	return c, &peer{t: t, nc: b, br: br, fr: fr}
}

// run runs the script on its own goroutine and returns a channel that
// yields its error.
func (p *peer) run(script func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- script() }()
	return done
}

func (p *peer) send(ch uint16, m amqp.Method) error {
	_, err := p.nc.Write(amqp.AppendMethodFrame(nil, ch, m))
	return err
}

func (p *peer) recv() (uint16, amqp.Method, error) {
	f, err := p.fr.ReadFrame()
	if err != nil {
		return 0, nil, err
	}
	m, err := amqp.DecodeMethod(f.Payload)
	return f.Channel, m, err
}

func wait(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("peer: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("peer did not finish")
	}
}

func TestHandshake(t *testing.T) {
	c, p := pipe(t)
	done := p.run(func() error {
		var h [8]byte
		if _, err := io.ReadFull(p.br, h[:]); err != nil {
			return err
		}
		if string(h[:]) != amqp.ProtocolHeader {
			return errors.New("bad header " + string(h[:]))
		}
		if err := p.send(0, &amqp.ConnectionStart{VersionMinor: 9, Mechanisms: "PLAIN", Locales: "en_US"}); err != nil {
			return err
		}
		_, m, err := p.recv()
		if err != nil {
			return err
		}
		if so, ok := m.(*amqp.ConnectionStartOk); !ok || so.Response != "\x00u\x00p" || so.Mechanism != "PLAIN" {
			return errors.New("bad start-ok")
		}
		if err := p.send(0, &amqp.ConnectionTune{ChannelMax: 7, FrameMax: 8192, Heartbeat: 60}); err != nil {
			return err
		}
		_, m, err = p.recv()
		if err != nil {
			return err
		}
		if to, ok := m.(*amqp.ConnectionTuneOk); !ok || to.ChannelMax != 7 || to.FrameMax != 8192 || to.Heartbeat != 0 {
			return errors.New("bad tune-ok")
		}
		_, m, err = p.recv()
		if err != nil {
			return err
		}
		if o, ok := m.(*amqp.ConnectionOpen); !ok || o.VirtualHost != "/v" {
			return errors.New("bad open")
		}
		// A heartbeat before open-ok must be skipped.
		if _, err := p.nc.Write(amqp.AppendHeartbeat(nil)); err != nil {
			return err
		}
		return p.send(0, &amqp.ConnectionOpenOk{})
	})
	if err := c.Handshake("u", "p", "/v"); err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	wait(t, done)
	if c.FrameMax != 8192 || c.ChannelMax != 7 {
		t.Errorf("negotiated %d/%d, want 8192/7", c.FrameMax, c.ChannelMax)
	}
}

func TestExpectConnectionClose(t *testing.T) {
	c, p := pipe(t)
	done := p.run(func() error {
		if err := p.send(0, &amqp.ConnectionClose{ReplyCode: 501, ReplyText: "FRAME_ERROR - x"}); err != nil {
			return err
		}
		_, m, err := p.recv()
		if err != nil {
			return err
		}
		if _, ok := m.(*amqp.ConnectionCloseOk); !ok {
			return errors.New("want close-ok, got " + m.Name())
		}
		return p.nc.Close()
	})
	cl, err := c.ExpectConnectionClose(501)
	if err != nil || cl.ReplyText != "FRAME_ERROR - x" {
		t.Fatalf("ExpectConnectionClose: %v, %v", cl, err)
	}
	if err := c.ExpectEOF(); err != nil {
		t.Fatalf("ExpectEOF: %v", err)
	}
	wait(t, done)
}

func TestExpectConnectionCloseWrongCode(t *testing.T) {
	c, p := pipe(t)
	done := p.run(func() error {
		if err := p.send(0, &amqp.ConnectionClose{ReplyCode: 505, ReplyText: "UNEXPECTED_FRAME"}); err != nil {
			return err
		}
		_, _, err := p.recv() // close-ok
		return err
	})
	cl, err := c.ExpectConnectionClose(501)
	var ce *CodeError
	if !errors.As(err, &ce) || ce.Got != 505 || cl == nil {
		t.Fatalf("got %v, %v; want a CodeError for 505", cl, err)
	}
	wait(t, done)
}

func TestExpectMismatch(t *testing.T) {
	c, p := pipe(t)
	done := p.run(func() error { return p.send(1, &amqp.ChannelClose{ReplyCode: 404, ReplyText: "NOT_FOUND"}) })
	_, err := Expect[*amqp.QueueDeclareOk](c, 1)
	if err == nil || !strings.Contains(err.Error(), "channel.close 404") {
		t.Fatalf("got %v, want an error naming the channel.close", err)
	}
	wait(t, done)
}

func TestTimeouts(t *testing.T) {
	c, _ := pipe(t)
	c.Timeout = 50 * time.Millisecond
	start := time.Now()
	if _, err := c.ReadFrame(); err == nil {
		t.Fatalf("ReadFrame from a silent peer succeeded")
	}
	if err := c.ExpectEOF(); !errors.Is(err, ErrNotClosed) {
		t.Fatalf("ExpectEOF on an open socket: %v, want ErrNotClosed", err)
	}
	if err := c.ExpectSilence(50 * time.Millisecond); err != nil {
		t.Fatalf("ExpectSilence: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestExpectEOFReportsFrame(t *testing.T) {
	c, p := pipe(t)
	done := p.run(func() error {
		if _, err := p.nc.Write(amqp.AppendHeartbeat(nil)); err != nil {
			return err
		}
		return p.send(0, &amqp.ConnectionClose{ReplyCode: 530, ReplyText: "NOT_ALLOWED"})
	})
	err := c.ExpectEOF()
	if err == nil || !strings.Contains(err.Error(), "connection.close 530") {
		t.Fatalf("got %v, want an error naming the connection.close", err)
	}
	wait(t, done)
}

func TestSendFrames(t *testing.T) {
	c, p := pipe(t)
	c.FrameMax = 4096
	done := p.run(func() error {
		f, err := p.fr.ReadFrame()
		if err != nil || f.Type != amqp.FrameBody || f.Channel != 3 || string(f.Payload) != "xyz" {
			return errors.New("bad raw frame")
		}
		if _, m, err := p.recv(); err != nil || m.ID() != amqp.MethodBasicPublish {
			return errors.New("want basic.publish")
		}
		f, err = p.fr.ReadFrame()
		if err != nil || f.Type != amqp.FrameHeader {
			return errors.New("want a content header")
		}
		h, err := amqp.DecodeContentHeader(f.Payload)
		if err != nil || h.BodySize != 5000 {
			return errors.New("bad content header")
		}
		n := 0
		for n < 5000 {
			f, err = p.fr.ReadFrame()
			if err != nil || f.Type != amqp.FrameBody || len(f.Payload) > 4096-amqp.FrameOverhead {
				return errors.New("bad body frame")
			}
			n += len(f.Payload)
		}
		return nil
	})
	if err := c.Send(amqp.Frame{Type: amqp.FrameBody, Channel: 3, Payload: []byte("xyz")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(1, "", "q", make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	wait(t, done)
}
