package perf

import (
	"errors"
	"fmt"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Client modes. Both brokers of a comparison must be driven in the same
// mode, so the mode is part of every report.
const (
	// ClientPipelined speaks AMQP with Warren's own codec over a raw
	// socket: many publishes per write, deliveries parsed without
	// allocation, acks coalesced into one write per read batch.
	ClientPipelined = "pipelined"
	// ClientAMQP091 uses github.com/rabbitmq/amqp091-go, one write system
	// call per publish: what a typical Go application gets.
	ClientAMQP091 = "amqp091"
)

// Config is one run. The zero value is not usable: start from
// DefaultConfig.
type Config struct {
	URI string `json:"uri"`

	Producers int `json:"producers"`
	Consumers int `json:"consumers"`

	// Queues is the number of queues. Producer p publishes to queue
	// p mod Queues (all queues with a fanout exchange); consumer c
	// consumes from queue c mod Queues.
	Queues int `json:"queues"`
	// QueueName names the one queue; QueuePattern names queues with one
	// %d, numbered from 1 as PerfTest does. When neither is set the
	// queues get fresh names and are deleted at the end of the run; named
	// queues are kept.
	QueueName    string `json:"queue_name,omitempty"`
	QueuePattern string `json:"queue_pattern,omitempty"`
	// Predeclared skips declaring exchanges, queues and bindings; the
	// queues must exist.
	Predeclared bool `json:"predeclared"`
	// Exchange is the exchange published to. Unless ExchangeSet, it is
	// "warren-perf-<type>", or the default exchange ("") when Predeclared.
	Exchange    string `json:"exchange"`
	ExchangeSet bool   `json:"-"`
	// Type is the exchange type: direct, fanout or topic.
	Type string `json:"type"`
	// DurableQueues declares the queues durable.
	DurableQueues bool `json:"durable_queues"`
	// Purge purges the queues before the run.
	Purge bool `json:"purge"`

	// Size is the body size in bytes, at least StampSize.
	Size int `json:"size"`
	// Rate is each producer's rate in messages per second; 0 is as fast
	// as possible.
	Rate float64 `json:"rate"`
	// Duration bounds the run; 0 runs until the message counts are
	// reached or the context is cancelled.
	Duration time.Duration `json:"duration_ns"`
	// PMessages and CMessages stop each producer and consumer after that
	// many messages; 0 is no limit.
	PMessages uint64 `json:"pmessages"`
	CMessages uint64 `json:"cmessages"`
	// Persistent publishes with delivery-mode 2.
	Persistent bool `json:"persistent"`
	// Confirm is the publisher-confirm window: at most that many
	// unconfirmed publishes per producer. 0 is no confirms.
	Confirm int `json:"confirm"`
	// AutoAck consumes with no-ack; otherwise consumers ack manually.
	AutoAck bool `json:"auto_ack"`
	// Prefetch is basic.qos prefetch-count for manual-ack consumers; 0 is
	// unlimited.
	Prefetch int `json:"prefetch"`
	// MultiAck acks with multiple=true every MultiAck messages; 0 acks
	// each message on its own. It is lowered to Prefetch when larger, or
	// the consumer would stall.
	MultiAck int `json:"multi_ack"`

	// Client is ClientPipelined or ClientAMQP091.
	Client string `json:"client"`
	// IdleConnections opens that many connections with one channel each
	// and holds them for the run.
	IdleConnections int `json:"idle_connections"`

	// DrainIdle and DrainTimeout bound the drain phase that follows the
	// producers' stop: it ends when every expected message has arrived,
	// when nothing arrived for DrainIdle (then the queues are checked for
	// emptiness), or after DrainTimeout.
	DrainIdle    time.Duration `json:"drain_idle_ns"`
	DrainTimeout time.Duration `json:"drain_timeout_ns"`

	// WriteBuffer is the pipelined publisher's write size in bytes.
	WriteBuffer int `json:"write_buffer"`

	// Sink runs the clients against an in-process sink that completes
	// the handshake, discards what producers send and streams 16-byte
	// deliveries to consumers, to measure the client alone. Nothing is
	// accounted for: the sink stores nothing.
	Sink bool `json:"sink"`
}

// DefaultConfig is one producer and one consumer on one queue of a direct
// exchange, 16-byte transient messages, unlimited rate, pipelined client.
func DefaultConfig() Config {
	return Config{
		URI:          "amqp://guest:guest@127.0.0.1:5672/",
		Producers:    1,
		Consumers:    1,
		Queues:       1,
		Type:         "direct",
		Size:         StampSize,
		Client:       ClientPipelined,
		DrainIdle:    3 * time.Second,
		DrainTimeout: 60 * time.Second,
		WriteBuffer:  128 << 10,
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Producers < 0 || c.Producers > MaxProducers {
		bad("producers must be 0…%d, not %d", MaxProducers, c.Producers)
	}
	if c.Consumers < 0 {
		bad("consumers must not be negative")
	}
	if c.IdleConnections < 0 {
		bad("idle-connections must not be negative")
	}
	if c.Producers == 0 && c.Consumers == 0 && c.IdleConnections == 0 {
		bad("nothing to do: no producers, consumers or idle connections")
	}
	if c.Queues < 1 {
		bad("queues must be at least 1, not %d", c.Queues)
	}
	if c.QueueName != "" && c.QueuePattern != "" {
		bad("queue-name and queue-pattern are exclusive")
	}
	if c.QueueName != "" && c.Queues != 1 {
		bad("queue-name names one queue; use queue-pattern for %d", c.Queues)
	}
	if c.QueuePattern != "" && strings.Count(c.QueuePattern, "%d") != 1 {
		bad("queue-pattern %q must hold exactly one %%d", c.QueuePattern)
	}
	if c.Predeclared && c.QueueName == "" && c.QueuePattern == "" && !c.Sink {
		bad("predeclared needs queue-name or queue-pattern")
	}
	switch c.Type {
	case "direct", "fanout", "topic":
	default:
		bad("type must be direct, fanout or topic, not %q", c.Type)
	}
	if c.ExchangeSet && c.Exchange == "" && c.Type != "direct" {
		bad("the default exchange is direct; type %s needs an exchange name", c.Type)
	}
	if c.Size < StampSize || c.Size > 128<<20 {
		bad("size must be %d…%d bytes, not %d (every body carries a %d-byte stamp)", StampSize, 128<<20, c.Size, StampSize)
	}
	if c.Rate < 0 {
		bad("rate must not be negative")
	}
	if c.Duration < 0 {
		bad("time must not be negative")
	}
	if c.Confirm < 0 || c.Confirm > 1<<20 {
		bad("confirm window must be 0…%d, not %d", 1<<20, c.Confirm)
	}
	if c.Prefetch < 0 || c.Prefetch > 65535 {
		bad("prefetch must be 0…65535, not %d", c.Prefetch)
	}
	if c.MultiAck < 0 {
		bad("multi-ack must not be negative")
	}
	if c.AutoAck && c.MultiAck > 0 {
		bad("multi-ack needs manual acks, not auto-ack")
	}
	switch c.Client {
	case ClientPipelined, ClientAMQP091:
	default:
		bad("client must be %s or %s, not %q", ClientPipelined, ClientAMQP091, c.Client)
	}
	if c.DrainIdle <= 0 || c.DrainTimeout <= 0 {
		bad("drain-idle and drain-timeout must be positive")
	}
	if c.WriteBuffer < 4096 {
		bad("write buffer must be at least 4096 bytes")
	}
	if c.Sink {
		if c.Confirm > 0 {
			bad("the sink sends no confirms")
		}
		if c.Duration == 0 && (c.PMessages == 0 || c.Consumers > 0) {
			bad("sink needs time (or pmessages, with no consumers)")
		}
	} else {
		u, err := amqp091.ParseURI(c.URI)
		if err != nil {
			bad("uri: %v", err)
		} else if u.Scheme != "amqp" && c.Client == ClientPipelined {
			bad("the pipelined client speaks plain amqp://, not %s://", u.Scheme)
		}
	}
	return errors.Join(errs...)
}

// effectiveMultiAck is MultiAck lowered to Prefetch, so that a consumer
// never waits for more messages than the broker may send unacked.
func (c *Config) effectiveMultiAck() int {
	if c.Prefetch > 0 && c.MultiAck > c.Prefetch {
		return c.Prefetch
	}
	return c.MultiAck
}

// exchangeName is the exchange producers publish to.
func (c *Config) exchangeName() string {
	switch {
	case c.ExchangeSet:
		return c.Exchange
	case c.Predeclared:
		return ""
	}
	return "warren-perf-" + c.Type
}

// queueNames returns the queue names, and whether the tool chose them (and
// so deletes them at the end).
func (c *Config) queueNames(runID string) ([]string, bool) {
	names := make([]string, c.Queues)
	switch {
	case c.QueueName != "":
		names[0] = c.QueueName
		return names, false
	case c.QueuePattern != "":
		for i := range names {
			names[i] = fmt.Sprintf(c.QueuePattern, i+1)
		}
		return names, false
	}
	for i := range names {
		names[i] = fmt.Sprintf("warren-perf-%s-%d", runID, i+1)
	}
	return names, true
}
