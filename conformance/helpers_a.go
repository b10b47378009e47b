package conformance

// Helpers shared by the connection, channel, exchange and queue cases.
// Names carry an "a" prefix so they cannot collide with helpers of other
// sections.

import (
	"bytes"
	"errors"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// aDialRaw opens a connection that is not tied to t.Cleanup, for cleanup
// functions and for cases that close the connection themselves.
func aDialRaw(env *Env) (*amqp091.Connection, error) {
	return amqp091.DialConfig(env.URL, amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
}

// aDialConfig dials with cfg (its Dial defaults to a bounded dialer) and
// closes the connection when the case ends.
func aDialConfig(t T, env *Env, cfg amqp091.Config) *amqp091.Connection {
	t.Helper()
	if cfg.Dial == nil {
		cfg.Dial = amqp091.DefaultDial(Timeout)
	}
	c, err := amqp091.DialConfig(env.URL, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// aVhost is the vhost of the target URL, as it appears in reply texts.
func aVhost(env *Env) string {
	u, err := amqp091.ParseURI(env.URL)
	if err != nil {
		return "/"
	}
	return u.Vhost
}

// aChannel opens one more channel on c.
func aChannel(t T, c *amqp091.Connection) *amqp091.Channel {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	return ch
}

// aCleanup runs f on a channel of a fresh connection when the case ends, so
// cleanup works whatever state the case left its own connections in.
func aCleanup(t T, env *Env, what string, f func(ch *amqp091.Channel) error) {
	t.Cleanup(func() {
		c, err := aDialRaw(env)
		if err != nil {
			t.Logf("cleanup %s: dial: %v", what, err)
			return
		}
		defer c.Close()
		ch, err := c.Channel()
		if err != nil {
			t.Logf("cleanup %s: channel.open: %v", what, err)
			return
		}
		if err := f(ch); err != nil {
			t.Logf("cleanup %s: %v", what, err)
		}
	})
}

// aDeleteQueueLater deletes queue name when the case ends.
func aDeleteQueueLater(t T, env *Env, name string) {
	aCleanup(t, env, "queue.delete "+name, func(ch *amqp091.Channel) error {
		_, err := ch.QueueDelete(name, false, false, false)
		return err
	})
}

// aDeleteExchangeLater deletes exchange name when the case ends.
func aDeleteExchangeLater(t T, env *Env, name string) {
	aCleanup(t, env, "exchange.delete "+name, func(ch *amqp091.Channel) error {
		return ch.ExchangeDelete(name, false, false)
	})
}

// aQueue declares a plain queue (non-durable, not exclusive, not
// auto-delete) with a unique name on ch and deletes it when the case ends.
func aQueue(t T, env *Env, ch *amqp091.Channel, prefix string) string {
	t.Helper()
	name := Name(prefix)
	aDeleteQueueLater(t, env, name)
	if _, err := ch.QueueDeclare(name, false, false, false, false, nil); err != nil {
		t.Fatalf("queue.declare %q: %v", name, err)
	}
	return name
}

// aExchange declares a non-durable exchange of the given kind with a unique
// name on ch and deletes it when the case ends.
func aExchange(t T, env *Env, ch *amqp091.Channel, prefix, kind string) string {
	t.Helper()
	name := Name(prefix)
	aDeleteExchangeLater(t, env, name)
	if err := ch.ExchangeDeclare(name, kind, false, false, false, false, nil); err != nil {
		t.Fatalf("exchange.declare %q (%s): %v", name, kind, err)
	}
	return name
}

// aBind binds queue q to exchange x under key, failing the case on error.
func aBind(t T, ch *amqp091.Channel, q, key, x string, args amqp091.Table) {
	t.Helper()
	if err := ch.QueueBind(q, key, x, false, args); err != nil {
		t.Fatalf("queue.bind %q -> %q key %q: %v", x, q, key, err)
	}
}

// aPublish publishes msgs on a confirm-mode channel of c and waits until the
// broker has confirmed every one, so the messages have reached every queue
// they route to when it returns (a confirm follows enqueueing). It returns
// the routing keys of messages that came back with basic.return.
func aPublish(t T, c *amqp091.Connection, exchange string, mandatory bool, keys []string, msg amqp091.Publishing) (returned []string) {
	t.Helper()
	ch := aChannel(t, c)
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm.select: %v", err)
	}
	returns := ch.NotifyReturn(make(chan amqp091.Return, len(keys)+1))
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, len(keys)+1))
	for _, k := range keys {
		m := msg
		if m.Body == nil {
			m.Body = []byte(k)
		}
		if err := ch.Publish(exchange, k, mandatory, false, m); err != nil {
			t.Fatalf("basic.publish to %q key %q: %v", exchange, k, err)
		}
	}
	for range keys {
		select {
		case cf := <-confirms:
			if !cf.Ack {
				t.Fatalf("publish to %q: nacked (tag %d)", exchange, cf.DeliveryTag)
			}
		case <-time.After(Timeout):
			t.Fatalf("publish to %q: no confirm within %v", exchange, Timeout)
		}
	}
	// RabbitMQ sends basic.return before the basic.ack of the same message,
	// so every return has been dispatched by now.
	for {
		select {
		case r := <-returns:
			returned = append(returned, r.RoutingKey)
		default:
			return returned
		}
	}
}

// aPublish1 publishes one message with the given routing key and body.
func aPublish1(t T, c *amqp091.Connection, exchange, key, body string) {
	t.Helper()
	aPublish(t, c, exchange, false, []string{key}, amqp091.Publishing{Body: []byte(body)})
}

// aDrainMax bounds aDrain; no case puts this many messages in one queue.
const aDrainMax = 1000

// aDrain takes every ready message of q with basic.get (auto-ack) and
// returns their bodies in queue order.
func aDrain(t T, c *amqp091.Connection, q string) []string {
	t.Helper()
	ch := aChannel(t, c)
	defer ch.Close()
	var out []string
	for {
		// A broker that copies messages without end (an exchange loop)
		// must fail the case rather than hang it.
		if len(out) >= aDrainMax {
			t.Fatalf("basic.get %q: more than %d messages", q, aDrainMax)
		}
		d, ok, err := ch.Get(q, true)
		if err != nil {
			t.Fatalf("basic.get %q: %v", q, err)
		}
		if !ok {
			return out
		}
		out = append(out, string(d.Body))
	}
}

// aExpectBodies drains q and compares the bodies with want, ignoring order.
func aExpectBodies(t T, c *amqp091.Connection, q string, what string, want ...string) {
	t.Helper()
	got := aDrain(t, c, q)
	if !aSameSet(got, want) {
		t.Errorf("%s: queue %q got %q, want %q", what, q, got, want)
	}
}

func aSameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// aCounts returns the ready message count and consumer count of q (a
// passive declare on a fresh channel of c).
func aCounts(t T, c *amqp091.Connection, q string) (messages, consumers int) {
	t.Helper()
	ch := aChannel(t, c)
	defer ch.Close()
	st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive queue.declare %q: %v", q, err)
	}
	return st.Messages, st.Consumers
}

