package conformance

// Protocol errors that amqp091-go cannot produce: malformed frames,
// frames out of order, methods on the wrong channel. Every expectation was
// taken from RabbitMQ 3.10 on the wire (reply code, reply text, class and
// method ids of the close, and whether the socket is then closed). Each
// case ends by checking that a fresh connection still works.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/conformance/rawconn"
)

func init() {
	for _, h := range errBadHeaders {
		register(Case{Section: "errors", Name: "bad-protocol-header-" + h.name, Run: func(t T, env *Env) { errBadHeader(t, env, h.header) }})
	}
	register(
		Case{Section: "errors", Name: "protocol-header-0-9-accepted", Run: errHeader09},
		Case{Section: "errors", Name: "protocol-header-split", Run: errHeaderSplit},
		Case{Section: "errors", Name: "header-then-nothing-gets-start", Run: errHeaderThenNothing},
		Case{Section: "errors", Name: "tune-ok-out-of-range-refused", Run: errTuneOkOutOfRange},
		Case{Section: "errors", Name: "frame-too-large-before-tune-refused", Run: errFrameTooLargeBeforeTune},
		Case{Section: "errors", Name: "wrong-method-in-handshake-refused", Run: errWrongHandshakeMethod},
		Case{Section: "errors", Name: "channel-frame-before-open-505", Run: errChannelBeforeOpen},

		Case{Section: "errors", Name: "frame-too-large-501", Run: errFrameTooLarge},
		Case{Section: "errors", Name: "frame-max-slack-accepted", Run: errFrameMaxSlack},
		Case{Section: "errors", Name: "bad-frame-end-501", Run: errBadFrameEnd},
		Case{Section: "errors", Name: "unknown-frame-type-501", Run: errUnknownFrameType},
		Case{Section: "errors", Name: "short-method-frame-501", Run: errShortMethodFrame},
		Case{Section: "errors", Name: "short-content-header-501", Run: errShortContentHeader},
		Case{Section: "errors", Name: "heartbeat-on-channel-505", Run: errHeartbeatOnChannel},
		Case{Section: "errors", Name: "heartbeat-with-payload-501", Run: errHeartbeatPayload},
		Case{Section: "errors", Name: "content-frame-on-channel-0-505", Run: errContentOnChannel0},

		Case{Section: "errors", Name: "unknown-class-closes", Run: errUnknownClass},
		Case{Section: "errors", Name: "unknown-method-closes", Run: errUnknownMethod},
		Case{Section: "errors", Name: "truncated-arguments-501", Run: errTruncatedArgs},
		Case{Section: "errors", Name: "trailing-arguments-501", Run: errTrailingArgs},
		Case{Section: "errors", Name: "unknown-field-type-closes", Run: errUnknownFieldType},
		Case{Section: "errors", Name: "server-method-from-client-503", Run: errServerMethod},
		Case{Section: "errors", Name: "unsolicited-channel-close-ok-503", Run: errUnsolicitedCloseOk},
		Case{Section: "errors", Name: "connection-method-on-channel-503", Run: errConnMethodOnChannel},
		Case{Section: "errors", Name: "channel-method-on-channel-0-504", Run: errChannelMethodOn0},
		Case{Section: "errors", Name: "channel-open-on-channel-0-504", Run: errChannelOpenOn0},
		Case{Section: "errors", Name: "tune-ok-after-open-504", Run: errTuneOkAfterOpen},

		Case{Section: "errors", Name: "channel-not-open-504", Run: errChannelNotOpen},
		Case{Section: "errors", Name: "second-channel-open-504", Run: errSecondChannelOpen},
		Case{Section: "errors", Name: "channel-number-above-channel-max-accepted", Run: errChannelAboveMax},
		Case{Section: "errors", Name: "closing-channel-ignores-frames", Run: errClosingChannelIgnores},

		Case{Section: "errors", Name: "body-without-publish-505", Run: errBodyWithoutPublish},
		Case{Section: "errors", Name: "header-without-publish-505", Run: errHeaderWithoutPublish},
		Case{Section: "errors", Name: "header-on-other-channel-505", Run: errHeaderOtherChannel},
		Case{Section: "errors", Name: "method-awaiting-header-505", Run: errMethodAwaitingHeader},
		Case{Section: "errors", Name: "method-awaiting-body-505", Run: errMethodAwaitingBody},
		Case{Section: "errors", Name: "header-class-not-basic-505", Run: errHeaderWrongClass},
		Case{Section: "errors", Name: "body-after-empty-content-505", Run: errBodyAfterEmpty},
		Case{Section: "errors", Name: "body-larger-than-declared-505", Run: errBodyTooLarge},
	)
}

