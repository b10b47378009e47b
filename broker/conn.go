package broker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/amqp"
)

// conn is one client connection. Its reader goroutine (serve) decodes
// frames and runs channel methods inline, which keeps the per-channel
// order the spec requires. Output is queued in out and written by the
// reader itself at the end of a read batch when it is small (conn_flush.go),
// or else by a writer goroutine (writeLoop), started the first time it is
// needed: an idle connection has one goroutine, not two (memory per idle
// connection is measured).
type conn struct {
	s    *Server
	nc   net.Conn
	id   uint64
	peer string

	br  *connReader
	dr  *deadlineReader
	fr  *amqp.FrameReader
	dec amqp.MethodDecoder

	// Negotiated in tune-ok; read-only afterwards.
	channelMax uint16
	frameMax   uint32
	heartbeat  atomic.Int64 // nanoseconds; the housekeeper reads it
	user       *User
	vhost      *VHost
	// What the client announced in its capabilities (connection.start-ok);
	// the rest of its properties is not kept.
	capBlocked     bool
	capAuthFailure bool
	// rt is the routing scratch of the channels' publishes (reader
	// goroutine only).
	rt router

	// Reader goroutine only.
	channels map[uint16]*channel
	// closing is set once we have sent connection.close: from then on
	// only close-ok (or close) is read.
	closing atomic.Bool

	// Outbound frames. Lock order: queue.mu → channel.mu → outMu.
	outMu sync.Mutex
	out   []byte
	// flushMu orders the writes to the socket, by the writer goroutine or
	// by an inline flush (conn_flush.go), and guards spare and carry.
	// Lock order: flushMu → outMu.
	flushMu sync.Mutex
	spare   []byte
	carry   []byte // taken from out, not yet written
	carried []byte // the whole buffer carry is part of, to reuse
	raw     rawWriter
	// shrinkBuffers asks the next flush to drop the outbound buffers
	// instead of keeping them for reuse.
	shrinkBuffers atomic.Bool
	// deferred lists the connections that deliveries made during this
	// connection's read batch wrote to (reader goroutine only).
	deferred []*conn
	written  atomic.Int64 // unix nanos of the last write, for heartbeats
	wake     chan struct{}
	stop     chan struct{}
	stopped  chan struct{} // closed when a started writer goroutine ends
	// writerOn is set once the writer goroutine has been started; wmu
	// orders starting it with teardown.
	writerOn     atomic.Bool
	wmu          sync.Mutex
	writerBarred bool // teardown: no writer may start any more
	// kill is closed by forceClose, to free a reader blocked by an alarm.
	kill     chan struct{}
	killOnce sync.Once

	// Channels whose confirms are ready to send; the writer drains them.
	confirmMu    sync.Mutex
	confirmDirty []*channel

	stopOnce sync.Once
	// abrupt: the peer vanished or broke the protocol at the transport
	// level; there is no close handshake to wait for.
	abrupt bool
	// linger: we answered the client's connection.close, and let it close
	// the socket first (see lingerClose).
	linger bool
}

func newConn(s *Server, nc net.Conn) *conn {
	id := s.connSeq.Add(1)
	c := &conn{
		s:        s,
		nc:       nc,
		id:       id,
		peer:     nc.RemoteAddr().String(),
		channels: map[uint16]*channel{},
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
		kill:     make(chan struct{}),
	}
	c.raw = newRawWriter(nc)
	c.dr = &deadlineReader{nc: nc}
	c.br = &connReader{src: c.dr}
	c.fr = amqp.NewFrameReader(c.br)
	return c
}

// deadlineReader pushes the read deadline forward on every read syscall
// (not every frame), so a peer silent for two heartbeat intervals is
// dropped at the cost of one timer update per buffer refill.
type deadlineReader struct {
	nc      net.Conn
	timeout time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.timeout > 0 {
		_ = d.nc.SetReadDeadline(time.Now().Add(d.timeout))
	}
	return d.nc.Read(p)
}