// aQueueExists reports whether a passive queue.declare of q succeeds; a 404
// means it does not exist, anything else fails the case.
func aQueueExists(t T, c *amqp091.Connection, q string) bool {
	t.Helper()
	ch := aChannel(t, c)
	_, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
	if err == nil {
		_ = ch.Close()
		return true
	}
	if ReplyCode(err) != amqp091.NotFound {
		t.Fatalf("passive queue.declare %q: %v", q, err)
	}
	return false
}

// aExchangeExists is aQueueExists for exchanges.
func aExchangeExists(t T, c *amqp091.Connection, x string) bool {
	t.Helper()
	ch := aChannel(t, c)
	err := ch.ExchangeDeclarePassive(x, "direct", false, false, false, false, nil)
	if err == nil {
		_ = ch.Close()
		return true
	}
	if ReplyCode(err) != amqp091.NotFound {
		t.Fatalf("passive exchange.declare %q: %v", x, err)
	}
	return false
}

// aEventually polls cond every 10ms until it holds or Timeout passes. For
// effects that the broker applies after the reply that caused them (queue
// deletion when the owner connection goes away).
func aEventually(t T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, Timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// aExpectErr checks the reply code of err and that its reply text starts
// with text (RabbitMQ's wording, e.g. "NOT_FOUND - no queue 'q' in vhost '/'").
func aExpectErr(t T, err error, code int, text, what string) {
	t.Helper()
	ExpectCode(t, err, code, what)
	var ae *amqp091.Error
	if text != "" && errors.As(err, &ae) && !strings.HasPrefix(ae.Reason, text) {
		t.Errorf("%s: reply text %q, want prefix %q", what, ae.Reason, text)
	}
}

// aChannelError opens a fresh channel on c, runs op on it and checks that
// the broker answers with a channel error of the given code and reply text
// prefix: op returns it, the channel is closed by the server, and the
// connection is still usable (a new channel opens and answers).
func aChannelError(t T, c *amqp091.Connection, code int, text, what string, op func(ch *amqp091.Channel) error) {
	t.Helper()
	ch := aChannel(t, c)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	err := op(ch)
	aExpectErr(t, err, code, text, what)
	select {
	case e := <-closes:
		if e == nil || e.Code != code || !e.Server {
			t.Fatalf("%s: channel closed with %v, want server close %d", what, e, code)
		}
	case <-time.After(Timeout):
		t.Fatalf("%s: channel not closed within %v", what, Timeout)
	}
	if !ch.IsClosed() {
		t.Errorf("%s: channel still open after the error", what)
	}
	aConnUsable(t, c, what)
}

// aConnectionError runs op on a fresh channel of a connection of its own
// and checks that the broker closes the whole connection with code.
func aConnectionError(t T, env *Env, code int, text, what string, op func(ch *amqp091.Channel) error) {
	t.Helper()
	c := env.Dial(t)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	ch := aChannel(t, c)
	err := op(ch)
	if err != nil && ReplyCode(err) != code {
		t.Fatalf("%s: got %v, want reply code %d", what, err, code)
	}
	select {
	case e := <-closes:
		if e == nil || e.Code != code || !e.Server {
			t.Fatalf("%s: connection closed with %v, want server close %d", what, e, code)
		}
		if text != "" && !strings.HasPrefix(e.Reason, text) {
			t.Errorf("%s: reply text %q, want prefix %q", what, e.Reason, text)
		}
	case <-time.After(Timeout):
		t.Fatalf("%s: connection not closed within %v, want %d", what, Timeout, code)
	}
	if !c.IsClosed() {
		t.Errorf("%s: connection still open", what)
	}
	// The broker itself is fine: a new connection works.
	aConnUsable(t, env.Dial(t), what+" (new connection)")
}

// aConnUsable checks that c is open and that a new channel opens and
// answers a synchronous method.
func aConnUsable(t T, c *amqp091.Connection, what string) {
	t.Helper()
	if c.IsClosed() {
		t.Fatalf("%s: connection closed", what)
	}
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("%s: channel.open on the same connection: %v", what, err)
	}
	if err := ch.ExchangeDeclarePassive("amq.direct", "direct", true, false, false, false, nil); err != nil {
		t.Fatalf("%s: new channel does not answer: %v", what, err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("%s: channel.close: %v", what, err)
	}
}

// aTapConn wraps the socket of an amqp091-go connection. It counts the
// heartbeat frames the broker sends and can rewrite the channel-max of the
// client's connection.tune-ok, so a case can make the broker enforce a
// limit that amqp091-go would otherwise enforce on its own.
type aTapConn struct {
	net.Conn
	tuneOkChannelMax int // >= 0: rewrite connection.tune-ok's channel-max

	mu     sync.Mutex
	tap    bool
	inbuf  []byte
	rewrit bool
}

// aHeartbeatFrame is a heartbeat frame: type 8, channel 0, size 0, end.
var aHeartbeatFrame = []byte{8, 0, 0, 0, 0, 0, 0, 0xCE}

// aTuneOkPrefix is the start of a connection.tune-ok frame: method frame,
// channel 0, payload size 12, class 10, method 31.
var aTuneOkPrefix = []byte{1, 0, 0, 0, 0, 0, 12, 0, 10, 0, 31}

func (c *aTapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if c.tap {
		c.inbuf = append(c.inbuf, p[:n]...)
	}
	c.mu.Unlock()
	return n, err
}

func (c *aTapConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.tuneOkChannelMax >= 0 && !c.rewrit {
		if i := bytes.Index(p, aTuneOkPrefix); i >= 0 && len(p) >= i+len(aTuneOkPrefix)+2 {
			q := append([]byte(nil), p...)
			j := i + len(aTuneOkPrefix)
			q[j], q[j+1] = byte(c.tuneOkChannelMax>>8), byte(c.tuneOkChannelMax)
			c.rewrit = true
			c.mu.Unlock()
			return c.Conn.Write(q)
		}
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// startTap starts recording the bytes the broker sends.
func (c *aTapConn) startTap() {
	c.mu.Lock()
	c.tap, c.inbuf = true, nil
	c.mu.Unlock()
}

// heartbeats returns how many heartbeat frames arrived since startTap, and
// whether anything else arrived.
func (c *aTapConn) heartbeats() (n int, other bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.inbuf
	for len(b) >= len(aHeartbeatFrame) && bytes.Equal(b[:len(aHeartbeatFrame)], aHeartbeatFrame) {
		n++
		b = b[len(aHeartbeatFrame):]
	}
	return n, len(b) > 0
}

// aDialTap dials with cfg through an aTapConn.
func aDialTap(t T, env *Env, cfg amqp091.Config, tuneOkChannelMax int) (*amqp091.Connection, *aTapConn) {
	t.Helper()
	var tc *aTapConn
	base := amqp091.DefaultDial(Timeout)
	cfg.Dial = func(network, addr string) (net.Conn, error) {
		nc, err := base(network, addr)
		if err != nil {
			return nil, err
		}
		tc = &aTapConn{Conn: nc, tuneOkChannelMax: tuneOkChannelMax}
		return tc, nil
	}
	c := aDialConfig(t, env, cfg)
	return c, tc
}
