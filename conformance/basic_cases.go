package conformance

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func init() {
	register(
		Case{Section: "basic", Name: "publish-consume-all-properties-and-field-types", Run: basicAllProperties},
		Case{Section: "basic", Name: "publish-get-all-14-properties-raw-bytes-preserved", Run: basicRawProperties},
		Case{Section: "basic", Name: "body-sizes-across-frame-max", Run: basicBodySizes},
		Case{Section: "basic", Name: "publish-default-exchange-routes-by-queue-name", Run: basicDefaultExchange},
		Case{Section: "basic", Name: "publish-missing-exchange-404", Run: basicPublishMissingExchange},
		Case{Section: "basic", Name: "publish-user-id-mismatch-406", Run: basicPublishUserIDMismatch},
		Case{Section: "basic", Name: "publish-amq-default-name-404", Run: basicPublishAmqDefault},
		Case{Section: "basic", Name: "publish-internal-exchange-403", Run: basicPublishInternal},
		Case{Section: "basic", Name: "publish-invalid-expiration-406", Run: basicPublishBadExpiration},
		Case{Section: "basic", Name: "publish-immediate-540", Run: basicPublishImmediate},
		Case{Section: "basic", Name: "mandatory-unroutable-returns-312", Run: basicMandatoryReturn},
		Case{Section: "basic", Name: "consume-round-robin-two-consumers", Run: basicRoundRobin},
		Case{Section: "basic", Name: "qos-prefetch-count-limits-unacked", Run: basicQosPrefetch},
		Case{Section: "basic", Name: "qos-per-consumer-limit-applies-to-each-consumer", Run: basicQosPerConsumer},
		Case{Section: "basic", Name: "qos-global-shared-by-consumers-of-channel", Run: basicQosGlobal},
		Case{Section: "basic", Name: "qos-per-consumer-and-global-both-apply", Run: basicQosBoth},
		Case{Section: "basic", Name: "qos-change-applies-to-new-consumers-only", Run: basicQosNewConsumers},
		Case{Section: "basic", Name: "qos-prefetch-size-540", Run: basicQosPrefetchSize},
		Case{Section: "basic", Name: "get-ignores-prefetch", Run: basicGetIgnoresPrefetch},
		Case{Section: "basic", Name: "consume-server-generated-tag", Run: basicServerTag},
		Case{Section: "basic", Name: "consume-reused-tag-530", Run: basicReusedTag},
		Case{Section: "basic", Name: "consume-exclusive-then-second-consumer-403", Run: basicExclusiveThenSecond},
		Case{Section: "basic", Name: "consume-exclusive-when-consumer-exists-403", Run: basicExclusiveWhenConsumer},
		Case{Section: "basic", Name: "consume-missing-queue-404", Run: basicConsumeMissingQueue},
		Case{Section: "basic", Name: "consume-and-get-other-connections-exclusive-queue-405", Run: basicOtherExclusiveQueue},
		Case{Section: "basic", Name: "consume-no-local-is-ignored", Run: basicNoLocalIgnored},
		Case{Section: "basic", Name: "cancel-stops-deliveries", Run: basicCancelStops},
		Case{Section: "basic", Name: "cancel-unknown-tag-is-ok", Run: basicCancelUnknown},
		Case{Section: "basic", Name: "server-cancel-on-queue-delete", Run: basicServerCancel},
		Case{Section: "basic", Name: "delivery-tags-per-channel", Run: basicDeliveryTags},
		Case{Section: "basic", Name: "nack-requeue-original-position-redelivered", Run: basicNackRequeueOrder},
		Case{Section: "basic", Name: "reject-requeue-redelivered", Run: basicRejectRequeue},
		Case{Section: "basic", Name: "channel-close-requeues-unacked", Run: basicChannelCloseRequeues},
		Case{Section: "basic", Name: "connection-close-requeues-unacked", Run: basicConnectionCloseRequeues},
		Case{Section: "basic", Name: "ack-multiple", Run: basicAckMultiple},
		Case{Section: "basic", Name: "ack-multiple-tag-zero-acks-all", Run: basicAckMultipleZero},
		Case{Section: "basic", Name: "ack-unknown-tag-406", Run: basicAckUnknown},
		Case{Section: "basic", Name: "ack-twice-406", Run: basicAckTwice},
		Case{Section: "basic", Name: "ack-tag-zero-nack-reject-unknown-tag-406", Run: basicUnknownTags},
		Case{Section: "basic", Name: "nack-multiple-no-requeue-drops", Run: basicNackMultipleDrop},
		Case{Section: "basic", Name: "reject-no-requeue-drops", Run: basicRejectDrop},
		Case{Section: "basic", Name: "get-ok-message-count-and-get-empty", Run: basicGetCounts},
		Case{Section: "basic", Name: "get-no-ack", Run: basicGetNoAck},
		Case{Section: "basic", Name: "get-missing-queue-404", Run: basicGetMissingQueue},
		Case{Section: "basic", Name: "recover-requeue-redelivers", Run: basicRecover},
		Case{Section: "basic", Name: "recover-no-requeue-540", Run: basicRecoverNoRequeue},
		Case{Section: "basic", Name: "no-ack-consumer-empties-queue", Run: basicNoAckConsumer},
	)
}