// serve runs the connection to its end on the calling goroutine.
func (c *conn) serve() {
	defer c.teardown()
	defer func() {
		if r := recover(); r != nil {
			c.logAt(zerolog.ErrorLevel).Interface("panic", r).Bytes("stack", debug.Stack()).Msg("connection handler panicked")
			c.sendConnectionClose(&amqp.Error{Code: amqp.InternalError, Text: "INTERNAL_ERROR"})
		}
	}()
	if err := c.handshake(); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) {
			c.logAt(zerolog.InfoLevel).Uint16("code", ae.Code).Str("reason", ae.Text).Msg("handshake refused")
			c.sendConnectionClose(ae)
			c.awaitCloseOk()
		} else if errors.Is(err, errAuthFailedSilently) {
			c.logAt(zerolog.InfoLevel).Msg("login refused")
		} else if !isDisconnect(err) {
			c.logAt(zerolog.InfoLevel).Err(err).Msg("handshake failed")
		}
		return
	}
	c.logAt(zerolog.DebugLevel).Str("user", c.user.Name).Str("vhost", c.vhost.name).Msg("connection open")
	err := c.readLoop()
	var ae *amqp.Error
	switch {
	case errors.As(err, &ae):
		c.logAt(zerolog.WarnLevel).Uint16("code", ae.Code).Str("reason", ae.Text).Msg("closing connection on error")
		c.sendConnectionClose(ae)
		c.awaitCloseOk()
	case errors.Is(err, errConnClosed):
	case isTimeout(err):
		c.logAt(zerolog.InfoLevel).Dur("heartbeat", time.Duration(c.heartbeat.Load())).Msg("missed heartbeats, closing connection")
		c.abrupt = true
	case !isDisconnect(err):
		c.logAt(zerolog.InfoLevel).Err(err).Msg("connection lost")
		c.abrupt = true
	default:
		c.abrupt = true
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDisconnect(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne) || errors.Is(err, errConnClosed)
}

// errConnClosed ends the read loop after a clean connection.close.
var errConnClosed = errors.New("connection closed")

func (c *conn) readLoop() error {
	// However the loop ends, deliveries it made get written.
	defer c.flushDeferred()
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		if err := c.handleFrame(f); err != nil {
			return err
		}
		if c.br.Buffered() == 0 {
			// End of a read batch: send what the batch produced (coalesced
			// confirms, deliveries to consumers), and hand the read buffer
			// back while the connection waits.
			c.flushDeferred()
			c.endOfBatch()
			c.br.release()
			c.fr.ReleaseBuffer()
		}
	}
}

func (c *conn) handleFrame(f amqp.Frame) error {
	if f.Type == amqp.FrameHeartbeat {
		return nil
	}
	if c.closing.Load() {
		return c.handleWhileClosing(f)
	}
	if f.Channel == 0 {
		if f.Type != amqp.FrameMethod {
			return amqp.NewError(amqp.UnexpectedFrame, 0, 0, "%s", amqp.FrameText(f.Type, f.Payload))
		}
		m, err := c.dec.Decode(f.Payload)
		if err != nil {
			return err
		}
		return c.handleConnectionMethod(m)
	}
	ch := c.channels[f.Channel]
	if ch == nil {
		return c.openChannel(f)
	}
	return ch.handleFrame(f)
}

func (c *conn) openChannel(f amqp.Frame) error {
	var m amqp.Method
	if f.Type == amqp.FrameMethod {
		var err error
		if m, err = c.dec.Decode(f.Payload); err != nil {
			return err
		}
	}
	if m == nil {
		return amqp.NewError(amqp.ChannelError, 0, 0, "expected 'channel.open'")
	}
	if m.ID() != amqp.MethodChannelOpen {
		return amqp.NewError(amqp.ChannelError, amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()), "expected 'channel.open'")
	}
	// RabbitMQ limits how many channels are open, not their numbers.
	if c.channelMax != 0 && len(c.channels) >= int(c.channelMax) {
		return amqp.NewError(amqp.NotAllowed, amqp.ClassChannel, 10,
			"number of channels opened (%d) has reached the negotiated channel_max (%d)", len(c.channels), c.channelMax)
	}
	ch := newChannel(c, f.Channel)
	c.channels[f.Channel] = ch
	c.reply(f.Channel, &amqp.ChannelOpenOk{})
	return nil
}

func (c *conn) handleConnectionMethod(m amqp.Method) error {
	switch m := m.(type) {
	case *amqp.ConnectionClose:
		c.logAt(zerolog.DebugLevel).Uint16("code", m.ReplyCode).Str("reason", m.ReplyText).Msg("client closed connection")
		c.closeChannels()
		c.writeMethod(0, &amqp.ConnectionCloseOk{})
		c.linger = true
		return errConnClosed
	case *amqp.ConnectionCloseOk:
		return errConnClosed
	case *amqp.ConnectionBlocked, *amqp.ConnectionUnblocked:
		return nil // a client may say it; nothing for a broker to do
	case *amqp.ConnectionOpen, *amqp.ConnectionTuneOk, *amqp.ConnectionStartOk, *amqp.ConnectionSecureOk:
		return amqp.NewError(amqp.ChannelError, amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()),
			"unexpected method in connection state running")
	case *amqp.ConnectionUpdateSecret:
		c.writeMethod(0, &amqp.ConnectionUpdateSecretOk{})
		return nil
	}
	if amqp.ClassOf(m.ID()) != amqp.ClassConnection {
		return amqp.NewError(amqp.ChannelError, amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()),
			"unexpected method in connection state running")
	}
	return errUnimplemented(m)
}

