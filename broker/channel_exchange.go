package broker

import (
	"errors"
	"strings"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/exchange"
)

const classExchange = amqp.ClassExchange

func (ch *channel) exchangeDeclare(m *amqp.ExchangeDeclare) error {
	v := ch.c.vhost
	if m.Exchange == "" {
		return errDefaultExchange(10)
	}
	if m.Passive {
		if v.exchange(m.Exchange) == nil {
			return amqp.NewError(amqp.NotFound, classExchange, 10, "no exchange '%s' in vhost '%s'", m.Exchange, v.name)
		}
		if !m.NoWait {
			ch.c.reply(ch.id, &amqp.ExchangeDeclareOk{})
		}
		return nil
	}
	// RabbitMQ checks the type first, then the name.
	router, hashHeader, hashProperty, err := newRouter(m.Type, m.Arguments)
	var iae *exchange.InvalidArgumentError
	switch {
	case errors.Is(err, errDelayedType):
		return amqp.NewError(amqp.PreconditionFailed, classExchange, 10, "%s", delayedTypeText)
	case errors.Is(err, errUnknownExchangeType):
		return amqp.NewError(amqp.CommandInvalid, classExchange, 10, "unknown exchange type '%s'", m.Type)
	case errors.As(err, &iae):
		return &amqp.Error{Code: amqp.PreconditionFailed, Text: "PRECONDITION_FAILED - " + iae.Text, ClassID: classExchange, MethodID: 10}
	case err != nil:
		return amqp.NewError(amqp.PreconditionFailed, classExchange, 10, "%v", err)
	}
	if err := validateExchangeArgs(m.Arguments, m.Exchange, v.name); err != nil {
		return err
	}
	v.mu.Lock()
	x := v.exchanges[m.Exchange]
	if x == nil {
		if strings.HasPrefix(m.Exchange, "amq.") {
			v.mu.Unlock()
			return amqp.NewError(amqp.AccessRefused, classExchange, 10,
				"exchange name '%s' contains reserved prefix 'amq.*'", m.Exchange)
		}
		x = &Exchange{Name: m.Exchange, Kind: m.Type, Durable: m.Durable, AutoDelete: m.AutoDelete,
			Internal: m.Internal, Args: m.Arguments, router: router, alternate: alternateOf(m.Arguments),
			hashHeader: hashHeader, hashProperty: hashProperty}
		if m.Type == kindDelayed {
			x.delay = &delayer{x: x, v: v}
			if m.Durable && v.s.store != nil {
				x.delay.id = v.s.nextQID.Add(1)
			}
		}
		if err := v.persistExchange(x); err != nil {
			v.mu.Unlock()
			return err
		}
		v.exchanges[m.Exchange] = x
	}
	v.mu.Unlock()
	if err := x.equivalent(m, v.name); err != nil {
		return err
	}
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.ExchangeDeclareOk{})
	}
	return nil
}

