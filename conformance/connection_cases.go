package conformance

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "connection", Name: "server-properties", Run: connServerProperties},
		Case{Section: "connection", Name: "tune-server-defaults", Run: connTuneServerDefaults},
		Case{Section: "connection", Name: "tune-client-lower", Run: connTuneClientLower},
		Case{Section: "connection", Name: "wrong-password-403", Run: connWrongPassword},
		Case{Section: "connection", Name: "unknown-vhost-530", Run: connUnknownVhost},
		Case{Section: "connection", Name: "client-close", Run: connClientClose},
		Case{Section: "connection", Name: "channel-max-client-side", Run: connChannelMaxClient},
		Case{Section: "connection", Name: "channel-max-exceeded-530", Run: connChannelMaxServer},
		Case{Section: "connection", Name: "heartbeat-1s-keeps-alive", Run: connHeartbeat},
	)
}

// connServerProperties: connection.start carries product, version and
// platform, and the capabilities table RabbitMQ clients look for.
func connServerProperties(t T, env *Env) {
	c := env.Dial(t)
	if c.Major != 0 || c.Minor != 9 {
		t.Errorf("connection.start version %d-%d, want 0-9", c.Major, c.Minor)
	}
	for _, k := range []string{"product", "version", "platform"} {
		v, ok := c.Properties[k]
		if !ok {
			t.Errorf("server property %q missing", k)
			continue
		}
		if s, ok := v.(string); !ok || s == "" {
			t.Errorf("server property %q = %#v, want a non-empty long string", k, v)
		}
	}
	caps, ok := c.Properties["capabilities"].(amqp091.Table)
	if !ok {
		t.Fatalf("server property capabilities = %#v, want a table", c.Properties["capabilities"])
	}
	for _, k := range []string{
		"publisher_confirms", "exchange_exchange_bindings", "basic.nack",
		"consumer_cancel_notify", "connection.blocked", "consumer_priorities",
		"authentication_failure_close", "per_consumer_qos", "direct_reply_to",
	} {
		if v, ok := caps[k].(bool); !ok || !v {
			t.Errorf("capability %q = %#v, want true", k, caps[k])
		}
	}
	has := func(list, want string) bool {
		for _, s := range strings.Split(list, " ") {
			if s == want {
				return true
			}
		}
		return false
	}
	// amqp091-go keeps the mechanisms to itself; the locale list is public.
	if len(c.Locales) == 0 || !has(strings.Join(c.Locales, " "), "en_US") {
		t.Errorf("locales %q, want en_US", c.Locales)
	}
}

// connTuneServerDefaults: a client that proposes 0 (no limit) for
// channel-max and frame-max and no heartbeat gets the server's values:
// RabbitMQ's channel_max 2047, frame_max 131072, heartbeat 60s.
func connTuneServerDefaults(t T, env *Env) {
	c := aDialConfig(t, env, amqp091.Config{
		ChannelMax: 0,
		FrameSize:  amqp091.FrameSizeUnlimited, // sends frame-max 0
		Heartbeat:  time.Millisecond,           // below 1s: sends 0, takes the server's
	})
	if c.Config.ChannelMax != 2047 {
		t.Errorf("negotiated channel-max %d, want 2047", c.Config.ChannelMax)
	}
	if c.Config.FrameSize != 131072 {
		t.Errorf("negotiated frame-max %d, want 131072", c.Config.FrameSize)
	}
	if c.Config.Heartbeat != 60*time.Second {
		t.Errorf("negotiated heartbeat %v, want 60s", c.Config.Heartbeat)
	}
	aConnUsable(t, c, "after tune")
}

// connTuneClientLower: lower client proposals win, and the broker honours
// the smaller frame-max: a body larger than one frame arrives intact.
func connTuneClientLower(t T, env *Env) {
	c := aDialConfig(t, env, amqp091.Config{ChannelMax: 10, FrameSize: 4096, Heartbeat: 5 * time.Second})
	if c.Config.ChannelMax != 10 || c.Config.FrameSize != 4096 || c.Config.Heartbeat != 5*time.Second {
		t.Fatalf("negotiated channel-max %d frame-max %d heartbeat %v, want 10 4096 5s",
			c.Config.ChannelMax, c.Config.FrameSize, c.Config.Heartbeat)
	}
	ch := aChannel(t, c)
	q := aQueue(t, env, ch, "tune")
	body := bytes.Repeat([]byte("0123456789abcdef"), 2000) // 32000 bytes: 8+ body frames each way
	aPublish(t, c, "", false, []string{q}, amqp091.Publishing{Body: body})
	d, ok, err := ch.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("basic.get: ok=%v err=%v", ok, err)
	}
	if !bytes.Equal(d.Body, body) {
		t.Fatalf("body of %d bytes came back as %d bytes (or altered)", len(body), len(d.Body))
	}
}

