package conformance

// Helpers shared by the basic, confirm and tx cases. Names carry a "b"
// prefix so they cannot collide with helpers of other sections.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// bQuiet is how long a case watches for a delivery, return or confirm that
// must not come. A broker that sends it later than this is not caught, so
// cases prefer a synchronous round trip where the protocol orders it.
const bQuiet = 300 * time.Millisecond

// bDialRaw opens an amqp091-go connection that is not tied to t.Cleanup,
// for use inside cleanup functions.
func bDialRaw(env *Env) (*amqp091.Connection, error) {
	return amqp091.DialConfig(env.URL, amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
}

// bQueue declares a fresh server-named-style queue (non-durable, not
// exclusive, not auto-delete, so it survives the case's own connection and
// channel errors) on a connection of its own, and deletes it at cleanup.
func bQueue(t T, env *Env, prefix string) string {
	t.Helper()
	return bQueueArgs(t, env, prefix, false, nil)
}

// bQueueArgs is bQueue with durability and arguments.
func bQueueArgs(t T, env *Env, prefix string, durable bool, args amqp091.Table) string {
	t.Helper()
	name := Name(prefix)
	c, err := bDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	if _, err := ch.QueueDeclare(name, durable, false, false, false, args); err != nil {
		t.Fatalf("queue.declare %q: %v", name, err)
	}
	t.Cleanup(func() { bDeleteQueue(t, env, name) })
	return name
}

// bDeleteQueue deletes a queue on a fresh connection (cleanup use).
func bDeleteQueue(t T, env *Env, name string) {
	c, err := bDialRaw(env)
	if err != nil {
		t.Logf("cleanup: dial: %v", err)
		return
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Logf("cleanup: channel.open: %v", err)
		return
	}
	if _, err := ch.QueueDelete(name, false, false, false); err != nil {
		t.Logf("cleanup: queue.delete %q: %v", name, err)
	}
}

// bCounts returns the ready message count and the consumer count of a queue
// from a passive queue.declare on a fresh connection.
func bCounts(t T, env *Env, q string) (messages, consumers int) {
	t.Helper()
	c, err := bDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive queue.declare %q: %v", q, err)
	}
	return st.Messages, st.Consumers
}

// bExpectReady fails unless the queue holds exactly n ready messages.
func bExpectReady(t T, env *Env, q string, n int, what string) {
	t.Helper()
	if got, _ := bCounts(t, env, q); got != n {
		t.Fatalf("%s: queue %q has %d ready messages, want %d", what, q, got, n)
	}
}

// bPublish publishes bodies to the default exchange with routing key q on a
// confirm-mode channel of its own connection and waits until the broker has
// confirmed every one, so the messages are in the queue when it returns.
func bPublish(t T, env *Env, q string, bodies ...string) {
	t.Helper()
	c, err := bDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, len(bodies)+1))
	for _, b := range bodies {
		if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte(b)}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
	}
	for range bodies {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish to %q: nacked (tag %d)", q, cf.DeliveryTag)
			}
		case <-time.After(Timeout):
			t.Fatalf("publish to %q: no confirm within %v", q, Timeout)
		}
	}
}

// bNums returns the bodies "1".."n".
func bNums(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i + 1)
	}
	return out
}

// bRecv waits for one delivery.
func bRecv(t T, ds <-chan amqp091.Delivery, what string) amqp091.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatalf("%s: delivery channel closed", what)
		}
		return d
	case <-time.After(Timeout):
		t.Fatalf("%s: no delivery within %v", what, Timeout)
	}
	return amqp091.Delivery{}
}

// bRecvN waits for n deliveries.
func bRecvN(t T, ds <-chan amqp091.Delivery, n int, what string) []amqp091.Delivery {
	t.Helper()
	out := make([]amqp091.Delivery, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, bRecv(t, ds, fmt.Sprintf("%s (delivery %d of %d)", what, i+1, n)))
	}
	return out
}

// bNoDelivery fails if a delivery arrives within bQuiet.
func bNoDelivery(t T, ds <-chan amqp091.Delivery, what string) {
	t.Helper()
	select {
	case d, ok := <-ds:
		if ok {
			t.Fatalf("%s: unexpected delivery %q (tag %d)", what, d.Body, d.DeliveryTag)
		}
	case <-time.After(bQuiet):
	}
}

// bBodies returns the bodies of deliveries as strings.
func bBodies(ds []amqp091.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Body)
	}
	return out
}

// bGet does a basic.get that must return a message.
func bGet(t T, ch *amqp091.Channel, q string, autoAck bool, what string) amqp091.Delivery {
	t.Helper()
	d, ok, err := ch.Get(q, autoAck)
	if err != nil {
		t.Fatalf("%s: basic.get: %v", what, err)
	}
	if !ok {
		t.Fatalf("%s: basic.get-empty, want a message", what)
	}
	return d
}

// bGetEmpty does a basic.get that must answer get-empty.
func bGetEmpty(t T, ch *amqp091.Channel, q string, what string) {
	t.Helper()
	d, ok, err := ch.Get(q, false)
	if err != nil {
		t.Fatalf("%s: basic.get: %v", what, err)
	}
	if ok {
		t.Fatalf("%s: basic.get-ok %q, want get-empty", what, d.Body)
	}
}