// --- protocol header ----------------------------------------------------

// errBadHeaders are headers RabbitMQ refuses by writing its own
// ("AMQP\x00\x00\x09\x01") and closing the socket. RabbitMQ 3.x also
// refuses AMQP 1.0 ("AMQP\x00\x01\x00\x00") that way unless the amqp1_0
// plugin is enabled, so that one is not here; and it speaks 0-8 to
// "AMQP\x01\x01\x08\x00" and "AMQP\x01\x01\x09\x01", which Warren does not
// implement, so those are not here either.
var errBadHeaders = []struct{ name, header string }{
	{"0-9-0", "AMQP\x00\x00\x09\x00"},
	{"0-9-2", "AMQP\x00\x00\x09\x02"},
	{"0-10", "AMQP\x01\x01\x00\x0a"},
	{"0-8-revision", "AMQP\x00\x00\x08\x00"},
	{"http", "HTTP/1.1"},
	{"http-get", "GET / HTTP/1.1\r\n\r\n"},
}

func errBadHeader(t T, env *Env, header string) {
	c := rSocket(t, env)
	rMust(t, c.SendRaw([]byte(header)), "send header")
	got, err := c.ReadRaw(8)
	if err != nil {
		t.Fatalf("want the server's protocol header: %v", err)
	}
	if string(got) != amqp.ProtocolHeader {
		t.Fatalf("server answered %q, want %q", got, amqp.ProtocolHeader)
	}
	if err := c.ExpectEOF(); err != nil {
		t.Fatalf("after the protocol header: %v", err)
	}
	rBrokerOK(t, env)
}

// errHeader09: RabbitMQ treats the 0-9 header (class 1, instance 1,
// version 0-9) as 0-9-1; its connection.start still says 0-9.
func errHeader09(t T, env *Env) {
	c := rSocket(t, env)
	rMust(t, c.SendRaw([]byte("AMQP\x01\x01\x00\x09")), "send header")
	user, pass, vhost := rCreds(t, env)
	rMust(t, c.Login(user, pass, vhost), "handshake after the 0-9 header")
	if c.Start.VersionMajor != 0 || c.Start.VersionMinor != 9 {
		t.Errorf("connection.start version %d-%d, want 0-9", c.Start.VersionMajor, c.Start.VersionMinor)
	}
	rMust(t, c.OpenChannel(1), "channel.open")
	rQueue(t, c)
	rMust(t, c.CloseConnection(), "connection.close")
}

// errHeaderSplit: the server waits for all 8 octets of the header.
func errHeaderSplit(t T, env *Env) {
	c := rSocket(t, env)
	rMust(t, c.SendRaw([]byte(amqp.ProtocolHeader[:4])), "send half a header")
	if err := c.ExpectSilence(bQuiet); err != nil {
		t.Fatalf("after 4 octets of the header: %v", err)
	}
	rMust(t, c.SendRaw([]byte(amqp.ProtocolHeader[4:])), "send the rest")
	user, pass, vhost := rCreds(t, env)
	rMust(t, c.Login(user, pass, vhost), "handshake")
	rMust(t, c.CloseConnection(), "connection.close")
}