// errUnimplemented is RabbitMQ's answer to a method a client may not send
// where it was sent (a server-side method, or a connection method on a
// channel).
func errUnimplemented(m amqp.Method) error {
	return amqp.NewError(amqp.CommandInvalid, amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()), "unimplemented method")
}

// handleWhileClosing implements spec 2.2.4's close handshake: after
// sending connection.close, discard everything but close and close-ok.
func (c *conn) handleWhileClosing(f amqp.Frame) error {
	if f.Channel != 0 || f.Type != amqp.FrameMethod {
		return nil
	}
	m, err := c.dec.Decode(f.Payload)
	if err != nil {
		return nil
	}
	switch m.(type) {
	case *amqp.ConnectionCloseOk:
		return errConnClosed
	case *amqp.ConnectionClose:
		c.writeMethod(0, &amqp.ConnectionCloseOk{})
		c.linger = true
		return errConnClosed
	}
	return nil
}

// sendConnectionClose sends connection.close once.
func (c *conn) sendConnectionClose(e *amqp.Error) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.writeMethod(0, &amqp.ConnectionClose{ReplyCode: e.Code, ReplyText: e.Text, ClassID: e.ClassID, MethodID: e.MethodID})
}

// awaitCloseOk reads until close-ok, or gives up after a second: the peer
// has been told; a broker does not wait on a client that never answers.
func (c *conn) awaitCloseOk() {
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	c.dr.timeout = 0
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		if c.handleWhileClosing(f) != nil {
			return
		}
	}
}

// forceClose is called from another goroutine (shutdown): it sends
// connection.close and closes the socket shortly after, which ends the
// reader.
func (c *conn) forceClose(text string) {
	c.killOnce.Do(func() { close(c.kill) })
	c.sendConnectionClose(&amqp.Error{Code: amqp.ConnectionForced, Text: text})
	time.AfterFunc(time.Second, func() { _ = c.nc.Close() })
	// Wake the reader so it sees close-ok promptly, or times out.
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
}

// closeChannels releases every channel: consumers cancelled, unacked
// messages requeued.
func (c *conn) closeChannels() {
	for id, ch := range c.channels {
		ch.release()
		delete(c.channels, id)
	}
}

// teardown runs when the reader ends, whatever the reason.
func (c *conn) teardown() {
	c.closeChannels()
	if c.vhost != nil {
		c.vhost.dropExclusive(c)
	}
	c.wmu.Lock()
	c.writerBarred = true
	started := c.writerOn.Load()
	c.wmu.Unlock()
	c.stopOnce.Do(func() { close(c.stop) })
	if started {
		<-c.stopped // its last flush is done
	} else {
		c.flush()
	}
	if c.abrupt || !c.linger {
		_ = c.nc.Close()
		return
	}
	c.lingerClose()
}

// lingerClose lets the client close first. Closing right after
// close-ok races the client's reader, which would see EOF before it has
// finished its own close (amqp091-go then reports 501), and unread input
// would turn our FIN into a RST that can destroy the close-ok in flight.
// Even a half-close is a FIN the client reads as EOF. So: drain until the
// peer's EOF, at most a couple of seconds, then close.
func (c *conn) lingerClose() {
	_ = c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	var buf [512]byte
	for {
		if _, err := c.nc.Read(buf[:]); err != nil {
			break
		}
	}
	_ = c.nc.Close()
}

// endOfBatch wakes the writer for confirms completed during the read
// batch: one wake-up, and so one ack frame, per batch of publishes.
func (c *conn) endOfBatch() {
	c.confirmMu.Lock()
	n := len(c.confirmDirty)
	c.confirmMu.Unlock()
	if n > 0 {
		c.signal()
	}
}

// confirmReady queues ch for the writer to send its ready confirms. The
// reader passes wake=false and wakes the writer at the end of its batch;
// store callbacks wake it at once.
func (c *conn) confirmReady(ch *channel, wake bool) {
	c.confirmMu.Lock()
	if !ch.confirmQueued {
		ch.confirmQueued = true
		c.confirmDirty = append(c.confirmDirty, ch)
	}
	c.confirmMu.Unlock()
	if wake {
		c.signal()
	}
}