// equivalent checks a redeclaration as rabbit_exchange:assert_equivalence
// does: type, durable, auto-delete, internal, and the alternate-exchange
// argument.
func (x *Exchange) equivalent(m *amqp.ExchangeDeclare, vhost string) error {
	diff := func(field, received, current string) error {
		return amqp.NewError(amqp.PreconditionFailed, classExchange, 10,
			"inequivalent arg '%s' for exchange '%s' in vhost '%s': received '%s' but current is '%s'",
			field, x.Name, vhost, received, current)
	}
	switch {
	case m.Type != x.Kind:
		return diff("type", m.Type, x.Kind)
	case m.Durable != x.Durable:
		return diff("durable", boolText(m.Durable), boolText(x.Durable))
	case m.AutoDelete != x.AutoDelete:
		return diff("auto_delete", boolText(m.AutoDelete), boolText(x.AutoDelete))
	case m.Internal != x.Internal:
		return diff("internal", boolText(m.Internal), boolText(x.Internal))
	}
	return argsEquivalent(m.Arguments, x.Args, []string{"alternate-exchange"}, "exchange", x.Name, vhost, classExchange, 10)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func errDefaultExchange(method uint16) error {
	return amqp.NewError(amqp.AccessRefused, classExchange, method, "operation not permitted on the default exchange")
}

func (ch *channel) exchangeDelete(m *amqp.ExchangeDelete) error {
	v := ch.c.vhost
	if m.Exchange == "" {
		return errDefaultExchange(20)
	}
	if strings.HasPrefix(m.Exchange, "amq.") && isBuiltin(m.Exchange) {
		return amqp.NewError(amqp.AccessRefused, classExchange, 20,
			"deletion of system exchange '%s' in vhost '%s' not allowed", m.Exchange, v.name)
	}
	v.mu.Lock()
	x := v.exchanges[m.Exchange]
	if x != nil {
		if m.IfUnused && x.router.Len() > 0 {
			v.mu.Unlock()
			return amqp.NewError(amqp.PreconditionFailed, classExchange, 20,
				"exchange '%s' in vhost '%s' in use", m.Exchange, v.name)
		}
		v.deleteExchangeLocked(x)
	}
	v.mu.Unlock()
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.ExchangeDeleteOk{})
	}
	return nil
}

func isBuiltin(name string) bool {
	for _, b := range builtinExchanges {
		if b.name == name {
			return true
		}
	}
	return false
}

func (ch *channel) exchangeBind(m *amqp.ExchangeBind) error {
	src, dst, err := ch.exchangePair(m.Source, m.Destination, 30)
	if err != nil {
		return err
	}
	if err := exchange.ValidateBindingKey(src.Kind, m.RoutingKey, m.Arguments); err != nil {
		return bindingError(err, classExchange, 30)
	}
	v := ch.c.vhost
	v.mu.Lock()
	b := exchange.Binding[dest]{Key: m.RoutingKey, Dest: dest{x: dst}, Args: m.Arguments}
	if src.router.Bind(b) {
		if err := v.persistBinding(src, b.Dest, b.Key, b.Args); err != nil {
			src.router.Unbind(b)
			v.mu.Unlock()
			return err
		}
	}
	v.mu.Unlock()
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.ExchangeBindOk{})
	}
	return nil
}

func (ch *channel) exchangeUnbind(m *amqp.ExchangeUnbind) error {
	src, dst, err := ch.exchangePair(m.Source, m.Destination, 40)
	if err != nil {
		return err
	}
	v := ch.c.vhost
	v.mu.Lock()
	b := exchange.Binding[dest]{Key: m.RoutingKey, Dest: dest{x: dst}, Args: m.Arguments}
	if src.router.Unbind(b) {
		v.forgetBinding(src, b.Dest, b.Key, b.Args)
		if src.AutoDelete && src.router.Len() == 0 {
			v.deleteExchangeLocked(src)
		}
	}
	v.mu.Unlock()
	if !m.NoWait {
		ch.c.reply(ch.id, &amqp.ExchangeUnbindOk{})
	}
	return nil
}

func (ch *channel) exchangePair(source, destination string, method uint16) (*Exchange, *Exchange, error) {
	if source == "" || destination == "" {
		return nil, nil, errDefaultExchange(method)
	}
	v := ch.c.vhost
	dst := v.exchange(destination)
	if dst == nil {
		return nil, nil, amqp.NewError(amqp.NotFound, classExchange, method, "no exchange '%s' in vhost '%s'", destination, v.name)
	}
	src := v.exchange(source)
	if src == nil {
		return nil, nil, amqp.NewError(amqp.NotFound, classExchange, method, "no exchange '%s' in vhost '%s'", source, v.name)
	}
	return src, dst, nil
}

// alternateOf reads the alternate-exchange argument.
func alternateOf(args amqp.Table) string {
	v, _ := args.Get("alternate-exchange")
	s, _ := v.(string)
	return s
}