// bVhost is the vhost the target URL names, for reply texts.
func bVhost(t T, env *Env) string {
	t.Helper()
	u, err := amqp091.ParseURI(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	return u.Vhost
}

// bUser is the user the target URL names.
func bUser(t T, env *Env) string {
	t.Helper()
	u, err := amqp091.ParseURI(env.URL)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	return u.Username
}

// bAllTypes is a headers table with every field type amqp091-go encodes.
func bAllTypes() amqp091.Table {
	ts := time.Unix(1700000000, 0)
	return amqp091.Table{
		"bool-true":    true,
		"bool-false":   false,
		"int8":         int8(-8),
		"uint8":        byte(200),
		"int16":        int16(-1600),
		"uint16":       uint16(60000),
		"int32":        int32(-320000),
		"uint32":       uint32(4000000000),
		"int64":        int64(-6400000000000),
		"float32":      float32(3.25),
		"float64":      float64(-6.125),
		"string":       "h\u00e9llo \x00 world",
		"empty-string": "",
		"bytes":        []byte{0, 1, 2, 0xfe, 0xff},
		"empty-bytes":  []byte{},
		"decimal":      amqp091.Decimal{Scale: 2, Value: -12345},
		"timestamp":    ts,
		"void":         nil,
		"table": amqp091.Table{
			"inner":  "x",
			"n":      int32(1),
			"deeper": amqp091.Table{"z": true, "empty": amqp091.Table{}},
		},
		"array": []any{"a", int32(1), true, nil, int64(-2), []byte{9}, float64(1.5),
			amqp091.Decimal{Scale: 1, Value: 5}, ts, amqp091.Table{"k": "v"}, []any{int16(2)}, []any{}},
	}
}

// bFieldDiff compares decoded field values, types included.
func bFieldDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case amqp091.Table:
		g, ok := got.(amqp091.Table)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T %#v, want table", path, got, got)}
		}
		var out []string
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, bFieldDiff(path+"."+k, w[k], gv)...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: unexpected field %#v", path, k, g[k]))
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T %#v, want array", path, got, got)}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: array of %d, want %d", path, len(g), len(w))}
		}
		var out []string
		for i := range w {
			out = append(out, bFieldDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case []byte:
		g, ok := got.([]byte)
		if !ok || !bytes.Equal(w, g) {
			return []string{fmt.Sprintf("%s: got %T %#v, want []byte %#v", path, got, got, w)}
		}
		return nil
	case time.Time:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(w) {
			return []string{fmt.Sprintf("%s: got %T %v, want time %v", path, got, got, w)}
		}
		return nil
	}
	if reflect.TypeOf(want) != reflect.TypeOf(got) || want != got {
		return []string{fmt.Sprintf("%s: got %T %#v, want %T %#v", path, got, got, want, want)}
	}
	return nil
}

func basicAllProperties(t T, env *Env) {
	q := bQueue(t, env, "basic.props")
	_, ch := env.Channel(t)
	ts := time.Unix(1700000123, 0)
	body := []byte("all properties \x00\x01\xff")
	pub := amqp091.Publishing{
		Headers:         bAllTypes(),
		ContentType:     "application/x-warren",
		ContentEncoding: "identity",
		DeliveryMode:    amqp091.Persistent,
		Priority:        7,
		CorrelationId:   "corr-1",
		ReplyTo:         "reply.queue",
		Expiration:      "600000",
		MessageId:       "msg-1",
		Timestamp:       ts,
		Type:            "warren.test",
		UserId:          bUser(t, env),
		AppId:           "conformance",
		Body:            body,
	}
	ds := bConsume(t, ch, q, "props", false)
	if err := ch.Publish("", q, false, false, pub); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	d := bRecv(t, ds, "round trip")
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	type prop struct {
		name      string
		got, want any
	}
	for _, p := range []prop{
		{"content-type", d.ContentType, pub.ContentType},
		{"content-encoding", d.ContentEncoding, pub.ContentEncoding},
		{"delivery-mode", d.DeliveryMode, pub.DeliveryMode},
		{"priority", d.Priority, pub.Priority},
		{"correlation-id", d.CorrelationId, pub.CorrelationId},
		{"reply-to", d.ReplyTo, pub.ReplyTo},
		{"expiration", d.Expiration, pub.Expiration},
		{"message-id", d.MessageId, pub.MessageId},
		{"timestamp", d.Timestamp.Unix(), ts.Unix()},
		{"type", d.Type, pub.Type},
		{"user-id", d.UserId, pub.UserId},
		{"app-id", d.AppId, pub.AppId},
		{"exchange", d.Exchange, ""},
		{"routing-key", d.RoutingKey, q},
		{"consumer-tag", d.ConsumerTag, "props"},
		{"delivery-tag", d.DeliveryTag, uint64(1)},
		{"redelivered", d.Redelivered, false},
	} {
		if p.got != p.want {
			t.Errorf("%s: got %#v, want %#v", p.name, p.got, p.want)
		}
	}
	for _, diff := range bFieldDiff("headers", pub.Headers, d.Headers) {
		t.Errorf("%s", diff)
	}
	if !bytes.Equal(d.Body, body) {
		t.Errorf("body: got %q, want %q", d.Body, body)
	}
}

// basicRawProperties sets all 14 properties, cluster-id included (which
// amqp091-go cannot send), and checks that basic.get returns the property
// flags and the encoded property list unchanged.
func basicRawProperties(t T, env *Env) {
	q := bQueue(t, env, "basic.rawprops")
	rc := bRawDial(t, env)
	var p bArgs
	p.Short("text/plain").Short("utf-8").Table([]string{"k", "v"}).U8(2).U8(3).
		Short("corr").Short("reply").Short("60000").Short("mid").U64(1700000000).
		Short("type").Short(bUser(t, env)).Short("app").Short("cluster")
	const flags = 0xFFFC // bits 15..2: every property, cluster-id included
	body := []byte("raw body")

	var a bArgs
	rc.Send(1, 85, 10, a.U8(0).B) // confirm.select
	rc.Expect(1, 85, 11)
	a = bArgs{}
	a.U16(0).Short("").Short(q).U8(0)
	rc.Send(1, 60, 40, a.B) // basic.publish
	rc.SendContent(1, flags, p.B, body)
	rc.Expect(1, 60, 80) // basic.ack

	a = bArgs{}
	a.U16(0).Short(q).U8(1)
	rc.Send(1, 60, 70, a.B) // basic.get no-ack
	rc.Expect(1, 60, 71)
	gotFlags, gotProps, gotBody := rc.ReadContent(1)
	if gotFlags != flags {
		t.Errorf("property flags: got %#04x, want %#04x", gotFlags, flags)
	}
	if !bytes.Equal(gotProps, p.B) {
		t.Errorf("property list:\n got %q\nwant %q", gotProps, p.B)
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body: got %q, want %q", gotBody, body)
	}
}