func errHeaderThenNothing(t T, env *Env) {
	c := rSocket(t, env)
	rMust(t, c.SendProtocolHeader(), "send header")
	start, err := rawconn.Expect[*amqp.ConnectionStart](c, 0)
	rMust(t, err, "connection.start")
	if start.VersionMajor != 0 || start.VersionMinor != 9 {
		t.Errorf("connection.start version %d-%d, want 0-9", start.VersionMajor, start.VersionMinor)
	}
	if !containsWord(start.Mechanisms, "PLAIN") {
		t.Errorf("mechanisms %q, want PLAIN among them", start.Mechanisms)
	}
	if !containsWord(start.Locales, "en_US") {
		t.Errorf("locales %q, want en_US among them", start.Locales)
	}
}

func containsWord(list, w string) bool {
	return slices.Contains(strings.Fields(list), w)
}

// --- handshake ----------------------------------------------------------

// errTuneOkOutOfRange: RabbitMQ refuses tune-ok values below the minimum
// or above its own maximum (0 meaning "no limit" is above any maximum) and
// logs "negotiated frame_max = 4095 is lower than the minimum allowed
// value (4096)", but before connection.open-ok it sends no connection.close:
// it waits SILENT_CLOSE_DELAY (3 s) and closes the socket. Warren sends
// the 530 close the spec and our issue tracker ask for (rTerminated takes
// either). The variants
// run concurrently so the case costs one delay.
func errTuneOkOutOfRange(t T, env *Env) {
	type variant struct {
		name string
		// tune-ok values computed from the server's tune
		values func(tu *amqp.ConnectionTune) (channelMax uint16, frameMax uint32, ok bool)
	}
	variants := []variant{
		{"frame_max 4095", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) { return tu.ChannelMax, 4095, true }},
		{"frame_max 1", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) { return tu.ChannelMax, 1, true }},
		{"frame_max server+1", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) {
			return tu.ChannelMax, tu.FrameMax + 1, tu.FrameMax != 0
		}},
		{"frame_max 0 (no limit)", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) {
			return tu.ChannelMax, 0, tu.FrameMax != 0
		}},
		{"channel_max server+1", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) {
			return tu.ChannelMax + 1, tu.FrameMax, tu.ChannelMax != 0 && tu.ChannelMax != 65535
		}},
		{"channel_max 0 (no limit)", func(tu *amqp.ConnectionTune) (uint16, uint32, bool) {
			return 0, tu.FrameMax, tu.ChannelMax != 0
		}},
	}
	user, pass, vhost := rCreds(t, env)
	conns := make([]*rawconn.Conn, len(variants))
	for i := range variants {
		conns[i] = rSocket(t, env)
	}
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := conns[i]
			if err := c.SendProtocolHeader(); err != nil {
				errs[i] = err
				return
			}
			tu, err := c.Authenticate(user, pass)
			if err != nil {
				errs[i] = err
				return
			}
			chMax, frameMax, ok := v.values(tu)
			if !ok {
				return // the server has no limit to exceed
			}
			if err := c.TuneOk(chMax, frameMax, 0); err != nil {
				errs[i] = err
				return
			}
			// A client sends connection.open right after tune-ok.
			_ = c.SendMethod(0, &amqp.ConnectionOpen{VirtualHost: vhost})
			errs[i] = rTerminated(c, []uint16{amqp.NotAllowed})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("tune-ok %s: %v", variants[i].name, err)
		}
	}
	rBrokerOK(t, env)
}

// errFrameTooLargeBeforeTune: until tune-ok the limit is frame-min-size
// (4096); RabbitMQ drops a larger start-ok silently after 3 s.
func errFrameTooLargeBeforeTune(t T, env *Env) {
	c := rSocket(t, env)
	user, pass, _ := rCreds(t, env)
	rMust(t, c.SendProtocolHeader(), "send header")
	_, err := rawconn.Expect[*amqp.ConnectionStart](c, 0)
	rMust(t, err, "connection.start")
	rMust(t, c.SendMethod(0, &amqp.ConnectionStartOk{
		ClientProperties: amqp.Table{{Key: "padding", Value: string(make([]byte, 5000))}},
		Mechanism:        "PLAIN",
		Response:         "\x00" + user + "\x00" + pass,
		Locale:           "en_US",
	}), "start-ok")
	rExpectRefused(t, c, amqp.FrameError, "start-ok larger than 4096 octets")
	rBrokerOK(t, env)
}

