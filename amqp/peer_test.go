package amqp_test

// A differential test against code we did not write: an amqp091-go client
// talks over net.Pipe to a scripted server built on this package, in the
// style of amqp091-go's own client_test.go. The peer decodes every frame the
// client sends, checks that re-encoding gives the client's exact bytes, and
// answers with frames built by our encoders, which the client must accept
// and decode to the values we sent.

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/amqp"
)

const (
	peerChannelMax = 2047
	peerFrameMax   = 131072 // offered by the peer; the client asks for less
	clientFrameMax = 8192   // so 20000-byte bodies span three frames
)

// received is one method the client sent, with its content if any.
type received struct {
	ch    uint16
	m     amqp.Method
	props amqp.Properties
	body  []byte
}

type peer struct {
	t    *testing.T
	conn net.Conn
	fr   *amqp.FrameReader

	wmu      sync.Mutex
	frameMax uint32 // negotiated; written before any content is sent

	got        chan received
	getReplies chan []byte // frames answering the next basic.get; none: get-empty
	done       chan struct{}

	// Publisher confirms, per channel: the last tag and the first one not
	// yet confirmed. Only the peer goroutine touches these.
	confirming map[uint16]bool
	published  map[uint16]uint64
	unconfirm  map[uint16]uint64
}

// serverProperties holds all 17 field types, which the client must decode,
// and the capabilities it looks for.
func serverProperties() amqp.Table {
	return amqp.Table{
		{Key: "product", Value: "warren-peer-test"},
		{Key: "capabilities", Value: amqp.Table{
			{Key: "publisher_confirms", Value: true},
			{Key: "exchange_exchange_bindings", Value: true},
			{Key: "basic.nack", Value: true},
			{Key: "consumer_cancel_notify", Value: true},
			{Key: "connection.blocked", Value: true},
			{Key: "accept_consumer_cancel_ok", Value: true},
			{Key: "per_consumer_qos", Value: false},
		}},
		{Key: "every-type", Value: everyTypeTable()},
	}
}

// everyTypeTable has all 17 field types with edge values.
func everyTypeTable() amqp.Table {
	return amqp.Table{
		{Key: "t", Value: true},
		{Key: "b", Value: int8(math.MinInt8)},
		{Key: "B", Value: uint8(math.MaxUint8)},
		{Key: "s", Value: int16(math.MinInt16)},
		{Key: "u", Value: uint16(math.MaxUint16)},
		{Key: "I", Value: int32(math.MinInt32)},
		{Key: "i", Value: uint32(math.MaxUint32)},
		{Key: "l", Value: int64(math.MinInt64)},
		{Key: "f", Value: math.Float32frombits(0x7fc0beef)}, // a NaN with a payload
		{Key: "d", Value: math.Inf(-1)},
		{Key: "D", Value: amqp.Decimal{Scale: 4, Value: -1}},
		{Key: "S", Value: "λ\x00"},
		{Key: "x", Value: []byte{0xce, 0, 1}},
		{Key: "A", Value: []any{amqp.Table{{Key: "in-array", Value: int64(1)}}, []any{}, nil}},
		{Key: "T", Value: time.Unix(-1, 0)},
		{Key: "F", Value: amqp.Table{{Key: "empty", Value: amqp.Table{}}}},
		{Key: "V", Value: nil},
	}
}

// clientTable has every Go type amqp091-go can send in a table.
func clientTable() amqp091.Table {
	return amqp091.Table{
		"bool":    false,
		"byte":    byte(0xff),
		"int8":    int8(-1),
		"int16":   int16(math.MaxInt16),
		"int":     -7, // amqp091-go sends int as 'I'
		"int32":   int32(math.MaxInt32),
		"int64":   int64(math.MaxInt64),
		"uint16":  uint16(0xfffe),
		"uint32":  uint32(0xfffffffe),
		"float32": float32(math.Inf(1)),
		"float64": math.Float64frombits(0x7ff8_0000_0000_0bad), // NaN, bit for bit
		"decimal": amqp091.Decimal{Scale: 255, Value: math.MinInt32},
		"string":  "",
		"bytes":   []byte{},
		"array":   []any{int64(1), "two", amqp091.Table{"three": 3.0}, []any{}},
		"time":    time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC),
		"table":   amqp091.Table{"nested": amqp091.Table{"deeper": true}},
		"void":    nil,
	}
}

// Canonical forms for comparing our values with amqp091-go's: maps for
// tables (their key order is random on the client side), bits for floats
// (so a NaN equals itself), seconds for times, strings for byte slices.
type (
	f32bits  uint32
	f64bits  uint64
	unixTime int64
	byteStr  string
)

