package perf

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"scenario 2", func(c *Config) {
			c.Size, c.Persistent, c.DurableQueues, c.Confirm, c.Prefetch = 1024, true, true, 100, 100
		}, ""},
		{"fanout", func(c *Config) { c.Type, c.Queues = "fanout", 10 }, ""},
		{"idle only", func(c *Config) { c.Producers, c.Consumers, c.IdleConnections = 0, 0, 1000 }, ""},
		{"nothing", func(c *Config) { c.Producers, c.Consumers = 0, 0 }, "nothing to do"},
		{"small body", func(c *Config) { c.Size = 12 }, "size must be"},
		{"bad type", func(c *Config) { c.Type = "headers" }, "type must be"},
		{"too many producers", func(c *Config) { c.Producers = MaxProducers + 1 }, "producers must be"},
		{"no queues", func(c *Config) { c.Queues = 0 }, "queues must be"},
		{"name and count", func(c *Config) { c.QueueName, c.Queues = "q", 2 }, "queue-pattern"},
		{"pattern", func(c *Config) { c.QueuePattern = "perf-%s" }, "exactly one %d"},
		{"predeclared unnamed", func(c *Config) { c.Predeclared = true }, "predeclared needs"},
		{"multi-ack auto-ack", func(c *Config) { c.AutoAck, c.MultiAck = true, 10 }, "manual acks"},
		{"prefetch", func(c *Config) { c.Prefetch = 70000 }, "prefetch"},
		{"confirm", func(c *Config) { c.Confirm = -1 }, "confirm window"},
		{"client", func(c *Config) { c.Client = "java" }, "client must be"},
		{"uri", func(c *Config) { c.URI = "http://x" }, "uri"},
		{"amqps pipelined", func(c *Config) { c.URI = "amqps://h/" }, "plain amqp"},
		{"fanout default exchange", func(c *Config) { c.Type, c.Exchange, c.ExchangeSet = "fanout", "", true }, "default exchange"},
		{"sink", func(c *Config) { c.Sink, c.Duration = true, time.Second }, ""},
		{"sink confirms", func(c *Config) { c.Sink, c.Duration, c.Confirm = true, time.Second, 10 }, "no confirms"},
		{"sink unbounded", func(c *Config) { c.Sink, c.Consumers = true, 0 }, "sink needs time"},
		{"sink consumers unbounded", func(c *Config) { c.Sink, c.PMessages = true, 10 }, "sink needs time"},
		{"several at once", func(c *Config) { c.Size, c.Rate = 1, -1 }, "rate must not"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigDerived(t *testing.T) {
	c := DefaultConfig()
	c.Prefetch, c.MultiAck = 50, 200
	if c.effectiveMultiAck() != 50 {
		t.Errorf("multi-ack above prefetch is not lowered: %d", c.effectiveMultiAck())
	}
	if got := c.exchangeName(); got != "warren-perf-direct" {
		t.Errorf("exchange %q", got)
	}
	c.Predeclared = true
	if got := c.exchangeName(); got != "" {
		t.Errorf("predeclared exchange %q, want the default exchange", got)
	}
	c.Queues, c.QueuePattern = 3, "perf-%d"
	names, own := c.queueNames("id")
	if own || strings.Join(names, ",") != "perf-1,perf-2,perf-3" {
		t.Errorf("pattern names %v own %v", names, own)
	}
	c.QueuePattern = ""
	names, own = c.queueNames("id")
	if !own || names[0] != "warren-perf-id-1" {
		t.Errorf("tool names %v own %v", names, own)
	}
}