// errWrongHandshakeMethod: connection.open where start-ok belongs.
func errWrongHandshakeMethod(t T, env *Env) {
	c := rSocket(t, env)
	_, _, vhost := rCreds(t, env)
	rMust(t, c.SendProtocolHeader(), "send header")
	_, err := rawconn.Expect[*amqp.ConnectionStart](c, 0)
	rMust(t, err, "connection.start")
	rMust(t, c.SendMethod(0, &amqp.ConnectionOpen{VirtualHost: vhost}), "connection.open")
	rExpectRefused(t, c, amqp.CommandInvalid, "connection.open instead of start-ok")
	rBrokerOK(t, env)
}

// errChannelBeforeOpen: channel.open after tune-ok but before
// connection.open. Unlike earlier handshake errors, RabbitMQ reports this
// one with connection.close.
func errChannelBeforeOpen(t T, env *Env) {
	c := rSocket(t, env)
	user, pass, _ := rCreds(t, env)
	rMust(t, c.SendProtocolHeader(), "send header")
	tu, err := c.Authenticate(user, pass)
	rMust(t, err, "start/tune")
	rMust(t, c.TuneOk(tu.ChannelMax, tu.FrameMax, 0), "tune-ok")
	rMust(t, c.SendMethod(1, &amqp.ChannelOpen{}), "channel.open")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, "UNEXPECTED_FRAME - type 1, all octets = <<0,20,0,10,0>>*", 0, 0,
		"channel.open before connection.open")
	rBrokerOK(t, env)
}

// --- frames -------------------------------------------------------------

// errFrameTooLarge: a frame header whose size exceeds frame_max is refused
// before its payload arrives. RabbitMQ's limit on the payload is frame_max
// itself (see errFrameMaxSlack), and the text quotes frame_max-8.
// RabbitMQ closes the socket 3 s after the close, close-ok or not.
func errFrameTooLarge(t T, env *Env) {
	c := rDialChannel(t, env)
	if c.FrameMax == 0 {
		t.Logf("server has no frame_max")
		return
	}
	size := c.FrameMax + 1
	hdr := []byte{amqp.FrameMethod, 0, 1}
	rMust(t, c.SendRaw(binary.BigEndian.AppendUint32(hdr, size)), "send frame header")
	rExpectConnClose(t, c, amqp.FrameError,
		fmt.Sprintf("FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,%d,%d}", size, c.FrameMax-amqp.FrameOverhead),
		0, 0, "frame larger than frame_max")
	rBrokerOK(t, env)
}

// errFrameMaxSlack: RabbitMQ accepts a payload of up to frame_max octets
// (FRAME_SIZE_FUDGE, for old clients that did not count the 8 octets of
// framing), so a body frame of frame_max+8 octets in all is accepted.
func errFrameMaxSlack(t T, env *Env) {
	c := rDialChannel(t, env)
	if c.FrameMax == 0 {
		t.Logf("server has no frame_max")
		return
	}
	q := rQueue(t, c)
	rMust(t, c.SendMethod(1, &amqp.ConfirmSelect{}), "confirm.select")
	_, err := rawconn.Expect[*amqp.ConfirmSelectOk](c, 1)
	rMust(t, err, "confirm.select")
	body := make([]byte, c.FrameMax)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: q}), "basic.publish")
	b := amqp.AppendHeaderFrame(nil, 1, amqp.ClassBasic, uint64(len(body)), amqp.AppendProperties(nil, &amqp.Properties{}))
	b = rawconn.AppendFrame(b, amqp.FrameBody, 1, body)
	rMust(t, c.SendRaw(b), "content")
	_, err = rawconn.Expect[*amqp.BasicAck](c, 1)
	rMust(t, err, "publisher confirm of a body frame of frame_max+8 octets")
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Queue: q, Passive: true}), "passive queue.declare")
	ok, err := rawconn.Expect[*amqp.QueueDeclareOk](c, 1)
	rMust(t, err, "passive queue.declare after a body frame of frame_max+8 octets")
	if ok.MessageCount != 1 {
		t.Errorf("queue holds %d messages, want 1", ok.MessageCount)
	}
	rMust(t, c.CloseConnection(), "connection.close")
}