func canon(v any) any {
	switch v := v.(type) {
	case amqp.Table:
		m := map[string]any{}
		for _, f := range v {
			m[f.Key] = canon(f.Value)
		}
		return m
	case amqp091.Table:
		m := map[string]any{}
		for k, e := range v {
			m[k] = canon(e)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canon(e)
		}
		return out
	case amqp091.Decimal:
		return amqp.Decimal{Scale: v.Scale, Value: v.Value}
	case int:
		return int32(v)
	case float32:
		return f32bits(math.Float32bits(v))
	case float64:
		return f64bits(math.Float64bits(v))
	case time.Time:
		return unixTime(v.Unix())
	case []byte:
		return byteStr(v)
	}
	return v
}

func sameTable(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := canon(got), canon(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, g, w)
	}
}

// startPeer serves one connection on the server end of a net.Pipe and
// returns the client end.
func startPeer(t *testing.T) (*peer, net.Conn) {
	server, client := net.Pipe()
	deadline := time.Now().Add(20 * time.Second)
	_ = server.SetDeadline(deadline)
	_ = client.SetDeadline(deadline)
	p := &peer{
		t:          t,
		conn:       server,
		fr:         amqp.NewFrameReader(server),
		got:        make(chan received, 256),
		getReplies: make(chan []byte, 4),
		done:       make(chan struct{}),
		confirming: map[uint16]bool{},
		published:  map[uint16]uint64{},
		unconfirm:  map[uint16]uint64{},
	}
	go p.serve()
	t.Cleanup(func() {
		_ = client.Close()
		_ = server.Close()
		<-p.done
	})
	return p, client
}

func (p *peer) send(b []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Errorf("peer write: %v", err)
	}
}

func (p *peer) sendMethod(ch uint16, m amqp.Method) { p.send(amqp.AppendMethodFrame(nil, ch, m)) }

// content builds a content method with its header and body frames, cut
// to the negotiated frame_max.
func (p *peer) content(ch uint16, m amqp.Method, props *amqp.Properties, body []byte) []byte {
	p.wmu.Lock()
	frameMax := p.frameMax
	p.wmu.Unlock()
	b := amqp.AppendMethodFrame(nil, ch, m)
	b = amqp.AppendHeaderFrame(b, ch, amqp.ClassBasic, uint64(len(body)), amqp.AppendProperties(nil, props))
	return amqp.AppendBodyFrames(b, ch, body, frameMax)
}