func basicBodySizes(t T, env *Env) {
	q := bQueue(t, env, "basic.sizes")
	c, ch := env.Channel(t)
	fm := c.Config.FrameSize
	if fm <= 0 {
		t.Fatalf("negotiated frame_max %d", fm)
	}
	t.Logf("negotiated frame_max %d", fm)
	sizes := []int{0, 1, fm - 9, fm - 8, fm - 7, 2*(fm-8) + 1, 1 << 20}
	cch := bChannel(t, c)
	ds := bConsume(t, cch, q, "sizes", false)
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j*31 + i)
		}
		if err := ch.Publish("", q, false, false, amqp091.Publishing{MessageId: fmt.Sprint(i), Body: b}); err != nil {
			t.Fatalf("basic.publish %d bytes: %v", n, err)
		}
	}
	for i, n := range sizes {
		d := bRecv(t, ds, fmt.Sprintf("body of %d bytes", n))
		if d.MessageId != fmt.Sprint(i) {
			t.Fatalf("delivery %d: message-id %q, want %d (out of order)", i, d.MessageId, i)
		}
		if len(d.Body) != n {
			t.Errorf("body of %d bytes arrived with %d bytes", n, len(d.Body))
			continue
		}
		for j, x := range d.Body {
			if x != byte(j*31+i) {
				t.Errorf("body of %d bytes differs at byte %d", n, j)
				break
			}
		}
		if err := d.Ack(false); err != nil {
			t.Fatalf("basic.ack: %v", err)
		}
	}
}