// errBadFrameEnd: RabbitMQ closes with 501 quoting the payload (the rest
// of its text is an Erlang term whose line breaks depend on its length)
// and drops the socket 3 s later.
func errBadFrameEnd(t T, env *Env) {
	c := rDialChannel(t, env)
	f := amqp.AppendMethodFrame(nil, 1, &amqp.QueueDeclare{Exclusive: true})
	f[len(f)-1] = 0
	rMust(t, c.SendRaw(f), "send frame")
	payload := f[7 : len(f)-1]
	rExpectConnClose(t, c, amqp.FrameError,
		fmt.Sprintf("FRAME_ERROR - type 1, all octets = %s: {invalid_frame_end_marker,*", rOctets(payload)),
		0, 0, "frame end 0x00")
	rBrokerOK(t, env)
}

func errUnknownFrameType(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: 9, Channel: 1, Payload: []byte{0, 1, 2}}), "send frame")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - type 9, all octets = <<0,1,2>>: unknown_frame", 0, 0,
		"frame type 9")
	rBrokerOK(t, env)
}

// errShortMethodFrame: a method frame too short to hold class and method
// ids.
func errShortMethodFrame(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: []byte{0, 50, 0}}), "send frame")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - type 1, all octets = <<0,50,0>>: unknown_frame", 0, 0,
		"3-octet method frame")
	rBrokerOK(t, env)
}

// errShortContentHeader: a content header shorter than class, weight and
// body size.
func errShortContentHeader(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish")
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameHeader, Channel: 1, Payload: []byte{0, 60, 0}}), "send frame")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - type 2, all octets = <<0,60,0>>: unknown_frame", 0, 0,
		"3-octet content header")
	rBrokerOK(t, env)
}

// errHeartbeatOnChannel: a heartbeat frame on channel 1 is
// UNEXPECTED_FRAME in RabbitMQ (not FRAME_ERROR).
func errHeartbeatOnChannel(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameHeartbeat, Channel: 1}), "send heartbeat")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, "UNEXPECTED_FRAME - type 8, all octets = <<>>", 0, 0,
		"heartbeat on channel 1")
	rBrokerOK(t, env)
}

func errHeartbeatPayload(t T, env *Env) {
	c := rDial(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameHeartbeat, Channel: 0, Payload: []byte{0, 1}}), "send heartbeat")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - type 8, all octets = <<0,1>>: unknown_frame", 0, 0,
		"heartbeat with a payload")
	rBrokerOK(t, env)
}

func errContentOnChannel0(t T, env *Env) {
	for _, typ := range []uint8{amqp.FrameHeader, amqp.FrameBody} {
		c := rDial(t, env)
		var payload []byte
		if typ == amqp.FrameHeader {
			payload = amqp.AppendHeaderFrame(nil, 0, amqp.ClassBasic, 1, []byte{0, 0})[7:]
			payload = payload[:len(payload)-1]
		} else {
			payload = []byte{1, 2, 3}
		}
		rMust(t, c.Send(amqp.Frame{Type: typ, Channel: 0, Payload: payload}), "send frame")
		rExpectConnClose(t, c, amqp.UnexpectedFrame,
			fmt.Sprintf("UNEXPECTED_FRAME - type %d, all octets = %s", typ, rOctets(payload)), 0, 0,
			fmt.Sprintf("frame type %d on channel 0", typ))
	}
	rBrokerOK(t, env)
}

// --- methods ------------------------------------------------------------

// rUnknownMethodCodes are what a broker may answer an unknown class or
// method with. RabbitMQ 3.10 answers nothing: lookup_method_name exits with
// unknown_method_id, which crashes the connection process, and the socket
// closes without connection.close. The spec's codes for it are 503
// (command-invalid) and 540 (not-implemented).
var rUnknownMethodCodes = []uint16{amqp.CommandInvalid, amqp.NotImplemented}