// expect returns the next method the client sent and checks it against
// want: all fields equal, tables compared as maps.
func (p *peer) expect(t *testing.T, ch uint16, want amqp.Method) received {
	t.Helper()
	var r received
	select {
	case r = <-p.got:
	case <-p.done:
		// The peer records a method before it stops, so look once more.
		select {
		case r = <-p.got:
		default:
			t.Fatalf("peer stopped while waiting for %s", want.Name())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", want.Name())
	}
	if r.ch != ch || reflect.TypeOf(r.m) != reflect.TypeOf(want) {
		t.Fatalf("client sent %s on channel %d, want %s on channel %d", r.m.Name(), r.ch, want.Name(), ch)
	}
	gv, wv := reflect.ValueOf(r.m).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := want.Name() + "." + gv.Type().Field(i).Name
		if tb, ok := gv.Field(i).Interface().(amqp.Table); ok {
			sameTable(t, name, tb, wv.Field(i).Interface())
		} else if !sameValue(gv.Field(i), wv.Field(i)) {
			t.Errorf("%s = %#v, want %#v", name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	return r
}

// serve reads frames until the connection closes, records what the client
// sent and answers it.
func (p *peer) serve() {
	defer close(p.done)
	defer p.conn.Close()
	if err := amqp.ReadProtocolHeader(p.conn); err != nil {
		p.t.Errorf("protocol header: %v", err)
		return
	}
	p.sendMethod(0, &amqp.ConnectionStart{
		VersionMajor: 0, VersionMinor: 9,
		ServerProperties: serverProperties(),
		Mechanisms:       "PLAIN AMQPLAIN",
		Locales:          "en_US",
	})
	var pending *received // content method waiting for its header and body
	var bodySize uint64
	for {
		f, err := p.fr.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				p.t.Errorf("peer ReadFrame: %v", err)
			}
			return
		}
		switch f.Type {
		case amqp.FrameHeartbeat:
			continue
		case amqp.FrameMethod:
			if pending != nil {
				p.t.Errorf("method frame inside content")
				return
			}
			m, err := amqp.DecodeMethod(f.Payload)
			if err != nil {
				p.t.Errorf("decoding the client's method % x: %v", f.Payload, err)
				return
			}
			// Our encoder must produce exactly the client's bytes.
			if re := methodPayload(m); !bytes.Equal(re, f.Payload) {
				p.t.Errorf("%s re-encoded\n% x\nclient sent\n% x", m.Name(), re, f.Payload)
			}
			r := received{ch: f.Channel, m: m}
			if m.HasContent() {
				pending = &r
				continue
			}
			if !p.handle(r) {
				return
			}
		case amqp.FrameHeader:
			h, err := amqp.DecodeContentHeader(f.Payload)
			if err != nil || pending == nil || h.ClassID != amqp.ClassBasic {
				p.t.Errorf("content header %+v, %v (pending %v)", h, err, pending)
				return
			}
			if _, err := amqp.DecodeProperties(h.Props, &pending.props); err != nil {
				p.t.Errorf("DecodeProperties: %v", err)
				return
			}
			if re := amqp.AppendProperties(nil, &pending.props); !bytes.Equal(re, h.Props) {
				p.t.Errorf("properties re-encoded\n% x\nclient sent\n% x", re, h.Props)
			}
			bodySize = h.BodySize
			pending.body = make([]byte, 0, bodySize)
		case amqp.FrameBody:
			if pending == nil || uint64(len(pending.body)+len(f.Payload)) > bodySize {
				p.t.Errorf("unexpected body frame")
				return
			}
			pending.body = append(pending.body, f.Payload...)
		}
		if pending != nil && pending.body != nil && uint64(len(pending.body)) == bodySize {
			r := *pending
			pending = nil
			if !p.handle(r) {
				return
			}
		}
	}
}

// handle records r and answers it as a broker would. It returns false
// when the connection is done.
func (p *peer) handle(r received) bool {
	p.got <- r
	ch := r.ch
	if noWait(r.m) && r.m.ID() != amqp.MethodConfirmSelect {
		return true
	}
	switch m := r.m.(type) {
	case *amqp.ConnectionStartOk:
		p.sendMethod(0, &amqp.ConnectionTune{ChannelMax: peerChannelMax, FrameMax: peerFrameMax, Heartbeat: 0})
	case *amqp.ConnectionTuneOk:
		p.fr.SetFrameMax(m.FrameMax)
		p.wmu.Lock()
		p.frameMax = m.FrameMax
		p.wmu.Unlock()
	case *amqp.ConnectionOpen:
		p.sendMethod(0, &amqp.ConnectionOpenOk{})
	case *amqp.ConnectionUpdateSecret:
		p.sendMethod(0, &amqp.ConnectionUpdateSecretOk{})
	case *amqp.ConnectionClose:
		p.sendMethod(0, &amqp.ConnectionCloseOk{})
		return false
	case *amqp.ConnectionCloseOk:
		return false
	case *amqp.ChannelOpen:
		p.sendMethod(ch, &amqp.ChannelOpenOk{})
	case *amqp.ChannelFlow:
		p.sendMethod(ch, &amqp.ChannelFlowOk{Active: m.Active})
	case *amqp.ChannelClose:
		p.sendMethod(ch, &amqp.ChannelCloseOk{})
	case *amqp.ExchangeDeclare:
		p.sendMethod(ch, &amqp.ExchangeDeclareOk{})
	case *amqp.ExchangeDelete:
		p.sendMethod(ch, &amqp.ExchangeDeleteOk{})
	case *amqp.ExchangeBind:
		p.sendMethod(ch, &amqp.ExchangeBindOk{})
	case *amqp.ExchangeUnbind:
		p.sendMethod(ch, &amqp.ExchangeUnbindOk{})
	case *amqp.QueueDeclare:
		p.sendMethod(ch, &amqp.QueueDeclareOk{Queue: m.Queue, MessageCount: 7, ConsumerCount: 3})
	case *amqp.QueueBind:
		p.sendMethod(ch, &amqp.QueueBindOk{})
	case *amqp.QueueUnbind:
		p.sendMethod(ch, &amqp.QueueUnbindOk{})
	case *amqp.QueuePurge:
		p.sendMethod(ch, &amqp.QueuePurgeOk{MessageCount: 11})
	case *amqp.QueueDelete:
		p.sendMethod(ch, &amqp.QueueDeleteOk{MessageCount: 13})
	case *amqp.BasicQos:
		p.sendMethod(ch, &amqp.BasicQosOk{})
	case *amqp.BasicConsume:
		p.sendMethod(ch, &amqp.BasicConsumeOk{ConsumerTag: m.ConsumerTag})
	case *amqp.BasicCancel:
		p.sendMethod(ch, &amqp.BasicCancelOk{ConsumerTag: m.ConsumerTag})
	case *amqp.BasicGet:
		select {
		case b := <-p.getReplies:
			p.send(b)
		default:
			p.sendMethod(ch, &amqp.BasicGetEmpty{})
		}
	case *amqp.BasicRecover:
		p.sendMethod(ch, &amqp.BasicRecoverOk{})
	case *amqp.ConfirmSelect:
		p.confirming[ch] = true
		p.unconfirm[ch] = 1
		if !m.Nowait {
			p.sendMethod(ch, &amqp.ConfirmSelectOk{})
		}
	case *amqp.TxSelect:
		p.sendMethod(ch, &amqp.TxSelectOk{})
	case *amqp.TxCommit:
		p.sendMethod(ch, &amqp.TxCommitOk{})
	case *amqp.TxRollback:
		p.sendMethod(ch, &amqp.TxRollbackOk{})
	case *amqp.BasicPublish:
		if !p.confirming[ch] {
			break
		}
		p.published[ch]++
		tag := p.published[ch]
		// The "confirm" header scripts the answer: nack it, hold it for a
		// later multiple ack, or (default) ack everything up to it.
		v, _ := r.props.Headers.Get("confirm")
		switch v {
		case "hold":
		case "nack":
			p.sendMethod(ch, &amqp.BasicNack{DeliveryTag: tag})
			p.unconfirm[ch] = tag + 1
		default:
			p.sendMethod(ch, &amqp.BasicAck{DeliveryTag: tag, Multiple: p.unconfirm[ch] < tag})
			p.unconfirm[ch] = tag + 1
		}
	}
	return true
}

// noWait reports whether m asks for no reply.
func noWait(m amqp.Method) bool {
	f := reflect.ValueOf(m).Elem().FieldByName("NoWait")
	return f.IsValid() && f.Bool()
}

// within receives from c, failing the test after a while instead of hanging.
func within[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for a %T", *new(T))
	}
	panic("unreachable")
}

