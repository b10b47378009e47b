package broker

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/amqp"
)

// handshake runs spec 2.2.4's opening: protocol header, start/start-ok,
// tune/tune-ok, open/open-ok, all within HandshakeTimeout.
func (c *conn) handshake() error {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.HandshakeTimeout))
	if err := amqp.ReadProtocolHeader(c.br); err != nil {
		if errors.Is(err, amqp.ErrProtocolHeader) {
			// spec 4.2.2: answer with the header we support, then close.
			c.outMu.Lock()
			c.out = append(c.out, amqp.ProtocolHeader...)
			c.outMu.Unlock()
			c.flush()
			c.logAt(zerolog.InfoLevel).Err(err).Msg("refused protocol header")
		}
		return err
	}
	c.writeNow(0, &amqp.ConnectionStart{
		VersionMajor:     0,
		VersionMinor:     9,
		ServerProperties: c.s.serverProperties(),
		Mechanisms:       mechanisms,
		Locales:          "en_US",
	})
	startOk, err := expectMethod[*amqp.ConnectionStartOk](c)
	if err != nil {
		return err
	}
	c.capBlocked = capability(startOk.ClientProperties, "connection.blocked")
	c.capAuthFailure = capability(startOk.ClientProperties, "authentication_failure_close")
	user, pass, ok := credentials(startOk.Mechanism, startOk.Response)
	if !ok && startOk.Mechanism != "PLAIN" && startOk.Mechanism != "AMQPLAIN" {
		return amqp.NewError(amqp.AccessRefused, amqp.ClassConnection, 11,
			"unsupported authentication mechanism '%s'", startOk.Mechanism)
	}
	if c.user = c.s.authenticate(user, pass, c.nc.RemoteAddr()); !ok || c.user == nil {
		if !c.capAuthFailure {
			// Like RabbitMQ, tell only clients that asked to be told; the
			// others just see the socket close.
			return errAuthFailedSilently
		}
		return amqp.NewError(amqp.AccessRefused, amqp.ClassConnection, 11,
			"Login was refused using authentication mechanism %s. For details see the broker logfile.", startOk.Mechanism)
	}

	o := c.s.opts
	c.writeNow(0, &amqp.ConnectionTune{
		ChannelMax: o.ChannelMax,
		FrameMax:   o.FrameMax,
		Heartbeat:  uint16(o.Heartbeat / time.Second),
	})
	tuneOk, err := expectMethod[*amqp.ConnectionTuneOk](c)
	if err != nil {
		return err
	}
	if err := negotiate("channel_max", 1, uint32(o.ChannelMax), uint32(tuneOk.ChannelMax)); err != nil {
		return err
	}
	if err := negotiate("frame_max", amqp.FrameMinSize, o.FrameMax, tuneOk.FrameMax); err != nil {
		return err
	}
	c.channelMax = tuneOk.ChannelMax
	c.frameMax = tuneOk.FrameMax
	c.fr.SetFrameMax(c.frameMax)
	hb := time.Duration(tuneOk.Heartbeat) * time.Second
	c.heartbeat.Store(int64(hb))

	open, err := expectMethod[*amqp.ConnectionOpen](c)
	if err != nil {
		return err
	}
	v := c.s.vhost(open.VirtualHost)
	if v == nil {
		return amqp.NewError(amqp.NotAllowed, amqp.ClassConnection, 40, "vhost %s not found", open.VirtualHost)
	}
	if !c.s.mayOpen(c.user, open.VirtualHost) {
		return amqp.NewError(amqp.NotAllowed, amqp.ClassConnection, 40,
			"access to vhost '%s' refused for user '%s'", open.VirtualHost, c.user.Name)
	}
	c.vhost = v
	// connection.start grew the outbound buffers; a connection that now
	// stays idle should not keep them.
	c.shrinkBuffers.Store(true)
	c.writeNow(0, &amqp.ConnectionOpenOk{})
	_ = c.nc.SetReadDeadline(time.Time{})
	if hb > 0 {
		// A peer silent for two intervals is gone (spec 4.2.7).
		c.dr.timeout = 2 * hb
	}
	return nil
}

// errAuthFailedSilently ends a handshake without connection.close.
var errAuthFailedSilently = errors.New("authentication failed")

// capability reports whether the client's properties announce a
// capability (RabbitMQ's client capabilities table).
func capability(clientProps amqp.Table, name string) bool {
	caps, _ := clientProps.Get("capabilities")
	t, _ := caps.(amqp.Table)
	v, _ := t.Get(name)
	b, _ := v.(bool)
	return b
}

// negotiate checks a tune-ok value as RabbitMQ does: below the minimum, or
// above (or unlimited where) the server's maximum, is 530 NOT_ALLOWED.
func negotiate(field string, minimum, server, client uint32) error {
	if client != 0 && client < minimum {
		return amqp.NewError(amqp.NotAllowed, amqp.ClassConnection, 31,
			"negotiated %s = %d is lower than the minimum allowed value (%d)", field, client, minimum)
	}
	if server != 0 && (client == 0 || client > server) {
		return amqp.NewError(amqp.NotAllowed, amqp.ClassConnection, 31,
			"negotiated %s = %d is higher than the maximum allowed value (%d)", field, client, server)
	}
	return nil
}

// expectMethod reads the next frame, which must be method M on channel 0.
func expectMethod[M amqp.Method](c *conn) (M, error) {
	var zero M
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return zero, err
		}
		if f.Type == amqp.FrameHeartbeat {
			continue
		}
		if f.Type != amqp.FrameMethod || f.Channel != 0 {
			return zero, amqp.NewError(amqp.UnexpectedFrame, 0, 0, "%s", amqp.FrameText(f.Type, f.Payload))
		}
		m, err := c.dec.Decode(f.Payload)
		if err != nil {
			return zero, err
		}
		if cl, ok := m.(*amqp.ConnectionClose); ok {
			c.writeMethod(0, &amqp.ConnectionCloseOk{})
			return zero, fmt.Errorf("client closed during handshake: %d %s: %w", cl.ReplyCode, cl.ReplyText, errConnClosed)
		}
		got, ok := m.(M)
		if !ok {
			return zero, amqp.NewError(amqp.CommandInvalid, amqp.ClassOf(m.ID()), amqp.MethodOf(m.ID()),
				"expected %s, got %s", zero.Name(), m.Name())
		}
		return got, nil
	}
}

func (s *Server) serverProperties() amqp.Table {
	return amqp.Table{
		{Key: "product", Value: "Warren"},
		{Key: "version", Value: s.opts.Version},
		{Key: "platform", Value: "Go " + runtime.Version()},
		{Key: "copyright", Value: "The Warren authors"},
		{Key: "information", Value: "An AMQP 0-9-1 broker in Go"},
		{Key: "cluster_name", Value: "warren"},
		{Key: "capabilities", Value: amqp.Table{
			{Key: "publisher_confirms", Value: true},
			{Key: "exchange_exchange_bindings", Value: true},
			{Key: "basic.nack", Value: true},
			{Key: "consumer_cancel_notify", Value: true},
			{Key: "connection.blocked", Value: true},
			{Key: "consumer_priorities", Value: true},
			{Key: "authentication_failure_close", Value: true},
			{Key: "per_consumer_qos", Value: true},
			{Key: "direct_reply_to", Value: true},
		}},
	}
}