func errUnknownClass(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: rawconn.MethodPayload(99, 10, nil)}), "send")
	rExpectTerminated(t, c, rUnknownMethodCodes, "class 99")
	rBrokerOK(t, env)
}

func errUnknownMethod(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: rawconn.MethodPayload(50, 99, nil)}), "send")
	rExpectTerminated(t, c, rUnknownMethodCodes, "queue method 99")
	rBrokerOK(t, env)
}

// errTruncatedArgs: RabbitMQ reports arguments that end early as 501
// FRAME_ERROR "cannot decode", naming the method.
func errTruncatedArgs(t T, env *Env) {
	c := rDialChannel(t, env)
	args := []byte{0, 0, 5, 'a'} // reserved-1, then a 5-octet queue name cut after 1
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: rawconn.MethodPayload(50, 10, args)}), "send")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - cannot decode "+rOctets(args), 50, 10,
		"truncated queue.declare")
	rBrokerOK(t, env)
}

// errTrailingArgs: octets after the last argument are refused the same way.
func errTrailingArgs(t T, env *Env) {
	c := rDialChannel(t, env)
	args := (&amqp.QueueDeclare{Exclusive: true}).Append(nil)
	args = append(args, 1, 2, 3)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: rawconn.MethodPayload(50, 10, args)}), "send")
	rExpectConnClose(t, c, amqp.FrameError, "FRAME_ERROR - cannot decode "+rOctets(args), 50, 10,
		"queue.declare with 3 trailing octets")
	rBrokerOK(t, env)
}

// errUnknownFieldType: a field table value of type 'Z'. RabbitMQ 3.10
// crashes the connection process (function_clause in
// rabbit_binary_parser:parse_table) and drops the socket without
// connection.close; 502 SYNTAX_ERROR (the spec's code) or 501 are
// accepted as well.
func errUnknownFieldType(t T, env *Env) {
	c := rDialChannel(t, env)
	table := []byte{1, 'k', 'Z', 1, 2, 3, 4}
	args := []byte{0, 0, 0, 0x04} // reserved-1, queue "", exclusive
	args = binary.BigEndian.AppendUint32(args, uint32(len(table)))
	args = append(args, table...)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameMethod, Channel: 1, Payload: rawconn.MethodPayload(50, 10, args)}), "send")
	rExpectTerminated(t, c, []uint16{amqp.SyntaxError, amqp.FrameError}, "field type 'Z' in queue.declare arguments")
	rBrokerOK(t, env)
}

// errServerMethod: a method only the server sends.
func errServerMethod(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.QueueDeclareOk{Queue: "q"}), "send queue.declare-ok")
	rExpectConnClose(t, c, amqp.CommandInvalid, "COMMAND_INVALID - unimplemented method", 50, 11,
		"queue.declare-ok from the client")
	rBrokerOK(t, env)
}

func errUnsolicitedCloseOk(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.ChannelCloseOk{}), "send channel.close-ok")
	rExpectConnClose(t, c, amqp.CommandInvalid, "COMMAND_INVALID - unimplemented method", 20, 41,
		"channel.close-ok without channel.close")
	rBrokerOK(t, env)
}

func errConnMethodOnChannel(t T, env *Env) {
	c := rDialChannel(t, env)
	_, _, vhost := rCreds(t, env)
	rMust(t, c.SendMethod(1, &amqp.ConnectionOpen{VirtualHost: vhost}), "send connection.open on channel 1")
	rExpectConnClose(t, c, amqp.CommandInvalid, "COMMAND_INVALID - unimplemented method", 10, 40,
		"connection.open on channel 1")
	rBrokerOK(t, env)
}

func errChannelMethodOn0(t T, env *Env) {
	c := rDial(t, env)
	rMust(t, c.SendMethod(0, &amqp.QueueDeclare{Exclusive: true}), "send queue.declare on channel 0")
	rExpectConnClose(t, c, amqp.ChannelError, "CHANNEL_ERROR - unexpected method in connection state running", 50, 10,
		"queue.declare on channel 0")
	rBrokerOK(t, env)
}