// handshake opens an amqp091-go connection to a new peer and checks every
// handshake method both ways.
func handshake(t *testing.T) (*peer, *amqp091.Connection) {
	p, client := startPeer(t)
	props := clientTable()
	cfg := amqp091.Config{
		SASL:       []amqp091.Authentication{&amqp091.PlainAuth{Username: "guest", Password: "s3cret"}},
		Vhost:      "/warren",
		FrameSize:  clientFrameMax,
		Locale:     "en_US",
		Properties: props,
	}
	conn, err := amqp091.Open(client, cfg)
	if err != nil {
		t.Fatalf("amqp091.Open: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	wantClientProps := clientTable()
	wantClientProps["capabilities"] = amqp091.Table{
		"connection.blocked": true, "consumer_cancel_notify": true,
		"basic.nack": true, "publisher_confirms": true,
	}
	p.expect(t, 0, &amqp.ConnectionStartOk{
		ClientProperties: toTable(wantClientProps),
		Mechanism:        "PLAIN",
		Response:         "\x00guest\x00s3cret",
		Locale:           "en_US",
	})
	p.expect(t, 0, &amqp.ConnectionTuneOk{ChannelMax: peerChannelMax, FrameMax: clientFrameMax, Heartbeat: 0})
	p.expect(t, 0, &amqp.ConnectionOpen{VirtualHost: "/warren"})
	return p, conn
}

func TestPeerAMQP091Session(t *testing.T) {
	p, conn := handshake(t)

	// connection.start as the client decoded it.
	sameTable(t, "server properties", conn.Properties, serverProperties())
	if conn.Major != 0 || conn.Minor != 9 || len(conn.Locales) != 1 || conn.Locales[0] != "en_US" {
		t.Errorf("client saw version %d.%d, locales %q", conn.Major, conn.Minor, conn.Locales)
	}

	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	p.expect(t, 1, &amqp.ChannelOpen{})

	t.Run("exchange", func(t *testing.T) {
		args := amqp091.Table{"alternate-exchange": "ae", "x-everything": clientTable()}
		must(t, ch.ExchangeDeclare("ex", "topic", true, false, true, false, args))
		p.expect(t, 1, &amqp.ExchangeDeclare{Exchange: "ex", Type: "topic", Durable: true, Internal: true, Arguments: toTable(args)})
		must(t, ch.ExchangeDeclarePassive("ex", "topic", false, true, false, false, nil))
		p.expect(t, 1, &amqp.ExchangeDeclare{Exchange: "ex", Type: "topic", Passive: true, AutoDelete: true, Arguments: amqp.Table{}})
		must(t, ch.ExchangeDeclare("ex2", "headers", false, false, false, true, nil))
		p.expect(t, 1, &amqp.ExchangeDeclare{Exchange: "ex2", Type: "headers", NoWait: true, Arguments: amqp.Table{}})
		bargs := amqp091.Table{"x-match": "all", "k": int64(1)}
		must(t, ch.ExchangeBind("dest", "a.#", "src", false, bargs))
		p.expect(t, 1, &amqp.ExchangeBind{Destination: "dest", Source: "src", RoutingKey: "a.#", Arguments: toTable(bargs)})
		must(t, ch.ExchangeUnbind("dest", "a.#", "src", false, bargs))
		p.expect(t, 1, &amqp.ExchangeUnbind{Destination: "dest", Source: "src", RoutingKey: "a.#", Arguments: toTable(bargs)})
		must(t, ch.ExchangeDelete("ex", true, false))
		p.expect(t, 1, &amqp.ExchangeDelete{Exchange: "ex", IfUnused: true})
	})

	t.Run("queue", func(t *testing.T) {
		args := amqp091.Table{"x-max-length": int32(10), "x-message-ttl": int64(60000), "x-queue-type": "classic"}
		q, err := ch.QueueDeclare("q1", true, false, true, false, args)
		must(t, err)
		p.expect(t, 1, &amqp.QueueDeclare{Queue: "q1", Durable: true, Exclusive: true, Arguments: toTable(args)})
		if q.Name != "q1" || q.Messages != 7 || q.Consumers != 3 {
			t.Errorf("queue.declare-ok decoded as %+v", q)
		}
		_, err = ch.QueueDeclarePassive("q1", false, true, false, false, nil)
		must(t, err)
		p.expect(t, 1, &amqp.QueueDeclare{Queue: "q1", Passive: true, AutoDelete: true, Arguments: amqp.Table{}})
		must(t, ch.QueueBind("q1", "rk", "ex", false, args))
		p.expect(t, 1, &amqp.QueueBind{Queue: "q1", Exchange: "ex", RoutingKey: "rk", Arguments: toTable(args)})
		must(t, ch.QueueUnbind("q1", "rk", "ex", nil))
		p.expect(t, 1, &amqp.QueueUnbind{Queue: "q1", Exchange: "ex", RoutingKey: "rk", Arguments: amqp.Table{}})
		n, err := ch.QueuePurge("q1", false)
		must(t, err)
		p.expect(t, 1, &amqp.QueuePurge{Queue: "q1"})
		if n != 11 {
			t.Errorf("queue.purge-ok count %d, want 11", n)
		}
		n, err = ch.QueueDelete("q1", true, true, false)
		must(t, err)
		p.expect(t, 1, &amqp.QueueDelete{Queue: "q1", IfUnused: true, IfEmpty: true})
		if n != 13 {
			t.Errorf("queue.delete-ok count %d, want 13", n)
		}
	})

	t.Run("publish", func(t *testing.T) {
		pub := fullPublishing(bytes.Repeat([]byte("publish!"), 2500)) // 20000 bytes, 3 frames
		must(t, ch.Publish("ex", "rk", true, false, pub))
		r := p.expect(t, 1, &amqp.BasicPublish{Exchange: "ex", RoutingKey: "rk", Mandatory: true})
		checkPublishing(t, r, pub)

		// No properties, empty body: a header frame and no body frame.
		must(t, ch.Publish("", "q", false, true, amqp091.Publishing{}))
		r = p.expect(t, 1, &amqp.BasicPublish{RoutingKey: "q", Immediate: true})
		if r.props.Flags != 0 || len(r.body) != 0 {
			t.Errorf("empty publish: flags %#x, %d body bytes", r.props.Flags, len(r.body))
		}
	})

	t.Run("return", func(t *testing.T) {
		returns := ch.NotifyReturn(make(chan amqp091.Return, 1))
		props, body := fullProperties(), []byte("returned")
		p.send(p.content(1, &amqp.BasicReturn{ReplyCode: amqp.NoRoute, ReplyText: "NO_ROUTE", Exchange: "ex", RoutingKey: "rk"}, &props, body))
		ret := within(t, returns)
		if ret.ReplyCode != amqp.NoRoute || ret.ReplyText != "NO_ROUTE" || ret.Exchange != "ex" || ret.RoutingKey != "rk" || !bytes.Equal(ret.Body, body) {
			t.Errorf("basic.return decoded as %+v", ret)
		}
		checkClientProperties(t, "basic.return", props, amqp091.Delivery{
			Headers: ret.Headers, ContentType: ret.ContentType, ContentEncoding: ret.ContentEncoding,
			DeliveryMode: ret.DeliveryMode, Priority: ret.Priority, CorrelationId: ret.CorrelationId,
			ReplyTo: ret.ReplyTo, Expiration: ret.Expiration, MessageId: ret.MessageId,
			Timestamp: ret.Timestamp, Type: ret.Type, UserId: ret.UserId, AppId: ret.AppId,
		})
	})

	t.Run("consume", func(t *testing.T) {
		must(t, ch.Qos(10, 65536, true))
		p.expect(t, 1, &amqp.BasicQos{PrefetchCount: 10, PrefetchSize: 65536, Global: true})

		args := amqp091.Table{"x-priority": int32(5)}
		deliveries, err := ch.Consume("q1", "ctag", false, true, false, false, args)
		must(t, err)
		p.expect(t, 1, &amqp.BasicConsume{Queue: "q1", ConsumerTag: "ctag", Exclusive: true, Arguments: toTable(args)})

		props := fullProperties()
		body := bytes.Repeat([]byte("deliver!"), 2500)
		p.send(p.content(1, &amqp.BasicDeliver{ConsumerTag: "ctag", DeliveryTag: 1, Redelivered: true, Exchange: "ex", RoutingKey: "rk"}, &props, body))
		p.send(amqp.AppendHeartbeat(nil)) // the client skips heartbeats
		p.send(p.content(1, &amqp.BasicDeliver{ConsumerTag: "ctag", DeliveryTag: math.MaxUint64, RoutingKey: "empty"}, &amqp.Properties{}, nil))

		d := within(t, deliveries)
		if d.ConsumerTag != "ctag" || d.DeliveryTag != 1 || !d.Redelivered || d.Exchange != "ex" || d.RoutingKey != "rk" || !bytes.Equal(d.Body, body) {
			t.Errorf("basic.deliver decoded as tag %q/%d redelivered %v %q %q, %d bytes", d.ConsumerTag, d.DeliveryTag, d.Redelivered, d.Exchange, d.RoutingKey, len(d.Body))
		}
		checkClientProperties(t, "basic.deliver", props, d)
		must(t, d.Ack(false))
		p.expect(t, 1, &amqp.BasicAck{DeliveryTag: 1})

		d = within(t, deliveries)
		if d.DeliveryTag != math.MaxUint64 || d.RoutingKey != "empty" || len(d.Body) != 0 || d.Headers != nil || !d.Timestamp.IsZero() {
			t.Errorf("empty delivery decoded as %+v", d)
		}
		must(t, d.Nack(false, true))
		p.expect(t, 1, &amqp.BasicNack{DeliveryTag: math.MaxUint64, Requeue: true})
		must(t, ch.Ack(2, true))
		p.expect(t, 1, &amqp.BasicAck{DeliveryTag: 2, Multiple: true})
		must(t, ch.Nack(5, true, false))
		p.expect(t, 1, &amqp.BasicNack{DeliveryTag: 5, Multiple: true})
		must(t, ch.Reject(6, true))
		p.expect(t, 1, &amqp.BasicReject{DeliveryTag: 6, Requeue: true})
		must(t, ch.Reject(7, false))
		p.expect(t, 1, &amqp.BasicReject{DeliveryTag: 7})

		must(t, ch.Cancel("ctag", false))
		p.expect(t, 1, &amqp.BasicCancel{ConsumerTag: "ctag"})
		select {
		case _, open := <-deliveries:
			if open {
				t.Error("a delivery after basic.cancel-ok")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("deliveries still open after basic.cancel-ok")
		}

		// A cancel from the server: the client notifies and, since we
		// advertised accept_consumer_cancel_ok, answers cancel-ok.
		cancels := ch.NotifyCancel(make(chan string, 1))
		_, err = ch.Consume("q1", "ctag2", true, false, true, true, nil)
		must(t, err)
		p.expect(t, 1, &amqp.BasicConsume{Queue: "q1", ConsumerTag: "ctag2", NoAck: true, NoLocal: true, NoWait: true, Arguments: amqp.Table{}})
		p.sendMethod(1, &amqp.BasicCancel{ConsumerTag: "ctag2", NoWait: true})
		if tag := within(t, cancels); tag != "ctag2" {
			t.Errorf("NotifyCancel got %q", tag)
		}
		p.expect(t, 1, &amqp.BasicCancelOk{ConsumerTag: "ctag2"})
	})

	t.Run("get", func(t *testing.T) {
		props := fullProperties()
		body := []byte("got it")
		p.getReplies <- p.content(1, &amqp.BasicGetOk{DeliveryTag: 99, Redelivered: true, Exchange: "ex", RoutingKey: "rk", MessageCount: 5}, &props, body)
		msg, ok, err := ch.Get("q1", true)
		must(t, err)
		p.expect(t, 1, &amqp.BasicGet{Queue: "q1", NoAck: true})
		if !ok || msg.DeliveryTag != 99 || !msg.Redelivered || msg.Exchange != "ex" || msg.RoutingKey != "rk" || msg.MessageCount != 5 || !bytes.Equal(msg.Body, body) {
			t.Errorf("basic.get-ok decoded as ok=%v %+v", ok, msg)
		}
		checkClientProperties(t, "basic.get-ok", props, msg)

		_, ok, err = ch.Get("q2", false)
		must(t, err)
		p.expect(t, 1, &amqp.BasicGet{Queue: "q2"})
		if ok {
			t.Error("basic.get-empty decoded as a message")
		}
	})

	t.Run("recover-flow", func(t *testing.T) {
		//lint:ignore SA1019 basic.recover is deprecated in RabbitMQ but still part of 0-9-1, and we decode it.
		must(t, ch.Recover(true))
		p.expect(t, 1, &amqp.BasicRecover{Requeue: true})
		must(t, ch.Flow(false))
		p.expect(t, 1, &amqp.ChannelFlow{Active: false})
		must(t, ch.Flow(true))
		p.expect(t, 1, &amqp.ChannelFlow{Active: true})

		flows := ch.NotifyFlow(make(chan bool, 1))
		p.sendMethod(1, &amqp.ChannelFlow{Active: false})
		if active := within(t, flows); active {
			t.Error("NotifyFlow got active")
		}
		p.expect(t, 1, &amqp.ChannelFlowOk{Active: false})
	})

	t.Run("confirm", func(t *testing.T) {
		ch2, err := conn.Channel()
		must(t, err)
		p.expect(t, 2, &amqp.ChannelOpen{})
		must(t, ch2.Confirm(false))
		p.expect(t, 2, &amqp.ConfirmSelect{})
		confirms := ch2.NotifyPublish(make(chan amqp091.Confirmation, 4))
		for i, how := range []string{"ack", "nack", "hold", "ack"} {
			must(t, ch2.Publish("", "q", false, false, amqp091.Publishing{Headers: amqp091.Table{"confirm": how}, Body: []byte{byte(i)}}))
			p.expect(t, 2, &amqp.BasicPublish{RoutingKey: "q"})
		}
		// Tags 1 ack, 2 nack, then one multiple ack for 3 and 4.
		for _, want := range []amqp091.Confirmation{{DeliveryTag: 1, Ack: true}, {DeliveryTag: 2}, {DeliveryTag: 3, Ack: true}, {DeliveryTag: 4, Ack: true}} {
			if got := within(t, confirms); got != want {
				t.Errorf("confirmation %+v, want %+v", got, want)
			}
		}
		must(t, ch2.Close())
		p.expect(t, 2, &amqp.ChannelClose{ReplyCode: amqp.ReplySuccess})
	})

	t.Run("tx", func(t *testing.T) {
		ch3, err := conn.Channel()
		must(t, err)
		p.expect(t, 3, &amqp.ChannelOpen{})
		must(t, ch3.Tx())
		p.expect(t, 3, &amqp.TxSelect{})
		must(t, ch3.TxCommit())
		p.expect(t, 3, &amqp.TxCommit{})
		must(t, ch3.TxRollback())
		p.expect(t, 3, &amqp.TxRollback{})

		// A channel error from the server: the client answers close-ok.
		closes := ch3.NotifyClose(make(chan *amqp091.Error, 1))
		p.sendMethod(3, &amqp.ChannelClose{ReplyCode: amqp.NotFound, ReplyText: "NOT_FOUND - no queue 'nope'", ClassID: amqp.ClassQueue, MethodID: 10})
		p.expect(t, 3, &amqp.ChannelCloseOk{})
		if e := within(t, closes); e == nil || e.Code != int(amqp.NotFound) || e.Reason != "NOT_FOUND - no queue 'nope'" || !e.Server {
			t.Errorf("channel.close decoded as %+v", e)
		}
	})

	t.Run("connection", func(t *testing.T) {
		blocks := conn.NotifyBlocked(make(chan amqp091.Blocking, 2))
		p.sendMethod(0, &amqp.ConnectionBlocked{Reason: "low on memory"})
		p.sendMethod(0, &amqp.ConnectionUnblocked{})
		if b := within(t, blocks); !b.Active || b.Reason != "low on memory" {
			t.Errorf("connection.blocked decoded as %+v", b)
		}
		if b := within(t, blocks); b.Active {
			t.Errorf("connection.unblocked decoded as %+v", b)
		}
		must(t, conn.UpdateSecret("new-secret", "rotation"))
		p.expect(t, 0, &amqp.ConnectionUpdateSecret{NewSecret: "new-secret", Reason: "rotation"})
	})

	must(t, ch.Close())
	p.expect(t, 1, &amqp.ChannelClose{ReplyCode: amqp.ReplySuccess})
	must(t, conn.Close())
	p.expect(t, 0, &amqp.ConnectionClose{ReplyCode: amqp.ReplySuccess, ReplyText: "kthxbai"})
	<-p.done
}

// TestPeerServerClose: a connection.close from the server reaches the
// client with its code and text, and the client's close-ok decodes.
func TestPeerServerClose(t *testing.T) {
	p, conn := handshake(t)
	closes := conn.NotifyClose(make(chan *amqp091.Error, 1))
	p.sendMethod(0, &amqp.ConnectionClose{ReplyCode: amqp.ConnectionForced, ReplyText: "CONNECTION_FORCED - broker shutdown"})
	p.expect(t, 0, &amqp.ConnectionCloseOk{})
	if e := within(t, closes); e == nil || e.Code != int(amqp.ConnectionForced) || e.Reason != "CONNECTION_FORCED - broker shutdown" || !e.Server {
		t.Errorf("connection.close decoded as %+v", e)
	}
	<-p.done
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// toTable turns a client table into ours (in the map's order; expect
// compares tables as maps).
func toTable(t amqp091.Table) amqp.Table {
	out := amqp.Table{}
	for k, v := range t {
		out = append(out, amqp.Field{Key: k, Value: v})
	}
	return out
}

func fullPublishing(body []byte) amqp091.Publishing {
	return amqp091.Publishing{
		Headers:         clientTable(),
		ContentType:     "application/octet-stream",
		ContentEncoding: "identity",
		DeliveryMode:    amqp091.Persistent,
		Priority:        9,
		CorrelationId:   "corr-1",
		ReplyTo:         "amq.rabbitmq.reply-to",
		Expiration:      "60000",
		MessageId:       "msg-1",
		Timestamp:       time.Unix(1700000000, 0),
		Type:            "order.created",
		UserId:          "guest",
		AppId:           "peer-test",
		Body:            body,
	}
}

// checkPublishing compares what the peer decoded with what the client sent.
func checkPublishing(t *testing.T, r received, pub amqp091.Publishing) {
	t.Helper()
	p := r.props
	const want = 0xfff8 // every property amqp091-go has; it never sends cluster-id
	if p.Flags != want {
		t.Errorf("property flags %#04x, want %#04x", p.Flags, want)
	}
	sameTable(t, "publish headers", p.Headers, pub.Headers)
	got := [...]any{p.ContentType, p.ContentEncoding, p.DeliveryMode, p.Priority, p.CorrelationID,
		p.ReplyTo, p.Expiration, p.MessageID, p.Timestamp.Unix(), p.Type, p.UserID, p.AppID}
	exp := [...]any{pub.ContentType, pub.ContentEncoding, pub.DeliveryMode, pub.Priority, pub.CorrelationId,
		pub.ReplyTo, pub.Expiration, pub.MessageId, pub.Timestamp.Unix(), pub.Type, pub.UserId, pub.AppId}
	if got != exp {
		t.Errorf("publish properties\n got %v\nwant %v", got, exp)
	}
	if !bytes.Equal(r.body, pub.Body) {
		t.Errorf("publish body: %d bytes, want %d", len(r.body), len(pub.Body))
	}
}

// fullProperties sets all 14 properties, cluster-id included, which the
// client must skip.
func fullProperties() amqp.Properties {
	return amqp.Properties{
		ContentType: "text/plain", ContentEncoding: "utf-8", Headers: everyTypeTable(),
		DeliveryMode: 1, Priority: 255, CorrelationID: "c", ReplyTo: "r", Expiration: "0",
		MessageID: "m", Timestamp: time.Unix(math.MaxInt32+1, 0), Type: "t", UserID: "u",
		AppID: "a", Reserved: "cluster", Flags: allFlags,
	}
}

// checkClientProperties compares what the client decoded with what we sent.
func checkClientProperties(t *testing.T, what string, p amqp.Properties, d amqp091.Delivery) {
	t.Helper()
	sameTable(t, what+" headers", d.Headers, p.Headers)
	got := [...]any{d.ContentType, d.ContentEncoding, d.DeliveryMode, d.Priority, d.CorrelationId,
		d.ReplyTo, d.Expiration, d.MessageId, d.Timestamp.Unix(), d.Type, d.UserId, d.AppId}
	exp := [...]any{p.ContentType, p.ContentEncoding, p.DeliveryMode, p.Priority, p.CorrelationID,
		p.ReplyTo, p.Expiration, p.MessageID, p.Timestamp.Unix(), p.Type, p.UserID, p.AppID}
	if got != exp {
		t.Errorf("%s properties\n got %v\nwant %v", what, got, exp)
	}
}
