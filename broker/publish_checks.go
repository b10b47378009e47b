package broker

import (
	"encoding/binary"
	"strconv"

	"github.com/warrenmq/warren/amqp"
)

// checkProperties applies RabbitMQ's publish-time property rules. Most
// messages set neither user-id nor expiration, so the properties are
// decoded only when one of their flags is set.
func (ch *channel) checkProperties(props []byte) error {
	if len(props) < 2 {
		return nil
	}
	flags := binary.BigEndian.Uint16(props)
	if flags&(amqp.FlagUserID|amqp.FlagExpiration) == 0 {
		return nil
	}
	var p amqp.Properties
	if _, err := amqp.DecodeProperties(props, &p); err != nil {
		return err
	}
	// Validated user-id: a message may not claim another sender.
	if p.Flags&amqp.FlagUserID != 0 && p.UserID != ch.c.user.Name {
		return amqp.NewError(amqp.PreconditionFailed, classBasic, 40,
			"user_id property set to '%s' but authenticated user was '%s'", p.UserID, ch.c.user.Name)
	}
	if p.Flags&amqp.FlagExpiration != 0 {
		if _, reason := parseExpiration(p.Expiration); reason != "" {
			return amqp.NewError(amqp.PreconditionFailed, classBasic, 40, "invalid expiration '%s': %s", p.Expiration, reason)
		}
	}
	return nil
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