// connWrongPassword: a bad password fails the handshake with 403
// ACCESS_REFUSED. amqp091-go does not advertise authentication_failure_close,
// so RabbitMQ just closes the socket and the client reports ErrCredentials
// (403); the broker keeps serving other connections.
func connWrongPassword(t T, env *Env) {
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	user := "guest"
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, "wrong-"+Name("pw"))
	start := time.Now()
	c, err := amqp091.DialConfig(u.String(), amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial with a wrong password succeeded")
	}
	ExpectCode(t, err, amqp091.AccessRefused, "dial with a wrong password")
	if d := time.Since(start); d > Timeout {
		t.Errorf("refusal took %v", d)
	}
	aConnUsable(t, env.Dial(t), "after a refused login")
}

// connUnknownVhost: connection.open of a vhost that does not exist is
// answered with connection.close 530 NOT_ALLOWED.
func connUnknownVhost(t T, env *Env) {
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	vhost := Name("vhost")
	u.Path, u.RawPath = "/"+vhost, ""
	c, err := amqp091.DialConfig(u.String(), amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial of vhost %q succeeded", vhost)
	}
	aExpectErr(t, err, amqp091.NotAllowed, "NOT_ALLOWED - vhost "+vhost+" not found", "connection.open of a missing vhost")
	aConnUsable(t, env.Dial(t), "after a refused vhost")
}

// connClientClose: connection.close from the client completes, closes every
// channel of the connection and reports no error to close listeners.
func connClientClose(t T, env *Env) {
	c, err := aDialRaw(env)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	ch1 := aChannel(t, c)
	ch2 := aChannel(t, c)
	q := aQueue(t, env, ch1, "cclose")
	if err := c.Close(); err != nil {
		t.Fatalf("connection.close: %v", err)
	}
	select {
	case e, ok := <-closes:
		if ok && e != nil {
			t.Fatalf("close listener got %v, want a clean close", e)
		}
	case <-time.After(Timeout):
		t.Fatalf("close listener not notified within %v", Timeout)
	}
	if !c.IsClosed() || !ch1.IsClosed() || !ch2.IsClosed() {
		t.Errorf("after connection.close: conn closed %v, channels closed %v %v", c.IsClosed(), ch1.IsClosed(), ch2.IsClosed())
	}
	if _, err := ch2.QueueDeclarePassive(q, false, false, false, false, nil); !errors.Is(err, amqp091.ErrClosed) {
		t.Errorf("method on a channel of a closed connection: %v, want ErrClosed", err)
	}
	// The (non-exclusive) queue declared on it outlives the connection.
	if !aQueueExists(t, env.Dial(t), q) {
		t.Errorf("queue %q vanished with its declaring connection", q)
	}
}

// connChannelMaxClient: with a negotiated channel-max of 2, channels 1 and
// 2 open; amqp091-go refuses a third itself, without disturbing the
// connection.
func connChannelMaxClient(t T, env *Env) {
	c := aDialConfig(t, env, amqp091.Config{ChannelMax: 2})
	if c.Config.ChannelMax != 2 {
		t.Fatalf("negotiated channel-max %d, want 2", c.Config.ChannelMax)
	}
	ch1 := aChannel(t, c)
	aChannel(t, c)
	if _, err := c.Channel(); !errors.Is(err, amqp091.ErrChannelMax) {
		t.Fatalf("third channel.open: %v, want ErrChannelMax", err)
	}
	if err := ch1.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	aConnUsable(t, c, "after a channel was freed")
}

// connChannelMaxServer: the broker enforces the negotiated channel-max. The
// client's tune-ok is rewritten to channel-max 2 (amqp091-go believes
// 2047), so the third channel.open reaches the broker, which closes the
// connection with 530 NOT_ALLOWED (RabbitMQ 3.x:
// "number of channels opened (2) has reached the negotiated channel_max (2)").
func connChannelMaxServer(t T, env *Env) {
	c, _ := aDialTap(t, env, amqp091.Config{}, 2)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	aChannel(t, c)
	aChannel(t, c)
	_, err := c.Channel()
	if err == nil {
		t.Fatalf("third channel.open succeeded with channel-max 2")
	}
	select {
	case e := <-closes:
		if e == nil || e.Code != amqp091.NotAllowed || !e.Server {
			t.Fatalf("connection closed with %v, want server close 530", e)
		}
		if want := "NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)"; e.Reason != want {
			t.Errorf("reply text %q, want %q", e.Reason, want)
		}
	case <-time.After(Timeout):
		t.Fatalf("connection not closed within %v (channel.open: %v)", Timeout, err)
	}
}

// connHeartbeat: with heartbeat 1s, an idle connection stays open for 3s
// and the broker sends heartbeat frames (and nothing else) meanwhile.
func connHeartbeat(t T, env *Env) {
	c, tap := aDialTap(t, env, amqp091.Config{Heartbeat: time.Second}, -1)
	if c.Config.Heartbeat != time.Second {
		t.Fatalf("negotiated heartbeat %v, want 1s", c.Config.Heartbeat)
	}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	tap.startTap()
	select {
	case e := <-closes:
		t.Fatalf("idle connection closed: %v", e)
	case <-time.After(3 * time.Second):
	}
	n, other := tap.heartbeats()
	if n < 2 || other {
		t.Errorf("broker sent %d heartbeat frames (other traffic: %v) in 3s at 1s interval, want >= 2 and nothing else", n, other)
	}
	aConnUsable(t, c, "after 3s idle")
}