func basicDefaultExchange(t T, env *Env) {
	q := bQueue(t, env, "basic.default")
	_, ch := env.Channel(t)
	if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte("via default")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	// A get on the same channel is ordered after the publish.
	d := bGet(t, ch, q, true, "get after publish to the default exchange")
	if string(d.Body) != "via default" || d.Exchange != "" || d.RoutingKey != q {
		t.Fatalf("got body %q exchange %q routing-key %q, want %q \"\" %q", d.Body, d.Exchange, d.RoutingKey, "via default", q)
	}
	// A routing key that names no queue is dropped silently.
	if err := ch.Publish("", q+".none", false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bGetEmpty(t, ch, q, "after publish to a routing key naming no queue")
}

func basicPublishMissingExchange(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	x := Name("basic.nox")
	if err := ch.Publish(x, "k", false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 404, fmt.Sprintf("NOT_FOUND - no exchange '%s' in vhost '%s'", x, bVhost(t, env)), "publish to a missing exchange")
}

func basicPublishUserIDMismatch(t T, env *Env) {
	q := bQueue(t, env, "basic.userid")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Publish("", q, false, false, amqp091.Publishing{UserId: "not-" + bUser(t, env), Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 406, fmt.Sprintf("PRECONDITION_FAILED - user_id property set to 'not-%s' but authenticated user was '%s'",
		bUser(t, env), bUser(t, env)), "publish with a foreign user-id")
	bExpectReady(t, env, q, 0, "after the rejected publish")
}

func basicPublishImmediate(t T, env *Env) {
	q := bQueue(t, env, "basic.immediate")
	c, ch := env.Channel(t)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Publish("", q, false, true, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 540, "NOT_IMPLEMENTED - immediate=true", "publish with immediate=true")
	bExpectReady(t, env, q, 0, "after the immediate publish")
}

func basicMandatoryReturn(t T, env *Env) {
	q := bQueue(t, env, "basic.mandatory")
	_, ch := env.Channel(t)
	returns := ch.NotifyReturn(make(chan amqp091.Return, 4))
	key := Name("basic.noroute")
	pub := amqp091.Publishing{ContentType: "text/plain", MessageId: "m1", Headers: amqp091.Table{"h": "v"}, Body: []byte("returned")}
	if err := ch.Publish("amq.direct", key, true, false, pub); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	select {
	case r := <-returns:
		if r.ReplyCode != 312 || r.ReplyText != "NO_ROUTE" {
			t.Errorf("basic.return %d %q, want 312 \"NO_ROUTE\"", r.ReplyCode, r.ReplyText)
		}
		if r.Exchange != "amq.direct" || r.RoutingKey != key {
			t.Errorf("basic.return exchange %q routing-key %q, want amq.direct %q", r.Exchange, r.RoutingKey, key)
		}
		if string(r.Body) != "returned" || r.MessageId != "m1" || r.ContentType != "text/plain" || r.Headers["h"] != "v" {
			t.Errorf("basic.return content: body %q message-id %q content-type %q headers %v", r.Body, r.MessageId, r.ContentType, r.Headers)
		}
	case <-time.After(Timeout):
		t.Fatalf("no basic.return within %v", Timeout)
	}

	// Mandatory to the default exchange with a key that names no queue.
	if err := ch.Publish("", key, true, false, amqp091.Publishing{Body: []byte("r2")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	select {
	case r := <-returns:
		if r.ReplyCode != 312 || r.Exchange != "" || r.RoutingKey != key || string(r.Body) != "r2" {
			t.Errorf("basic.return %d %q exchange %q key %q body %q, want 312 \"\" %q r2", r.ReplyCode, r.ReplyText, r.Exchange, r.RoutingKey, r.Body, key)
		}
	case <-time.After(Timeout):
		t.Fatalf("no basic.return for the default exchange within %v", Timeout)
	}

	// Routable mandatory, and unroutable non-mandatory: no return. A
	// synchronous method on the same channel is answered after any return
	// for the publishes before it.
	if err := ch.Publish("", q, true, false, amqp091.Publishing{Body: []byte("routed")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	if err := ch.Publish("amq.direct", key, false, false, amqp091.Publishing{Body: []byte("dropped")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	if _, err := ch.QueueDeclarePassive(q, false, false, false, false, nil); err != nil {
		t.Fatalf("passive queue.declare: %v", err)
	}
	select {
	case r := <-returns:
		t.Fatalf("unexpected basic.return %d %q for body %q", r.ReplyCode, r.ReplyText, r.Body)
	case <-time.After(bQuiet):
	}
	bExpectReady(t, env, q, 1, "after the routable mandatory publish")
}

func basicRoundRobin(t T, env *Env) {
	q := bQueue(t, env, "basic.rr")
	c, ch1 := env.Channel(t)
	ch2 := bChannel(t, c)
	a := bConsume(t, ch1, q, "a", true)
	b := bConsume(t, ch2, q, "b", true)
	const n = 10
	bPublish(t, env, q, bNums(n)...)
	who := make([]string, n+1)
	for i := 0; i < n; i++ {
		var d amqp091.Delivery
		select {
		case d = <-a:
		case d = <-b:
		case <-time.After(Timeout):
			t.Fatalf("only %d of %d deliveries within %v", i, n, Timeout)
		}
		var k int
		if _, err := fmt.Sscan(string(d.Body), &k); err != nil || k < 1 || k > n || who[k] != "" {
			t.Fatalf("unexpected body %q", d.Body)
		}
		who[k] = d.ConsumerTag
	}
	for k := 2; k <= n; k++ {
		if who[k] == who[k-1] {
			t.Fatalf("messages %d and %d both went to consumer %q; want alternation (got %v)", k-1, k, who[k], who[1:])
		}
	}
}

func basicQosPrefetch(t T, env *Env) {
	q := bQueue(t, env, "basic.qos")
	_, ch := env.Channel(t)
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	ds := bConsume(t, ch, q, "qos", false)
	bPublish(t, env, q, bNums(5)...)
	got := bRecvN(t, ds, 2, "prefetch 2")
	if b := bBodies(got); b[0] != "1" || b[1] != "2" {
		t.Fatalf("first deliveries %v, want [1 2]", b)
	}
	bNoDelivery(t, ds, "third delivery while 2 are unacked")
	bExpectReady(t, env, q, 3, "with 2 unacked")
	if err := got[0].Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	d3 := bRecv(t, ds, "after one ack")
	if string(d3.Body) != "3" {
		t.Fatalf("got %q, want 3", d3.Body)
	}
	bNoDelivery(t, ds, "fourth delivery while 2 are unacked")
	if err := d3.Ack(true); err != nil { // acks 2 and 3
		t.Fatalf("basic.ack multiple: %v", err)
	}
	if b := bBodies(bRecvN(t, ds, 2, "after ack multiple")); b[0] != "4" || b[1] != "5" {
		t.Fatalf("got %v, want [4 5]", b)
	}
	bExpectReady(t, env, q, 0, "at the end")
}

func basicQosPerConsumer(t T, env *Env) {
	q := bQueue(t, env, "basic.qospc")
	_, ch := env.Channel(t)
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	a := bConsume(t, ch, q, "a", false)
	b := bConsume(t, ch, q, "b", false)
	bPublish(t, env, q, bNums(10)...)
	bRecvN(t, a, 2, "consumer a")
	bRecvN(t, b, 2, "consumer b")
	bNoDelivery(t, a, "consumer a beyond its prefetch")
	bNoDelivery(t, b, "consumer b beyond its prefetch")
	bExpectReady(t, env, q, 6, "with 2+2 unacked")
}

func basicQosGlobal(t T, env *Env) {
	q1 := bQueue(t, env, "basic.qosg1")
	q2 := bQueue(t, env, "basic.qosg2")
	q3 := bQueue(t, env, "basic.qosg3")
	c, ch := env.Channel(t)
	if err := ch.Qos(3, 0, true); err != nil {
		t.Fatalf("basic.qos global: %v", err)
	}
	a := bConsume(t, ch, q1, "a", false)
	b := bConsume(t, ch, q2, "b", false)
	// Another channel on the same connection is not limited.
	other := bChannel(t, c)
	o := bConsume(t, other, q3, "o", false)
	bPublish(t, env, q1, bNums(5)...)
	bPublish(t, env, q2, bNums(5)...)
	bPublish(t, env, q3, bNums(5)...)
	bRecvN(t, o, 5, "consumer on the other channel")

	var got []amqp091.Delivery
	collect := func(want int) {
		t.Helper()
		deadline := time.After(Timeout)
		for len(got) < want {
			select {
			case d := <-a:
				got = append(got, d)
			case d := <-b:
				got = append(got, d)
			case <-deadline:
				t.Fatalf("%d deliveries within %v, want %d", len(got), Timeout, want)
			}
		}
		select {
		case d := <-a:
			t.Fatalf("delivery %d (%q from a) beyond the channel's global prefetch of 3", len(got)+1, d.Body)
		case d := <-b:
			t.Fatalf("delivery %d (%q from b) beyond the channel's global prefetch of 3", len(got)+1, d.Body)
		case <-time.After(bQuiet):
		}
	}
	collect(3)
	r1, _ := bCounts(t, env, q1)
	r2, _ := bCounts(t, env, q2)
	if r1+r2 != 7 {
		t.Fatalf("ready messages %d+%d, want 7 with 3 unacked", r1, r2)
	}
	if err := got[0].Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	collect(4)
}

func basicQosPrefetchSize(t T, env *Env) {
	c, ch := env.Channel(t)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Qos(0, 1000, false); err == nil {
		t.Fatalf("basic.qos prefetch_size=1000 succeeded")
	}
	bExpectClose(t, closes, 540, "NOT_IMPLEMENTED - prefetch_size!=0 (1000)", "basic.qos prefetch_size=1000")
}

func basicServerTag(t T, env *Env) {
	q := bQueue(t, env, "basic.ctag")
	rc := bRawDial(t, env)
	consume := func() string {
		t.Helper()
		var a bArgs
		a.U16(0).Short(q).Short("").U8(0x02).Table(nil) // no-ack
		rc.Send(1, 60, 20, a.B)
		f := rc.Expect(1, 60, 21)
		n := int(f.Payload[4])
		return string(f.Payload[5 : 5+n])
	}
	tag1, tag2 := consume(), consume()
	for _, tag := range []string{tag1, tag2} {
		if !strings.HasPrefix(tag, "amq.ctag-") {
			t.Errorf("server-generated consumer tag %q, want prefix amq.ctag-", tag)
		}
	}
	if tag1 == tag2 {
		t.Fatalf("two server-generated tags are both %q", tag1)
	}
	bPublish(t, env, q, "x")
	f := rc.Expect(1, 60, 60) // basic.deliver
	n := int(f.Payload[4])
	if tag := string(f.Payload[5 : 5+n]); tag != tag1 && tag != tag2 {
		t.Fatalf("basic.deliver consumer tag %q, want %q or %q", tag, tag1, tag2)
	}
	if _, _, body := rc.ReadContent(1); string(body) != "x" {
		t.Fatalf("body %q, want x", body)
	}
}

func basicReusedTag(t T, env *Env) {
	q := bQueue(t, env, "basic.dup")
	c, ch := env.Channel(t)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	bConsume(t, ch, q, "dup", false)
	if _, err := ch.Consume(q, "dup", false, false, false, false, nil); err == nil {
		t.Fatalf("second basic.consume with tag \"dup\" succeeded")
	}
	bExpectClose(t, closes, 530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'", "reused consumer tag")
}

func basicExclusiveThenSecond(t T, env *Env) {
	q := bQueue(t, env, "basic.excl")
	c, ch1 := env.Channel(t)
	if _, err := ch1.Consume(q, "excl", false, true, false, false, nil); err != nil {
		t.Fatalf("exclusive basic.consume: %v", err)
	}
	ch2 := bChannel(t, c)
	closes := ch2.NotifyClose(make(chan *amqp091.Error, 1))
	_, err := ch2.Consume(q, "second", false, false, false, false, nil)
	ExpectCode(t, err, 403, "second consumer on an exclusively consumed queue")
	bExpectClose(t, closes, 403, fmt.Sprintf("ACCESS_REFUSED - queue '%s' in vhost '%s' in exclusive use", q, bVhost(t, env)), "second consumer")
	// Exclusive use applies to consumers of other connections too.
	_, ch3 := env.Channel(t)
	_, err = ch3.Consume(q, "third", false, false, false, false, nil)
	ExpectCode(t, err, 403, "consumer on another connection")
	if _, n := bCounts(t, env, q); n != 1 {
		t.Fatalf("queue has %d consumers, want 1", n)
	}
}

func basicExclusiveWhenConsumer(t T, env *Env) {
	q := bQueue(t, env, "basic.excl2")
	c, ch1 := env.Channel(t)
	bConsume(t, ch1, q, "first", false)
	ch2 := bChannel(t, c)
	closes := ch2.NotifyClose(make(chan *amqp091.Error, 1))
	_, err := ch2.Consume(q, "excl", false, true, false, false, nil)
	ExpectCode(t, err, 403, "exclusive consume on a queue with a consumer")
	bExpectClose(t, closes, 403, fmt.Sprintf("ACCESS_REFUSED - queue '%s' in vhost '%s' in exclusive use", q, bVhost(t, env)), "exclusive consume")
	if _, n := bCounts(t, env, q); n != 1 {
		t.Fatalf("queue has %d consumers, want 1", n)
	}
}

func basicConsumeMissingQueue(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	q := Name("basic.noq")
	_, err := ch.Consume(q, "c", false, false, false, false, nil)
	ExpectCode(t, err, 404, "consume from a missing queue")
	bExpectClose(t, closes, 404, fmt.Sprintf("NOT_FOUND - no queue '%s' in vhost '%s'", q, bVhost(t, env)), "consume from a missing queue")
}

func basicCancelStops(t T, env *Env) {
	q := bQueue(t, env, "basic.cancel")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", false)
	bPublish(t, env, q, "1")
	d := bRecv(t, ds, "before cancel")
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.Cancel("c", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	select {
	case d, ok := <-ds:
		if ok {
			t.Fatalf("delivery %q after cancel-ok", d.Body)
		}
	case <-time.After(Timeout):
		t.Fatalf("delivery channel not closed after cancel")
	}
	bPublish(t, env, q, "2", "3")
	if m, n := bCounts(t, env, q); m != 2 || n != 0 {
		t.Fatalf("after cancel: %d ready, %d consumers; want 2, 0", m, n)
	}
}

func basicCancelUnknown(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Cancel("no-such-consumer", false); err != nil {
		t.Fatalf("basic.cancel of an unknown tag: %v", err)
	}
	bStillOpen(t, ch, closes, "after cancel of an unknown tag")
}

func basicServerCancel(t T, env *Env) {
	q := bQueue(t, env, "basic.srvcancel")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	cancels := ch.NotifyCancel(make(chan string, 1))
	ds := bConsume(t, ch, q, "doomed", false)
	_, other := env.Channel(t)
	if _, err := other.QueueDelete(q, false, false, false); err != nil {
		t.Fatalf("queue.delete: %v", err)
	}
	select {
	case tag := <-cancels:
		if tag != "doomed" {
			t.Fatalf("basic.cancel for %q, want doomed", tag)
		}
	case <-time.After(Timeout):
		t.Fatalf("no basic.cancel from the server within %v", Timeout)
	}
	select {
	case _, ok := <-ds:
		if ok {
			t.Fatalf("delivery after server cancel")
		}
	case <-time.After(Timeout):
		t.Fatalf("delivery channel not closed after server cancel")
	}
	bStillOpen(t, ch, closes, "after server cancel")
}

func basicDeliveryTags(t T, env *Env) {
	q := bQueue(t, env, "basic.tags")
	c, ch := env.Channel(t)
	bPublish(t, env, q, bNums(4)...)
	d1 := bGet(t, ch, q, false, "get 1")
	d2 := bGet(t, ch, q, true, "get 2 (no-ack)")
	ch2 := bChannel(t, c)
	d4 := bGet(t, ch2, q, false, "get 3 on a second channel")
	ds := bConsume(t, ch, q, "c", false)
	d3 := bRecv(t, ds, "consume 4")
	for i, got := range []uint64{d1.DeliveryTag, d2.DeliveryTag, d3.DeliveryTag, d4.DeliveryTag} {
		want := []uint64{1, 2, 3, 1}[i]
		if got != want {
			t.Errorf("delivery %d: tag %d, want %d (tags count per channel from 1, gets and deliveries alike)", i+1, got, want)
		}
	}
	if string(d3.Body) != "4" || string(d4.Body) != "3" {
		t.Errorf("bodies: consumer got %q, second channel got %q; want 4 and 3", d3.Body, d4.Body)
	}
}

func basicNackRequeueOrder(t T, env *Env) {
	q := bQueue(t, env, "basic.nack")
	_, ch := env.Channel(t)
	bPublish(t, env, q, "1", "2", "3")
	d1 := bGet(t, ch, q, false, "get 1")
	bGet(t, ch, q, false, "get 2")
	if err := ch.Nack(d1.DeliveryTag, false, true); err != nil {
		t.Fatalf("basic.nack: %v", err)
	}
	// The requeued message goes back to its original position: before 3.
	r1 := bGet(t, ch, q, false, "get after nack of 1")
	if string(r1.Body) != "1" || !r1.Redelivered {
		t.Fatalf("got %q redelivered=%v, want 1 redelivered=true", r1.Body, r1.Redelivered)
	}
	if r1.MessageCount != 1 {
		t.Errorf("get-ok message-count %d, want 1", r1.MessageCount)
	}
	d3 := bGet(t, ch, q, false, "get 3")
	if string(d3.Body) != "3" || d3.Redelivered {
		t.Fatalf("got %q redelivered=%v, want 3 redelivered=false", d3.Body, d3.Redelivered)
	}
	// Requeue everything outstanding at once: back in publish order.
	if err := ch.Nack(d3.DeliveryTag, true, true); err != nil {
		t.Fatalf("basic.nack multiple: %v", err)
	}
	var got []string
	for i := 0; i < 3; i++ {
		d := bGet(t, ch, q, true, "get after nack multiple")
		if !d.Redelivered {
			t.Errorf("message %q: redelivered=false after requeue", d.Body)
		}
		got = append(got, string(d.Body))
	}
	if strings.Join(got, ",") != "1,2,3" {
		t.Fatalf("order after nack multiple requeue %v, want [1 2 3]", got)
	}
	bGetEmpty(t, ch, q, "at the end")
}

func basicRejectRequeue(t T, env *Env) {
	q := bQueue(t, env, "basic.rejrq")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", false)
	bPublish(t, env, q, "a")
	d := bRecv(t, ds, "first delivery")
	if d.Redelivered {
		t.Fatalf("first delivery has redelivered=true")
	}
	if err := d.Reject(true); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	r := bRecv(t, ds, "after reject requeue")
	if string(r.Body) != "a" || !r.Redelivered || r.DeliveryTag != d.DeliveryTag+1 {
		t.Fatalf("got %q redelivered=%v tag %d, want a redelivered=true tag %d", r.Body, r.Redelivered, r.DeliveryTag, d.DeliveryTag+1)
	}
	if err := r.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.Cancel("c", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	bExpectReady(t, env, q, 0, "after ack")
}

// bWaitReady polls until the queue has n ready messages: requeueing on
// channel or connection close completes shortly after the close.
func bWaitReady(t T, env *Env, q string, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		got, _ := bCounts(t, env, q)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: queue %q has %d ready messages after %v, want %d", what, q, got, Timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bStayReady checks, for bQuiet, that the queue keeps n ready messages: a
// message dropped by nack/reject/ack must not come back when the channel
// closes.
func bStayReady(t T, env *Env, q string, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(bQuiet)
	for {
		if got, _ := bCounts(t, env, q); got != n {
			t.Fatalf("%s: queue %q has %d ready messages, want %d", what, q, got, n)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bExpectRequeued gets the remaining messages of q and checks their bodies
// and that the first redelivered of them carry redelivered=true and the
// rest redelivered=false.
func bExpectRequeued(t T, env *Env, q string, redelivered int, want ...string) {
	t.Helper()
	_, ch := env.Channel(t)
	for i, w := range want {
		d := bGet(t, ch, q, true, "get remaining "+w)
		if string(d.Body) != w || d.Redelivered != (i < redelivered) {
			t.Fatalf("remaining message %d: got %q redelivered=%v, want %q redelivered=%v", i+1, d.Body, d.Redelivered, w, i < redelivered)
		}
	}
	bGetEmpty(t, ch, q, "after the remaining messages")
}

func basicChannelCloseRequeues(t T, env *Env) {
	q := bQueue(t, env, "basic.chclose")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", false)
	bPublish(t, env, q, "1", "2", "3")
	bRecvN(t, ds, 3, "before close")
	bExpectReady(t, env, q, 0, "with 3 unacked")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 3, "after channel.close")
	bExpectRequeued(t, env, q, 3, "1", "2", "3")
}

func basicConnectionCloseRequeues(t T, env *Env) {
	q := bQueue(t, env, "basic.connclose")
	c, ch := env.Channel(t)
	bPublish(t, env, q, "1", "2", "3")
	bGet(t, ch, q, false, "get 1")
	bGet(t, ch, q, false, "get 2")
	if err := c.Close(); err != nil {
		t.Fatalf("connection.close: %v", err)
	}
	bWaitReady(t, env, q, 3, "after connection.close")
	// 1 and 2 were delivered and come back redelivered; 3 never left.
	bExpectRequeued(t, env, q, 2, "1", "2", "3")
}

func basicAckMultiple(t T, env *Env) {
	q := bQueue(t, env, "basic.ackm")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", false)
	bPublish(t, env, q, bNums(5)...)
	got := bRecvN(t, ds, 5, "deliveries")
	if err := ch.Ack(got[2].DeliveryTag, true); err != nil {
		t.Fatalf("basic.ack multiple: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 2, "after channel.close")
	bExpectRequeued(t, env, q, 2, "4", "5")
}

func basicAckMultipleZero(t T, env *Env) {
	q := bQueue(t, env, "basic.ack0")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	bPublish(t, env, q, bNums(3)...)
	for i := 0; i < 3; i++ {
		bGet(t, ch, q, false, "get")
	}
	// spec: multiple=1 with delivery-tag 0 acknowledges every outstanding message.
	if err := ch.Ack(0, true); err != nil {
		t.Fatalf("basic.ack 0 multiple: %v", err)
	}
	bStillOpen(t, ch, closes, "after ack 0 multiple")
	// With nothing outstanding it is still not an error.
	if err := ch.Ack(0, true); err != nil {
		t.Fatalf("basic.ack 0 multiple: %v", err)
	}
	bStillOpen(t, ch, closes, "after ack 0 multiple with nothing outstanding")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after channel.close")
}

func basicAckUnknown(t T, env *Env) {
	q := bQueue(t, env, "basic.ackunk")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	bPublish(t, env, q, "1")
	bGet(t, ch, q, false, "get")
	if err := ch.Ack(99, false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	bExpectClose(t, closes, 406, "PRECONDITION_FAILED - unknown delivery tag 99", "ack of an unknown tag")
	// The channel error releases the channel's unacked message.
	bWaitReady(t, env, q, 1, "after the channel error")
	bExpectRequeued(t, env, q, 1, "1")
}

func basicAckTwice(t T, env *Env) {
	q := bQueue(t, env, "basic.ack2")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	bPublish(t, env, q, "1")
	d := bGet(t, ch, q, false, "get")
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	bExpectClose(t, closes, 406, fmt.Sprintf("PRECONDITION_FAILED - unknown delivery tag %d", d.DeliveryTag), "second ack of one tag")
	bExpectReady(t, env, q, 0, "after the first ack")
}

func basicNackMultipleDrop(t T, env *Env) {
	q := bQueue(t, env, "basic.nackdrop")
	_, ch := env.Channel(t)
	bPublish(t, env, q, bNums(4)...)
	var last amqp091.Delivery
	for i := 0; i < 3; i++ {
		last = bGet(t, ch, q, false, "get")
	}
	if err := ch.Nack(last.DeliveryTag, true, false); err != nil {
		t.Fatalf("basic.nack: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bWaitReady(t, env, q, 1, "after nack multiple without requeue")
	bStayReady(t, env, q, 1, "after nack multiple without requeue")
	_, ch2 := env.Channel(t)
	if d := bGet(t, ch2, q, true, "the remaining message"); string(d.Body) != "4" || d.Redelivered {
		t.Fatalf("got %q redelivered=%v, want 4 redelivered=false", d.Body, d.Redelivered)
	}
}

func basicRejectDrop(t T, env *Env) {
	q := bQueue(t, env, "basic.rejdrop")
	_, ch := env.Channel(t)
	bPublish(t, env, q, "1")
	d := bGet(t, ch, q, false, "get")
	if err := d.Reject(false); err != nil {
		t.Fatalf("basic.reject: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after reject without requeue and channel.close")
}

func basicGetCounts(t T, env *Env) {
	q := bQueue(t, env, "basic.get")
	_, ch := env.Channel(t)
	bGetEmpty(t, ch, q, "empty queue")
	bPublish(t, env, q, "1", "2", "3")
	for i := 1; i <= 3; i++ {
		d := bGet(t, ch, q, false, fmt.Sprint("get ", i))
		if string(d.Body) != fmt.Sprint(i) || d.MessageCount != uint32(3-i) || d.DeliveryTag != uint64(i) ||
			d.Redelivered || d.Exchange != "" || d.RoutingKey != q {
			t.Fatalf("get %d: body %q message-count %d tag %d redelivered %v exchange %q key %q; want %d %d %d false \"\" %q",
				i, d.Body, d.MessageCount, d.DeliveryTag, d.Redelivered, d.Exchange, d.RoutingKey, i, 3-i, i, q)
		}
	}
	bGetEmpty(t, ch, q, "after three gets")
	if err := ch.Ack(3, true); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after ack and channel.close")
}

func basicGetNoAck(t T, env *Env) {
	q := bQueue(t, env, "basic.getnoack")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	bPublish(t, env, q, "1")
	d := bGet(t, ch, q, true, "get no-ack")
	if string(d.Body) != "1" {
		t.Fatalf("got %q, want 1", d.Body)
	}
	bExpectReady(t, env, q, 0, "after get no-ack")
	// A no-ack delivery is not outstanding: acking it is an unknown tag.
	if err := ch.Ack(d.DeliveryTag, false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	bExpectClose(t, closes, 406, fmt.Sprintf("PRECONDITION_FAILED - unknown delivery tag %d", d.DeliveryTag), "ack of a no-ack delivery")
	bExpectReady(t, env, q, 0, "after the channel closed")
}

func basicGetMissingQueue(t T, env *Env) {
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	q := Name("basic.noq")
	_, _, err := ch.Get(q, false)
	ExpectCode(t, err, 404, "get from a missing queue")
	bExpectClose(t, closes, 404, fmt.Sprintf("NOT_FOUND - no queue '%s' in vhost '%s'", q, bVhost(t, env)), "get from a missing queue")
}

func basicRecover(t T, env *Env) {
	q := bQueue(t, env, "basic.recover")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", false)
	bPublish(t, env, q, "1", "2")
	first := bRecvN(t, ds, 2, "first deliveries")
	if err := first[0].Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	//lint:ignore SA1019 basic.recover is the protocol method under test
	if err := ch.Recover(true); err != nil {
		t.Fatalf("basic.recover requeue=true: %v", err)
	}
	d := bRecv(t, ds, "after recover")
	if string(d.Body) != "2" || !d.Redelivered || d.DeliveryTag <= first[1].DeliveryTag {
		t.Fatalf("got %q redelivered=%v tag %d, want 2 redelivered=true with a new tag > %d",
			d.Body, d.Redelivered, d.DeliveryTag, first[1].DeliveryTag)
	}
	bNoDelivery(t, ds, "after the one recovered message")
	if err := d.Ack(false); err != nil {
		t.Fatalf("basic.ack: %v", err)
	}
	if err := ch.Cancel("c", false); err != nil {
		t.Fatalf("basic.cancel: %v", err)
	}
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after ack of the recovered message and channel.close")
}

func basicRecoverNoRequeue(t T, env *Env) {
	c, ch := env.Channel(t)
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	//lint:ignore SA1019 basic.recover is the protocol method under test
	if err := ch.Recover(false); err == nil {
		t.Fatalf("basic.recover requeue=false succeeded")
	}
	bExpectClose(t, closes, 540, "NOT_IMPLEMENTED - requeue=false", "basic.recover requeue=false")
}

func basicNoAckConsumer(t T, env *Env) {
	q := bQueue(t, env, "basic.noack")
	_, ch := env.Channel(t)
	ds := bConsume(t, ch, q, "c", true)
	bPublish(t, env, q, "1", "2", "3")
	if b := bBodies(bRecvN(t, ds, 3, "no-ack deliveries")); strings.Join(b, ",") != "1,2,3" {
		t.Fatalf("got %v, want [1 2 3]", b)
	}
	bExpectReady(t, env, q, 0, "after no-ack deliveries")
	if err := ch.Close(); err != nil {
		t.Fatalf("channel.close: %v", err)
	}
	bStayReady(t, env, q, 0, "after channel.close")
}

func basicPublishAmqDefault(t T, env *Env) {
	q := bQueue(t, env, "basic.amqdefault")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	// RabbitMQ 3.x: the default exchange is only reachable as "", not by the
	// name "amq.default" it shows in listings.
	if err := ch.Publish("amq.default", q, false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 404, fmt.Sprintf("NOT_FOUND - no exchange 'amq.default' in vhost '%s'", bVhost(t, env)), "publish to amq.default")
	bExpectReady(t, env, q, 0, "after publish to amq.default")
}

func basicPublishInternal(t T, env *Env) {
	x := Name("basic.internal")
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.ExchangeDeclare(x, "direct", false, true, true, false, nil); err != nil {
		t.Fatalf("exchange.declare internal: %v", err)
	}
	t.Cleanup(func() {
		if c, err := bDialRaw(env); err == nil {
			if ch, err := c.Channel(); err == nil {
				_ = ch.ExchangeDelete(x, false, false)
			}
			_ = c.Close()
		}
	})
	if err := ch.Publish(x, "k", false, false, amqp091.Publishing{Body: []byte("x")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	bExpectClose(t, closes, 403, fmt.Sprintf("ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '%s'", x, bVhost(t, env)), "publish to an internal exchange")
}

func basicPublishBadExpiration(t T, env *Env) {
	q := bQueue(t, env, "basic.badexp")
	c := env.Dial(t)
	// RabbitMQ appends an Erlang reason (": no_integer",
	// ": {value_negative,-1}"), so only the prefix is checked.
	for _, exp := range []string{"abc", "-1"} {
		ch := bChannel(t, c)
		closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
		if err := ch.Publish("", q, false, false, amqp091.Publishing{Expiration: exp, Body: []byte("x")}); err != nil {
			t.Fatalf("basic.publish: %v", err)
		}
		bExpectClose(t, closes, 406, fmt.Sprintf("PRECONDITION_FAILED - invalid expiration '%s'*", exp), "publish with expiration "+exp)
	}
	bExpectReady(t, env, q, 0, "after rejected publishes")
}

func basicQosBoth(t T, env *Env) {
	q := bQueue(t, env, "basic.qosboth")
	_, ch := env.Channel(t)
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	if err := ch.Qos(3, 0, true); err != nil {
		t.Fatalf("basic.qos global: %v", err)
	}
	a := bConsume(t, ch, q, "a", false)
	b := bConsume(t, ch, q, "b", false)
	bPublish(t, env, q, bNums(10)...)
	na, nb := 0, 0
	deadline := time.After(Timeout)
	for na+nb < 3 {
		select {
		case <-a:
			na++
		case <-b:
			nb++
		case <-deadline:
			t.Fatalf("%d+%d deliveries within %v, want 3", na, nb, Timeout)
		}
	}
	bNoDelivery(t, a, "consumer a beyond the global limit")
	bNoDelivery(t, b, "consumer b beyond the global limit")
	if na > 2 || nb > 2 {
		t.Fatalf("consumers got %d and %d, want at most 2 each (per-consumer limit)", na, nb)
	}
}

func basicQosNewConsumers(t T, env *Env) {
	q1 := bQueue(t, env, "basic.qosnew1")
	q2 := bQueue(t, env, "basic.qosnew2")
	_, ch := env.Channel(t)
	if err := ch.Qos(1, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	a := bConsume(t, ch, q1, "a", false)
	if err := ch.Qos(3, 0, false); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	b := bConsume(t, ch, q2, "b", false)
	bPublish(t, env, q1, bNums(5)...)
	bPublish(t, env, q2, bNums(5)...)
	bRecvN(t, a, 1, "consumer created under prefetch 1")
	bRecvN(t, b, 3, "consumer created under prefetch 3")
	bNoDelivery(t, a, "consumer a keeps prefetch 1 after basic.qos 3")
	bNoDelivery(t, b, "consumer b beyond prefetch 3")
}

func basicGetIgnoresPrefetch(t T, env *Env) {
	q := bQueue(t, env, "basic.getqos")
	_, ch := env.Channel(t)
	if err := ch.Qos(1, 0, true); err != nil {
		t.Fatalf("basic.qos: %v", err)
	}
	bPublish(t, env, q, "1", "2", "3")
	for i := 1; i <= 3; i++ {
		bGet(t, ch, q, false, fmt.Sprintf("get %d with prefetch 1", i))
	}
}

func basicOtherExclusiveQueue(t T, env *Env) {
	_, owner := env.Channel(t)
	st, err := owner.QueueDeclare(Name("basic.exclq"), false, false, true, false, nil)
	if err != nil {
		t.Fatalf("exclusive queue.declare: %v", err)
	}
	want := fmt.Sprintf("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost '%s'. "+
		"It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
		st.Name, bVhost(t, env))
	_, ch := env.Channel(t)
	closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
	_, err = ch.Consume(st.Name, "c", false, false, false, false, nil)
	ExpectCode(t, err, 405, "consume from another connection's exclusive queue")
	bExpectClose(t, closes, 405, want, "consume from another connection's exclusive queue")
	_, ch = env.Channel(t)
	closes = ch.NotifyClose(make(chan *amqp091.Error, 1))
	_, _, err = ch.Get(st.Name, false)
	ExpectCode(t, err, 405, "get from another connection's exclusive queue")
	bExpectClose(t, closes, 405, want, "get from another connection's exclusive queue")
	// The owner can still consume.
	bConsume(t, owner, st.Name, "owner", false)
}

func basicNoLocalIgnored(t T, env *Env) {
	q := bQueue(t, env, "basic.nolocal")
	_, ch := env.Channel(t)
	ds, err := ch.Consume(q, "c", true, false, true, false, nil)
	if err != nil {
		t.Fatalf("basic.consume no-local: %v", err)
	}
	// RabbitMQ does not implement no-local: the connection's own publish is
	// delivered to it.
	if err := ch.Publish("", q, false, false, amqp091.Publishing{Body: []byte("own")}); err != nil {
		t.Fatalf("basic.publish: %v", err)
	}
	if d := bRecv(t, ds, "own message with no-local"); string(d.Body) != "own" {
		t.Fatalf("got %q, want own", d.Body)
	}
}

func basicUnknownTags(t T, env *Env) {
	q := bQueue(t, env, "basic.unktags")
	c := env.Dial(t)
	bPublish(t, env, q, "1")
	for _, tc := range []struct {
		what string
		tag  uint64
		op   func(ch *amqp091.Channel) error
	}{
		{"ack 0 without multiple", 0, func(ch *amqp091.Channel) error { return ch.Ack(0, false) }},
		{"reject of an unknown tag", 5, func(ch *amqp091.Channel) error { return ch.Reject(5, false) }},
		{"nack multiple of an unknown tag", 5, func(ch *amqp091.Channel) error { return ch.Nack(5, true, true) }},
	} {
		ch := bChannel(t, c)
		closes := ch.NotifyClose(make(chan *amqp091.Error, 1))
		bGet(t, ch, q, false, tc.what+": get")
		if err := tc.op(ch); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		bExpectClose(t, closes, 406, fmt.Sprintf("PRECONDITION_FAILED - unknown delivery tag %d", tc.tag), tc.what)
		bWaitReady(t, env, q, 1, tc.what+": message released by the channel error")
	}
}