// bChannel opens one more channel on c.
func bChannel(t T, c *amqp091.Connection) *amqp091.Channel {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	return ch
}

// bConsume starts a consumer with an explicit tag.
func bConsume(t T, ch *amqp091.Channel, q, tag string, autoAck bool) <-chan amqp091.Delivery {
	t.Helper()
	ds, err := ch.Consume(q, tag, autoAck, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume %q: %v", q, err)
	}
	return ds
}

// bExpectClose waits for a broker-initiated close (channel or connection,
// registered with NotifyClose before the failing operation) and checks the
// reply code and the reply text. text is matched exactly unless it ends in
// "*", which makes it a prefix.
func bExpectClose(t T, ch <-chan *amqp091.Error, code int, text, what string) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok || e == nil {
			t.Fatalf("%s: closed without an error, want %d %q", what, code, text)
		}
		if e.Code != code {
			t.Fatalf("%s: closed with %d %q, want %d %q", what, e.Code, e.Reason, code, text)
		}
		if !e.Server {
			t.Errorf("%s: close was not initiated by the server", what)
		}
		if p, ok := strings.CutSuffix(text, "*"); ok {
			if !strings.HasPrefix(e.Reason, p) {
				t.Errorf("%s: reply text %q, want prefix %q", what, e.Reason, p)
			}
		} else if e.Reason != text {
			t.Errorf("%s: reply text %q, want %q", what, e.Reason, text)
		}
	case <-time.After(Timeout):
		t.Fatalf("%s: not closed within %v, want %d %q", what, Timeout, code, text)
	}
}

// bStillOpen checks that a channel still works (a synchronous round trip)
// and that it was not closed.
func bStillOpen(t T, ch *amqp091.Channel, closes <-chan *amqp091.Error, what string) {
	t.Helper()
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("%s: channel no longer usable: %v", what, err)
	}
	select {
	case e := <-closes:
		t.Fatalf("%s: channel closed: %v", what, e)
	default:
	}
}

// --- raw frames --------------------------------------------------------
//
// amqp091-go cannot send some frames a case needs (an empty consumer tag,
// the cluster-id property) and hides the wire order of frames of different
// kinds (basic.return against basic.ack). bRawConn is a minimal blocking
// AMQP client for those cases.

type bRawConn struct {
	t  T
	c  net.Conn
	r  *bufio.Reader
	fm uint32
}

// bRawFrame is one frame as read.
type bRawFrame struct {
	Type    byte
	Channel uint16
	Payload []byte
}

// Method returns the class and method ids of a method frame.
func (f bRawFrame) Method() (class, method uint16) {
	if f.Type != 1 || len(f.Payload) < 4 {
		return 0, 0
	}
	return binary.BigEndian.Uint16(f.Payload), binary.BigEndian.Uint16(f.Payload[2:])
}

