package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/broker/queue"
)

// Definitions are stored as AMQP field tables: our codec already
// round-trips every argument type byte for byte, so a durable queue's
// x-arguments come back exactly as declared.

func encodeTable(t amqp.Table) []byte { return amqp.AppendTable(nil, t) }

func decodeTable(b []byte) (amqp.Table, error) {
	t, n, err := amqp.DecodeTable(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, errors.New("trailing bytes after definition record")
	}
	return t, nil
}

func tableString(t amqp.Table, k string) string {
	v, _ := t.Get(k)
	s, _ := v.(string)
	return s
}

func tableBool(t amqp.Table, k string) bool {
	v, _ := t.Get(k)
	b, _ := v.(bool)
	return b
}

func tableTable(t amqp.Table, k string) amqp.Table {
	v, _ := t.Get(k)
	tt, _ := v.(amqp.Table)
	return tt
}

func tableUint(t amqp.Table, k string) uint64 {
	v, _ := t.Get(k)
	n, _ := v.(int64)
	return uint64(n)
}

func exchangeRecord(x *Exchange) []byte {
	t := amqp.Table{
		{Key: "type", Value: x.Kind},
		{Key: "durable", Value: x.Durable},
		{Key: "auto_delete", Value: x.AutoDelete},
		{Key: "internal", Value: x.Internal},
		{Key: "arguments", Value: nonNil(x.Args)},
	}
	if x.delay != nil && x.delay.id != 0 {
		t = append(t, amqp.Field{Key: "delay_id", Value: int64(x.delay.id)})
	}
	return encodeTable(t)
}

func queueRecord(q *Queue) []byte {
	return encodeTable(amqp.Table{
		{Key: "id", Value: int64(q.id)},
		{Key: "durable", Value: q.Durable},
		{Key: "auto_delete", Value: q.AutoDelete},
		{Key: "arguments", Value: nonNil(q.Args)},
	})
}

func nonNil(t amqp.Table) amqp.Table {
	if t == nil {
		return amqp.Table{}
	}
	return t
}

// bindingKey identifies a binding in the store: vhost, source, destination
// kind ("q" or "x") and name, routing key, and the arguments encoded with
// their top-level keys sorted, so that equal bindings share one key.
func bindingKey(vhost, source string, d dest, key string, args amqp.Table) []string {
	kind, name := "q", ""
	if d.x != nil {
		kind, name = "x", d.x.Name
	} else {
		name = d.q.name
	}
	sorted := append(amqp.Table(nil), args...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	return []string{vhost, source, kind, name, key, string(encodeTable(sorted))}
}

// Message records: a version octet, then (version 2) the expiry deadline
// and arrival time, so that a recovered or paged-in message keeps its TTL:
//
//	[longlong expires-at | longlong arrived-at]  (v2 only, Unix ns, 0 = none)
//	shortstr exchange | shortstr routing-key | long props-len | props | body
const (
	messageRecordV1 = 1
	messageRecordV2 = 2
)

func messageRecord(m *queue.Message) []byte {
	b := make([]byte, 0, messageHeadLen(m)+len(m.Body))
	return append(appendMessageHead(b, m), m.Body...)
}

// messageHeadLen is the length of a record without its body.
func messageHeadLen(m *queue.Message) int {
	return 1 + 16 + 2 + len(m.Exchange) + len(m.RoutingKey) + 4 + len(m.Props)
}

// appendMessageHead appends a message record up to its body, which follows
// it: the spool takes the two parts without joining them first.
func appendMessageHead(b []byte, m *queue.Message) []byte {
	if m.ExpiresAt == 0 && m.ArrivedAt == 0 {
		b = append(b, messageRecordV1)
	} else {
		b = append(b, messageRecordV2)
		b = binary.BigEndian.AppendUint64(b, uint64(m.ExpiresAt))
		b = binary.BigEndian.AppendUint64(b, uint64(m.ArrivedAt))
	}
	b = append(b, byte(len(m.Exchange)))
	b = append(b, m.Exchange...)
	b = append(b, byte(len(m.RoutingKey)))
	b = append(b, m.RoutingKey...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Props)))
	return append(b, m.Props...)
}

// decodeMessage copies what it keeps: rec is only valid during the
// store's callback.
func decodeMessage(rec []byte) (*queue.Message, error) {
	bad := fmt.Errorf("corrupt message record of %d bytes", len(rec))
	expires, arrived, off, ok := recordHeader(rec)
	if !ok {
		return nil, bad
	}
	str := func() (string, bool) {
		if off >= len(rec) || off+1+int(rec[off]) > len(rec) {
			return "", false
		}
		n := int(rec[off])
		s := string(rec[off+1 : off+1+n])
		off += 1 + n
		return s, true
	}
	ex, ok1 := str()
	rk, ok2 := str()
	if !ok1 || !ok2 || off+4 > len(rec) {
		return nil, bad
	}
	pl := int(binary.BigEndian.Uint32(rec[off:]))
	off += 4
	if pl > len(rec)-off {
		return nil, bad
	}
	// One allocation for both, as a published message has.
	buf := append([]byte(nil), rec[off:]...)
	props, body := buf[:pl:pl], buf[pl:]
	mode, prio := amqp.PeekProperties(props)
	return &queue.Message{Exchange: ex, RoutingKey: rk, Props: props, Body: body,
		Persistent: mode == 2, Priority: prio, ExpiresAt: expires, ArrivedAt: arrived}, nil
}

// recordHeader reads a message record's version and, for version 2, its
// times; off is where the exchange name starts.
func recordHeader(rec []byte) (expires, arrived int64, off int, ok bool) {
	if len(rec) < 1 {
		return 0, 0, 0, false
	}
	switch rec[0] {
	case messageRecordV1:
		return 0, 0, 1, true
	case messageRecordV2:
		if len(rec) < 17 {
			return 0, 0, 0, false
		}
		return int64(binary.BigEndian.Uint64(rec[1:])), int64(binary.BigEndian.Uint64(rec[9:])), 17, true
	}
	return 0, 0, 0, false
}

// peekMessage reads a record's persistence and body size without copying
// it: recovery of a long queue decodes only what it keeps in memory.
func peekMessage(rec []byte) (persistent bool, bodySize int, ok bool) {
	_, _, off, ok := recordHeader(rec)
	if !ok {
		return false, 0, false
	}
	for range 2 { // exchange, routing key
		if off >= len(rec) {
			return false, 0, false
		}
		off += 1 + int(rec[off])
	}
	if off+4 > len(rec) {
		return false, 0, false
	}
	pl := int(binary.BigEndian.Uint32(rec[off:]))
	off += 4
	if pl > len(rec)-off {
		return false, 0, false
	}
	mode, _ := amqp.PeekProperties(rec[off : off+pl])
	return mode == 2, len(rec) - off - pl, true
}
