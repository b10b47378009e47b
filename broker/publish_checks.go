package broker

import (
	"encoding/binary"
	"strconv"

	"github.com/warrenmq/warren/amqp"
)

// checkProperties applies RabbitMQ's publish-time property rules. Most
// messages set neither user-id nor expiration, so the properties are
// decoded only when one of their flags is set.
//
// It returns the per-message TTL in milliseconds, or -1 for none.
func (ch *channel) checkProperties(props []byte) (int64, error) {
	if len(props) < 2 {
		return -1, nil
	}
	flags := binary.BigEndian.Uint16(props)
	if flags&(amqp.FlagUserID|amqp.FlagExpiration) == 0 {
		return -1, nil
	}
	var p amqp.Properties
	if _, err := amqp.DecodeProperties(props, &p); err != nil {
		return -1, err
	}
	// Validated user-id: a message may not claim another sender.
	if p.Flags&amqp.FlagUserID != 0 && p.UserID != ch.c.user.Name {
		return -1, amqp.NewError(amqp.PreconditionFailed, classBasic, 40,
			"user_id property set to '%s' but authenticated user was '%s'", p.UserID, ch.c.user.Name)
	}
	ttl := int64(-1)
	if p.Flags&amqp.FlagExpiration != 0 && p.Expiration != "" {
		ms, reason := parseExpiration(p.Expiration)
		if reason != "" {
			return -1, amqp.NewError(amqp.PreconditionFailed, classBasic, 40, "invalid expiration '%s': %s", p.Expiration, reason)
		}
		ttl = ms
	}
	return ttl, nil
}

// parseExpiration parses the expiration property as RabbitMQ does
// (Erlang's string:to_integer): a signed decimal, non-negative, with
// nothing after it. reason is RabbitMQ's error term, or "".
func parseExpiration(s string) (ms int64, reason string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, "no_integer"
	}
	n, err := strconv.ParseInt(s[:j], 10, 64)
	if err != nil {
		return 0, "no_integer"
	}
	if j < len(s) {
		return 0, "{leftover_string,\"" + s[j:] + "\"}"
	}
	if n < 0 {
		return 0, "{value_negative," + strconv.FormatInt(n, 10) + "}"
	}
	if n > maxTTL {
		return 0, "{value_too_large," + strconv.FormatInt(n, 10) + "}"
	}
	return n, ""
}