// appendConfirms moves the ready confirms of every queued channel into
// the outbound buffer. Lock order: outMu → confirmTracker.mu.
func (c *conn) appendConfirms() {
	c.confirmMu.Lock()
	dirty := c.confirmDirty
	c.confirmDirty = nil
	for _, ch := range dirty {
		ch.confirmQueued = false
	}
	c.confirmMu.Unlock()
	if len(dirty) == 0 {
		return
	}
	c.outMu.Lock()
	for _, ch := range dirty {
		c.out = ch.confirms.appendFrames(c.out, ch.id)
	}
	c.outMu.Unlock()
}

// writeMethod queues a method frame.
func (c *conn) writeMethod(ch uint16, m amqp.Method) {
	c.appendMethod(ch, m)
	c.signal()
}

// appendMethod queues a method frame without arranging its write.
func (c *conn) appendMethod(ch uint16, m amqp.Method) {
	c.outMu.Lock()
	c.out = amqp.AppendMethodFrame(c.out, ch, m)
	c.outMu.Unlock()
}

// writeContent queues a method with content (deliver, get-ok, return).
// props are encoded properties as the publisher sent them.
func (c *conn) writeContent(ch uint16, m amqp.Method, props, body []byte) {
	c.appendContent(ch, m, props, body)
	c.signal()
}

// appendContent queues a method with content without waking the writer
// (see wakeFor); it returns the size of the outbound buffer.
func (c *conn) appendContent(ch uint16, m amqp.Method, props, body []byte) int {
	c.outMu.Lock()
	c.appendContentLocked(ch, m, props, body)
	n := len(c.out)
	c.outMu.Unlock()
	return n
}

func (c *conn) appendContentLocked(ch uint16, m amqp.Method, props, body []byte) {
	c.out = amqp.AppendMethodFrame(c.out, ch, m)
	c.out = amqp.AppendHeaderFrame(c.out, ch, amqp.ClassBasic, uint64(len(body)), props)
	c.out = amqp.AppendBodyFrames(c.out, ch, body, c.frameMax)
}

// signal wakes the writer, starting it if need be; a pending wake-up
// already covers this write.
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if !c.writerOn.Load() {
		c.startWriter()
	}
}

// startWriter starts the writer goroutine unless it runs already or the
// connection is being torn down (teardown then flushes itself).
func (c *conn) startWriter() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.writerOn.Load() || c.writerBarred {
		return
	}
	c.writerOn.Store(true)
	go c.writeLoop()
}

// writeNow queues a method frame and writes it on the calling goroutine,
// blocking: the handshake's replies, which the reader waits on anyway.
func (c *conn) writeNow(ch uint16, m amqp.Method) {
	c.appendMethod(ch, m)
	if !c.flush() {
		_ = c.nc.Close() // the reader's next read fails
	}
}

// reply queues a method frame from the reader goroutine, which writes it
// at the end of its read batch (deferFlush): a reply to a synchronous
// method costs no goroutine wake-up. Reader goroutine only.
func (c *conn) reply(ch uint16, m amqp.Method) {
	c.appendMethod(ch, m)
	c.deferFlush(c)
}

// writeLoop writes whatever is queued whenever it is woken, until stop.
func (c *conn) writeLoop() {
	defer close(c.stopped)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			c.flush()
			return
		}
		if !c.flush() {
			// The socket is broken: close it so the reader ends too, and
			// discard output until told to stop.
			_ = c.nc.Close()
			<-c.stop
			return
		}
	}
}

// sendHeartbeat is the housekeeper's: a connection that has written
// nothing for half the heartbeat interval gets a heartbeat frame.
func (c *conn) sendHeartbeat(now int64) {
	hb := c.heartbeat.Load()
	if hb <= 0 || now-c.written.Load() < hb/2 {
		return
	}
	c.outMu.Lock()
	queued := len(c.out) > 0 // will be written, and counts as traffic
	if !queued {
		c.out = amqp.AppendHeartbeat(c.out)
	}
	c.outMu.Unlock()
	if !queued {
		c.flushInline()
	}
}

// flush writes everything queued: what an inline flush left over first,
// then the outbound buffer, blocking until the socket takes it.
func (c *conn) flush() bool {
	c.appendConfirms()
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if len(c.carry) > 0 && !c.writeCarry(true) {
		return false
	}
	c.takeOut()
	return c.writeCarry(true)
}

func (c *conn) String() string { return fmt.Sprintf("conn %d", c.id) }

// logAt starts a log event with the connection's fields, or returns nil
// (on which every zerolog method is a no-op) when level is off. A child
// logger per connection would hold a 500-byte buffer for an idle
// connection's whole life (memory per idle connection is measured).
func (c *conn) logAt(level zerolog.Level) *zerolog.Event {
	return c.s.log.WithLevel(level).Uint64("conn", c.id).Str("peer", c.peer)
}
