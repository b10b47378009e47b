// Command warren-perf is a load generator for AMQP 0-9-1 brokers, modelled
// on RabbitMQ's PerfTest. It runs producers and consumers against any
// broker, reports publish and consume rates and latency percentiles, and
// accounts for every message: each body carries its producer's sequence
// number and its send time, so the tool can tell whether anything was
// lost, duplicated or reordered per queue.
//
//	warren-perf [flags]
//
// Examples (the scenarios of the Warren/RabbitMQ comparison):
//
//	warren-perf -x 1 -y 1 -s 16 -a -z 10                         # 1p/1c, 16 B, auto-ack
//	warren-perf -x 1 -y 1 -s 1024 -f --durable-queues -c 100 -q 100 -z 10
//	warren-perf -x 1 -y 10 --fanout-queues 10 -s 128 -z 10         # fan-out to 10 queues
//	warren-perf -x 10 -y 10 --queues 10 -s 256 -z 10
//	warren-perf -x 1 -y 0 -s 1024 -z 10                            # publish only
//	warren-perf -x 1 -y 1 -r 1000 -z 10                            # latency at 1,000 msg/s
//	warren-perf -x 0 -y 0 --idle-connections 1000 -z 30            # idle connections
//	warren-perf -x 10 -y 10 --queues 10 -s 1024 -f --durable-queues -c 100 -z 10
//	warren-perf -x 1 -y 0 -C 2000000 -s 1024 -f -c 1000 --durable-queues -u big   # fill…
//	warren-perf -x 0 -y 1 -D 2000000 -u big --predeclared                          # …then drain
//	warren-perf --sink -x 1 -y 0 -z 5                               # the client alone
//
// Exit status: 0 fine; 1 messages were lost that should not have been;
// 2 bad flags; 3 the run failed (could not connect, the broker closed a
// connection, a client hung).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/warrenmq/warren/cmd/warren-perf/internal/perf"
)

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr)))
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which ends
// the measured phase (the consumers still drain); a second one exits at
// once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "warren-perf: stopping; the consumers drain (interrupt again to quit at once)")
		cancel()
		<-sigs
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// durationValue is a flag that takes seconds ("10", as PerfTest does) or
// a Go duration ("1m30s").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return "0"
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*v.d = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want seconds or a duration such as 90s")
	}
	*v.d = d
	return nil
}

// progressValue is auto, true or false; a bare --progress means true.
type progressValue struct{ s *string }

func (v progressValue) String() string {
	if v.s == nil {
		return "auto"
	}
	return *v.s
}

func (v progressValue) Set(s string) error {
	switch s {
	case "auto", "true", "false":
		*v.s = s
		return nil
	}
	if b, err := strconv.ParseBool(s); err == nil {
		*v.s = strconv.FormatBool(b)
		return nil
	}
	return fmt.Errorf("want auto, true or false")
}

func (progressValue) IsBoolFlag() bool { return true }

// errReported is a flag error the flag package has already printed.
var errReported = errors.New("bad flags")

// options are the parsed command line.
type options struct {
	cfg      perf.Config
	json     bool
	progress string
}