func errChannelOpenOn0(t T, env *Env) {
	c := rDial(t, env)
	rMust(t, c.SendMethod(0, &amqp.ChannelOpen{}), "send channel.open on channel 0")
	rExpectConnClose(t, c, amqp.ChannelError, "CHANNEL_ERROR - unexpected method in connection state running", 20, 10,
		"channel.open on channel 0")
	rBrokerOK(t, env)
}

func errTuneOkAfterOpen(t T, env *Env) {
	c := rDial(t, env)
	rMust(t, c.SendMethod(0, &amqp.ConnectionTuneOk{ChannelMax: c.ChannelMax, FrameMax: c.FrameMax}), "send tune-ok")
	rExpectConnClose(t, c, amqp.ChannelError, "CHANNEL_ERROR - unexpected method in connection state running", 10, 31,
		"connection.tune-ok after open")
	rBrokerOK(t, env)
}

// --- channels -----------------------------------------------------------

func errChannelNotOpen(t T, env *Env) {
	c := rDial(t, env)
	rMust(t, c.SendMethod(3, &amqp.QueueDeclare{Exclusive: true}), "send queue.declare on channel 3")
	rExpectConnClose(t, c, amqp.ChannelError, "CHANNEL_ERROR - expected 'channel.open'", 50, 10,
		"queue.declare on a channel never opened")
	rBrokerOK(t, env)
}

func errSecondChannelOpen(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.ChannelOpen{}), "send channel.open again")
	rExpectConnClose(t, c, amqp.ChannelError, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10,
		"second channel.open on channel 1")
	rBrokerOK(t, env)
}

// errChannelAboveMax: RabbitMQ limits the number of open channels to
// channel_max (530 "number of channels opened (N) has reached the
// negotiated channel_max (N)", see connection/channel-max-exceeded-530),
// not the channel number: channel_max+1 and 65535 open and work.
func errChannelAboveMax(t T, env *Env) {
	c := rDial(t, env)
	if c.ChannelMax == 0 || c.ChannelMax == 65535 {
		t.Logf("channel_max %d leaves no channel number above it", c.ChannelMax)
		return
	}
	for _, ch := range []uint16{c.ChannelMax + 1, 65535} {
		rMust(t, c.OpenChannel(ch), fmt.Sprintf("channel.open %d (channel_max %d)", ch, c.ChannelMax))
		rMust(t, c.SendMethod(ch, &amqp.QueueDeclare{Exclusive: true}), "queue.declare")
		_, err := rawconn.Expect[*amqp.QueueDeclareOk](c, ch)
		rMust(t, err, fmt.Sprintf("queue.declare on channel %d", ch))
	}
	rMust(t, c.CloseConnection(), "connection.close")
}

// errClosingChannelIgnores: spec 2.3.5.2 (and RabbitMQ): after sending
// channel.close the server ignores the channel's frames until close-ok,
// so the queue.declare sent in that window gets no answer and the channel
// can be opened again.
func errClosingChannelIgnores(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Queue: Name("missing"), Passive: true}), "passive queue.declare")
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Exclusive: true}), "queue.declare while closing")
	cl, err := c.ExpectChannelClose(1, amqp.NotFound)
	if err != nil {
		t.Fatalf("passive declare of a missing queue: %v", err)
	}
	if !rText(cl.ReplyText, "NOT_FOUND - no queue '*") {
		t.Errorf("reply text %q", cl.ReplyText)
	}
	// ExpectChannelClose sent close-ok; the next frame must answer this
	// channel.open, not the queue.declare.
	rMust(t, c.OpenChannel(1), "channel.open after close-ok")
	rQueue(t, c)
	rMust(t, c.CloseConnection(), "connection.close")
}

// --- content ------------------------------------------------------------

const rExpectedMethod = "UNEXPECTED_FRAME - expected method frame, got non method frame instead"

func errBodyWithoutPublish(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.Send(amqp.Frame{Type: amqp.FrameBody, Channel: 1, Payload: []byte("hello")}), "send body")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, rExpectedMethod, 0, 0, "body frame without basic.publish")
	rBrokerOK(t, env)
}

