package broker

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/warrenmq/warren/amqp"
)

// replyToName is RabbitMQ's direct reply-to pseudo queue.
const replyToName = "amq.rabbitmq.reply-to"

var (
	ccMarker      = []byte("\x02CC")
	bccMarker     = []byte("\x03BCC")
	replyToMarker = []byte(replyToName)
)

// rewriteProperties applies the publish-time features that read or change
// the properties: sender-selected distribution (the CC and BCC headers add
// routing keys; BCC is removed before delivery) and direct reply-to
// (reply_to amq.rabbitmq.reply-to becomes this channel's reply address).
// A cheap byte scan keeps the common message from being decoded at all.
// It returns the extra routing keys (nil: just the publish key) and the
// properties to deliver.
func (ch *channel) rewriteProperties(props []byte, key string) ([]string, []byte, error) {
	if len(props) < 2 {
		return nil, props, nil
	}
	flags := binary.BigEndian.Uint16(props)
	headers := flags&amqp.FlagHeaders != 0 && (bytes.Contains(props, ccMarker) || bytes.Contains(props, bccMarker))
	replyTo := flags&amqp.FlagReplyTo != 0 && bytes.Contains(props, replyToMarker)
	if !headers && !replyTo {
		return nil, props, nil
	}
	var p amqp.Properties
	if _, err := amqp.DecodeProperties(props, &p); err != nil {
		return nil, nil, err
	}
	changed := false
	var keys []string
	if headers {
		for _, name := range []string{"CC", "BCC"} {
			v, ok := p.Headers.Get(name)
			if !ok {
				continue
			}
			arr, isArr := v.([]any)
			if !isArr {
				return nil, nil, amqp.NewError(amqp.PreconditionFailed, classBasic, 40,
					"invalid message: {unacceptable_type_in_header,\"%s\",%s}", name, fieldTypeName(v))
			}
			if keys == nil {
				keys = []string{key}
			}
			for _, k := range arr {
				if s, ok := k.(string); ok {
					keys = append(keys, s)
				}
			}
		}
		if p.Headers.Has("BCC") {
			p.Headers = p.Headers.Delete("BCC")
			changed = true
		}
	}
	if replyTo && p.ReplyTo == replyToName {
		token := ch.replyToken()
		if token == "" {
			return nil, nil, amqp.NewError(amqp.PreconditionFailed, classBasic, 40, "fast reply consumer does not exist")
		}
		p.ReplyTo = replyToName + "." + token
		changed = true
	}
	if !changed {
		return keys, props, nil
	}
	return keys, amqp.AppendProperties(nil, &p), nil
}

// isReplyAddress reports whether key addresses a direct reply-to consumer.
func isReplyAddress(key string) (token string, ok bool) {
	return strings.CutPrefix(key, replyToName+".")
}