// parseFlags turns arguments into options; errors are for the user.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{cfg: perf.DefaultConfig(), progress: "auto"}
	c := &o.cfg
	fs := flag.NewFlagSet("warren-perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	intVar := func(p *int, long, short string, usage string) {
		fs.IntVar(p, long, *p, usage)
		if short != "" {
			fs.IntVar(p, short, *p, "shorthand for --"+long)
		}
	}
	boolVar := func(p *bool, long, short string, usage string) {
		fs.BoolVar(p, long, *p, usage)
		if short != "" {
			fs.BoolVar(p, short, *p, "shorthand for --"+long)
		}
	}
	fs.StringVar(&c.URI, "uri", c.URI, "AMQP URI of the broker")
	intVar(&c.Producers, "producers", "x", "producer connections (one channel each)")
	intVar(&c.Consumers, "consumers", "y", "consumer connections (one channel each)")
	intVar(&c.Queues, "queues", "", "queues; producer p publishes to queue p mod N, consumer c consumes from queue c mod N")
	fs.StringVar(&c.QueueName, "queue-name", "", "name of the (single) queue; kept after the run")
	fs.StringVar(&c.QueueName, "u", "", "shorthand for --queue-name")
	fs.StringVar(&c.QueuePattern, "queue-pattern", "", "queue names as a pattern with one %d, numbered from 1, e.g. perf-%d; kept after the run")
	boolVar(&c.Predeclared, "predeclared", "", "declare nothing: the queues (and exchange) exist; publish through the default exchange unless --exchange")
	exchange := fs.String("exchange", "", "exchange to publish to (default warren-perf-<type>; \"\" is the default exchange)")
	fs.StringVar(exchange, "e", "", "shorthand for --exchange")
	fs.StringVar(&c.Type, "type", c.Type, "exchange type: direct, fanout or topic")
	fs.StringVar(&c.Type, "t", c.Type, "shorthand for --type")
	fanout := fs.Int("fanout-queues", 0, "fan-out: a fanout exchange with this many queues (--type fanout --queues N)")
	boolVar(&c.DurableQueues, "durable-queues", "", "declare the queues durable")
	boolVar(&c.Purge, "purge", "", "purge the queues before the run")
	intVar(&c.Size, "size", "s", fmt.Sprintf("message body size in bytes (at least %d: sequence, producer and send time)", perf.StampSize))
	fs.Float64Var(&c.Rate, "rate", 0, "messages per second per producer; 0 is as fast as possible")
	fs.Float64Var(&c.Rate, "r", 0, "shorthand for --rate")
	fs.Var(durationValue{&c.Duration}, "time", "run time, in seconds or as a duration; 0 runs until the message counts or an interrupt")
	fs.Var(durationValue{&c.Duration}, "z", "shorthand for --time")
	fs.Uint64Var(&c.PMessages, "pmessages", 0, "each producer stops after this many messages; 0 is no limit")
	fs.Uint64Var(&c.PMessages, "C", 0, "shorthand for --pmessages")
	fs.Uint64Var(&c.CMessages, "cmessages", 0, "each consumer stops after this many messages; 0 is no limit")
	fs.Uint64Var(&c.CMessages, "D", 0, "shorthand for --cmessages")
	boolVar(&c.Persistent, "persistent", "f", "publish persistent messages (delivery-mode 2)")
	intVar(&c.Confirm, "confirm", "c", "publisher confirms with at most this many unconfirmed per producer; 0 is off")
	boolVar(&c.AutoAck, "auto-ack", "a", "consume with auto-ack (no-ack) instead of manual acks")
	intVar(&c.Prefetch, "prefetch", "q", "prefetch count (basic.qos) of manual-ack consumers; 0 is unlimited")
	intVar(&c.MultiAck, "multi-ack", "A", "ack with multiple=true every N messages; 0 acks each one (lowered to --prefetch)")
	fs.StringVar(&c.Client, "client", c.Client, "client: pipelined (Warren's codec, batched writes) or amqp091 (amqp091-go); compare brokers with the same one")
	intVar(&c.IdleConnections, "idle-connections", "", "also open this many connections with one channel each and hold them for the run")
	fs.Var(durationValue{&c.DrainIdle}, "drain-idle", "after the producers stop, a drain with no delivery for this long checks whether the queues are empty")
	fs.Var(durationValue{&c.DrainTimeout}, "drain-timeout", "longest drain after the producers stop; also the longest wait for outstanding confirms")
	intVar(&c.WriteBuffer, "write-buffer", "", "pipelined publisher: bytes per write")
	boolVar(&c.Sink, "sink", "", "publish into an in-process sink that discards every frame, to measure the client alone")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.Var(progressValue{&o.progress}, "progress", "print a progress line to stderr once a second: auto (when stderr is a terminal), true or false")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: warren-perf [flags]\n\n"+
			"A load generator for AMQP 0-9-1 brokers, after RabbitMQ's PerfTest. Every body carries\n"+
			"a sequence number and a send time: the report gives rates, latency percentiles, and\n"+
			"lost, duplicated and reordered messages per queue.\n"+
			"Exit status: 0 fine, 1 messages lost, 2 bad flags, 3 the run failed.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errReported // the flag package has said what
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "exchange", "e":
			c.Exchange, c.ExchangeSet = *exchange, true
		}
	})
	if *fanout > 0 {
		c.Type = "fanout"
		c.Queues = *fanout
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != errReported {
			fmt.Fprintf(stderr, "warren-perf: %s\n", strings.ReplaceAll(err.Error(), "\n", "\nwarren-perf: "))
		}
		return 2
	}
	var opt perf.Options
	if o.progress == "true" || (o.progress == "auto" && tty) {
		var mu sync.Mutex
		opt.Progress = func(s perf.Sample) {
			mu.Lock()
			fmt.Fprintln(stderr, s.ProgressLine())
			mu.Unlock()
		}
	}
	res, err := perf.Run(ctx, o.cfg, opt)
	if err != nil {
		fmt.Fprintf(stderr, "warren-perf: %v\n", err)
		return 3
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "warren-perf: %v\n", err)
			return 3
		}
	} else {
		res.WriteText(stdout)
	}
	return res.ExitCode
}

// isTerminal reports whether f is a character device.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