func errHeaderWithoutPublish(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendRaw(amqp.AppendHeaderFrame(nil, 1, amqp.ClassBasic, 5, []byte{0, 0})), "send header")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, rExpectedMethod, 0, 0, "content header without basic.publish")
	rBrokerOK(t, env)
}

// errHeaderOtherChannel: content assembly is per channel; a header on
// channel 2 does not complete channel 1's publish.
func errHeaderOtherChannel(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.OpenChannel(2), "channel.open 2")
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish on 1")
	rMust(t, c.SendRaw(amqp.AppendHeaderFrame(nil, 2, amqp.ClassBasic, 1, []byte{0, 0})), "header on 2")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, rExpectedMethod, 0, 0, "content header on another channel")
	rBrokerOK(t, env)
}

func errMethodAwaitingHeader(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish")
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Exclusive: true}), "queue.declare")
	rExpectConnClose(t, c, amqp.UnexpectedFrame,
		"UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead", 60, 40,
		"method frame instead of the content header")
	rBrokerOK(t, env)
}

func errMethodAwaitingBody(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish")
	rMust(t, c.SendRaw(amqp.AppendHeaderFrame(nil, 1, amqp.ClassBasic, 5, []byte{0, 0})), "header")
	rMust(t, c.SendMethod(1, &amqp.QueueDeclare{Exclusive: true}), "queue.declare")
	rExpectConnClose(t, c, amqp.UnexpectedFrame,
		"UNEXPECTED_FRAME - expected content body, got non content body frame instead", 60, 40,
		"method frame instead of the content body")
	rBrokerOK(t, env)
}

func errHeaderWrongClass(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish")
	rMust(t, c.SendRaw(amqp.AppendHeaderFrame(nil, 1, amqp.ClassQueue, 5, []byte{0, 0})), "header of class 50")
	rExpectConnClose(t, c, amqp.UnexpectedFrame,
		"UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead", 60, 40,
		"content header of class 50")
	rBrokerOK(t, env)
}

// errBodyAfterEmpty: a content header with body size 0 completes the
// message; a body frame after it is unexpected.
func errBodyAfterEmpty(t T, env *Env) {
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: Name("nowhere")}), "basic.publish")
	b := amqp.AppendHeaderFrame(nil, 1, amqp.ClassBasic, 0, []byte{0, 0})
	b = rawconn.AppendFrame(b, amqp.FrameBody, 1, []byte("x"))
	rMust(t, c.SendRaw(b), "header and body")
	rExpectConnClose(t, c, amqp.UnexpectedFrame, rExpectedMethod, 0, 0, "body frame after an empty content")
	rBrokerOK(t, env)
}

// errBodyTooLarge: body frames carrying more than the header declared.
// RabbitMQ never completes such a message (its remaining size goes
// negative) and closes with "UNEXPECTED_FRAME - expected content body, got
// non content body frame instead" (class 60, method 40) at the next
// method. A broker that refuses the oversize body frame itself is as good,
// so only the code and the text's prefix are checked; the message must not
// be enqueued either way.
func errBodyTooLarge(t T, env *Env) {
	q := bQueue(t, env, "errors.body-too-large")
	c := rDialChannel(t, env)
	rMust(t, c.SendMethod(1, &amqp.BasicPublish{RoutingKey: q}), "basic.publish")
	b := amqp.AppendHeaderFrame(nil, 1, amqp.ClassBasic, 3, []byte{0, 0})
	b = rawconn.AppendFrame(b, amqp.FrameBody, 1, []byte("hello"))
	rMust(t, c.SendRaw(b), "header and body")
	_ = c.SendMethod(1, &amqp.QueueDeclare{Queue: q, Passive: true}) // may find the socket closed
	rExpectConnClose(t, c, amqp.UnexpectedFrame, "UNEXPECTED_FRAME - *", rAny, rAny, "5-octet body for a 3-octet content")
	bExpectReady(t, env, q, 0, "after the oversize body")
	rBrokerOK(t, env)
}