// bRawDial connects, performs the handshake (PLAIN, no heartbeats) and
// opens channel 1.
func bRawDial(t T, env *Env) *bRawConn {
	t.Helper()
	u, err := amqp091.ParseURI(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	c, err := net.DialTimeout("tcp", env.Addr(), Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", env.Addr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rc := &bRawConn{t: t, c: c, r: bufio.NewReader(c)}
	rc.write([]byte("AMQP\x00\x00\x09\x01"))
	rc.Expect(0, 10, 10) // connection.start
	var a bArgs
	a.Table(nil).Short("PLAIN").Long("\x00" + u.Username + "\x00" + u.Password).Short("en_US")
	rc.Send(0, 10, 11, a.B)
	tune := rc.Expect(0, 10, 30)
	chMax := binary.BigEndian.Uint16(tune.Payload[4:])
	rc.fm = binary.BigEndian.Uint32(tune.Payload[6:])
	a = bArgs{}
	a.U16(chMax).U32(rc.fm).U16(0)
	rc.Send(0, 10, 31, a.B)
	a = bArgs{}
	a.Short(u.Vhost).Short("").U8(0)
	rc.Send(0, 10, 40, a.B)
	rc.Expect(0, 10, 41)
	a = bArgs{}
	a.Short("")
	rc.Send(1, 20, 10, a.B)
	rc.Expect(1, 20, 11)
	return rc
}

func (rc *bRawConn) write(b []byte) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := rc.c.Write(b); err != nil {
		rc.t.Fatalf("raw write: %v", err)
	}
}

func (rc *bRawConn) frame(typ byte, ch uint16, payload []byte) {
	rc.t.Helper()
	b := make([]byte, 7, 8+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint16(b[1:], ch)
	binary.BigEndian.PutUint32(b[3:], uint32(len(payload)))
	b = append(b, payload...)
	b = append(b, 0xCE)
	rc.write(b)
}

// Send writes a method frame.
func (rc *bRawConn) Send(ch, class, method uint16, args []byte) {
	rc.t.Helper()
	p := make([]byte, 4, 4+len(args))
	binary.BigEndian.PutUint16(p, class)
	binary.BigEndian.PutUint16(p[2:], method)
	rc.frame(1, ch, append(p, args...))
}

// SendContent writes a content header (basic class, raw property flags and
// property list) and the body split at frame_max.
func (rc *bRawConn) SendContent(ch uint16, flags uint16, props, body []byte) {
	rc.t.Helper()
	h := make([]byte, 14, 14+len(props))
	binary.BigEndian.PutUint16(h, 60)
	binary.BigEndian.PutUint64(h[4:], uint64(len(body)))
	binary.BigEndian.PutUint16(h[12:], flags)
	rc.frame(2, ch, append(h, props...))
	max := int(rc.fm) - 8
	for len(body) > 0 {
		n := min(len(body), max)
		rc.frame(3, ch, body[:n])
		body = body[n:]
	}
}

// Read reads the next frame, skipping heartbeats.
func (rc *bRawConn) Read() bRawFrame {
	rc.t.Helper()
	for {
		_ = rc.c.SetReadDeadline(time.Now().Add(Timeout))
		var h [7]byte
		if _, err := io.ReadFull(rc.r, h[:]); err != nil {
			rc.t.Fatalf("raw read: %v", err)
		}
		size := binary.BigEndian.Uint32(h[3:])
		p := make([]byte, size+1)
		if _, err := io.ReadFull(rc.r, p); err != nil {
			rc.t.Fatalf("raw read: %v", err)
		}
		if p[size] != 0xCE {
			rc.t.Fatalf("raw read: bad frame end %#x", p[size])
		}
		if h[0] == 8 {
			continue
		}
		return bRawFrame{Type: h[0], Channel: binary.BigEndian.Uint16(h[1:]), Payload: p[:size]}
	}
}

// Expect reads a frame that must be the given method on the given channel
// and returns it.
func (rc *bRawConn) Expect(ch, class, method uint16) bRawFrame {
	rc.t.Helper()
	f := rc.Read()
	c, m := f.Method()
	if f.Channel != ch || c != class || m != method {
		rc.t.Fatalf("raw: got frame type %d channel %d method %d.%d, want method %d.%d on channel %d%s",
			f.Type, f.Channel, c, m, class, method, ch, bCloseText(f))
	}
	return f
}

// ReadContent reads a content header and the body frames that follow it.
// It returns the raw property bytes (after the property flags), the flags
// and the body.
func (rc *bRawConn) ReadContent(ch uint16) (flags uint16, props, body []byte) {
	rc.t.Helper()
	h := rc.Read()
	if h.Type != 2 || h.Channel != ch || len(h.Payload) < 14 {
		rc.t.Fatalf("raw: got frame type %d on channel %d, want a content header on %d", h.Type, h.Channel, ch)
	}
	size := binary.BigEndian.Uint64(h.Payload[4:])
	flags = binary.BigEndian.Uint16(h.Payload[12:])
	props = h.Payload[14:]
	for uint64(len(body)) < size {
		f := rc.Read()
		if f.Type != 3 || f.Channel != ch {
			rc.t.Fatalf("raw: got frame type %d on channel %d, want a body frame", f.Type, f.Channel)
		}
		body = append(body, f.Payload...)
	}
	return flags, props, body
}

// bCloseText describes a channel.close or connection.close frame.
func bCloseText(f bRawFrame) string {
	c, m := f.Method()
	if (c == 10 || c == 20) && m == 40 && len(f.Payload) >= 7 {
		code := binary.BigEndian.Uint16(f.Payload[4:])
		n := int(f.Payload[6])
		if len(f.Payload) >= 7+n {
			return fmt.Sprintf(" (close %d %q)", code, f.Payload[7:7+n])
		}
	}
	return ""
}

// bArgs builds method arguments and property lists.
type bArgs struct{ B []byte }

func (a *bArgs) U8(v uint8) *bArgs { a.B = append(a.B, v); return a }
func (a *bArgs) U16(v uint16) *bArgs {
	a.B = binary.BigEndian.AppendUint16(a.B, v)
	return a
}
func (a *bArgs) U32(v uint32) *bArgs {
	a.B = binary.BigEndian.AppendUint32(a.B, v)
	return a
}
func (a *bArgs) U64(v uint64) *bArgs {
	a.B = binary.BigEndian.AppendUint64(a.B, v)
	return a
}
func (a *bArgs) Short(s string) *bArgs {
	a.B = append(append(a.B, byte(len(s))), s...)
	return a
}
func (a *bArgs) Long(s string) *bArgs {
	a.B = append(binary.BigEndian.AppendUint32(a.B, uint32(len(s))), s...)
	return a
}

// Table appends a field table whose values are all long strings, in the
// order given as key, value pairs.
func (a *bArgs) Table(kv []string) *bArgs {
	var t bytes.Buffer
	for i := 0; i+1 < len(kv); i += 2 {
		t.WriteByte(byte(len(kv[i])))
		t.WriteString(kv[i])
		t.WriteByte('S')
		_ = binary.Write(&t, binary.BigEndian, uint32(len(kv[i+1])))
		t.WriteString(kv[i+1])
	}
	return a.Long(t.String())
}
