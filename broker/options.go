package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Options configure a Server. Start from DefaultOptions.
type Options struct {
	// Logger receives the broker's logs; DefaultOptions uses zerolog.Nop().
	Logger zerolog.Logger

	// ChannelMax, FrameMax and Heartbeat are what connection.tune proposes
	// (RabbitMQ's defaults: 2047, 131072, 60 s).
	ChannelMax uint16
	FrameMax   uint32
	Heartbeat  time.Duration

	// HandshakeTimeout drops a connection that has not finished
	// connection.open in time (RabbitMQ: 10 s).
	HandshakeTimeout time.Duration

	// MaxMessageSize refuses larger bodies with 406 (RabbitMQ 3.13: 128 MiB).
	MaxMessageSize uint64

	// DefaultUser and DefaultPass are created with full rights on the
	// default vhost "/" at first start. Like RabbitMQ's guest user, the
	// default user may only log in from a loopback address when
	// LoopbackOnlyDefaultUser is set.
	DefaultUser             string
	DefaultPass             string
	LoopbackOnlyDefaultUser bool

	// ConsumerTimeout closes a channel whose delivery stays unacked longer
	// (RabbitMQ's consumer_timeout, 30 minutes); a queue's
	// x-consumer-timeout overrides it. 0 turns it off.
	ConsumerTimeout time.Duration

	// QueueMemoryMessages and QueueMemoryBytes bound what one queue holds
	// in memory; past them new messages live only in the store and are
	// read back in order (needs Store).
	QueueMemoryMessages int
	QueueMemoryBytes    int

	// Store keeps durable definitions and persistent messages; nil runs
	// the broker in memory only.
	Store Persister

	// Version is reported in connection.start's server properties.
	Version string
}

// DefaultOptions are RabbitMQ's defaults.
func DefaultOptions() Options {
	return Options{
		Logger:                  zerolog.Nop(),
		ChannelMax:              2047,
		FrameMax:                131072,
		Heartbeat:               60 * time.Second,
		HandshakeTimeout:        10 * time.Second,
		MaxMessageSize:          128 << 20,
		DefaultUser:             "guest",
		DefaultPass:             "guest",
		LoopbackOnlyDefaultUser: true,
		Version:                 "0.1.0",
		ConsumerTimeout:         30 * time.Minute,
		QueueMemoryMessages:     100_000,
		QueueMemoryBytes:        32 << 20,
	}
}

// Validate reports options the server cannot run with.
func (o Options) Validate() error {
	var errs []error
	if o.FrameMax != 0 && o.FrameMax < 4096 {
		errs = append(errs, fmt.Errorf("frame max %d is below the protocol minimum 4096", o.FrameMax))
	}
	if o.ChannelMax == 0 {
		errs = append(errs, errors.New("channel max must be at least 1"))
	}
	if o.Heartbeat < 0 || o.Heartbeat > 65535*time.Second {
		errs = append(errs, fmt.Errorf("heartbeat %v out of range", o.Heartbeat))
	}
	if o.MaxMessageSize == 0 || o.MaxMessageSize > 512<<20 {
		errs = append(errs, fmt.Errorf("max message size %d out of range (1 B to 512 MiB)", o.MaxMessageSize))
	}
	if o.QueueMemoryMessages < 1 || o.QueueMemoryBytes < 1 {
		errs = append(errs, errors.New("queue memory limits must be positive"))
	}
	if o.HandshakeTimeout <= 0 {
		errs = append(errs, errors.New("handshake timeout must be positive"))
	}
	return errors.Join(errs...)
}
