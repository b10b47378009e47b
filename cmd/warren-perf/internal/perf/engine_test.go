package perf

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker/brokertest"
)

// These tests run the engine against an in-process Warren. They assert
// counts and verdicts, never rates or latencies.

func testConfig(url, client string) Config {
	c := DefaultConfig()
	c.URI = url
	c.Client = client
	c.DrainIdle = 300 * time.Millisecond
	c.DrainTimeout = 20 * time.Second
	return c
}

func runOK(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Errors) > 0 || res.ExitCode != 0 {
		t.Fatalf("exit %d, errors %v, integrity %+v", res.ExitCode, res.Errors, res.Integrity)
	}
	return res
}

var clients = []string{ClientPipelined, ClientAMQP091}

func TestEngineAgainstWarren(t *testing.T) {
	srv := brokertest.New(t)
	for _, client := range clients {
		t.Run(client+"/confirms-persistent-manual-ack", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Producers, cfg.Consumers, cfg.Queues = 2, 2, 2
			cfg.PMessages, cfg.Size = 2000, 100
			cfg.Persistent, cfg.DurableQueues, cfg.Confirm = true, true, 20
			cfg.Prefetch, cfg.MultiAck = 50, 10
			res := runOK(t, cfg)
			in := res.Integrity
			if res.Published.Messages != 4000 || res.Published.Confirmed != 4000 ||
				in.Verdict != VerdictOK || in.Expected != 4000 || in.Distinct != 4000 || in.Lost != 0 || in.Duplicated != 0 || in.Reordered != 0 {
				t.Fatalf("published %+v integrity %+v", res.Published, in)
			}
			if res.Latency.Count != 4000 || res.Latency.P50 <= 0 {
				t.Fatalf("latency %+v", res.Latency)
			}
		})
		t.Run(client+"/fanout-auto-ack", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Producers, cfg.Consumers, cfg.Type, cfg.Queues = 1, 3, "fanout", 3
			cfg.PMessages, cfg.AutoAck = 1500, true
			res := runOK(t, cfg)
			if in := res.Integrity; in.Verdict != VerdictOK || in.Expected != 4500 || in.Distinct != 4500 || res.Consumed.Total != 4500 {
				t.Fatalf("integrity %+v consumed %+v", in, res.Consumed)
			}
		})
		t.Run(client+"/topic-shared-queue-each-ack", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Producers, cfg.Consumers, cfg.Type, cfg.Queues = 3, 2, "topic", 1
			cfg.PMessages = 700
			res := runOK(t, cfg)
			if in := res.Integrity; in.Verdict != VerdictOK || in.Distinct != 2100 || !in.ReorderExpected {
				t.Fatalf("integrity %+v", in)
			}
		})
		t.Run(client+"/fill-then-drain", func(t *testing.T) {
			q := "perf-fill-" + client
			fill := testConfig(srv.URL(), client)
			fill.Consumers, fill.QueueName, fill.DurableQueues, fill.Persistent, fill.Confirm = 0, q, true, true, 100
			fill.PMessages, fill.Size = 3000, 1024
			res := runOK(t, fill)
			if res.Published.Confirmed != 3000 || res.Integrity.Verdict != VerdictNotChecked {
				t.Fatalf("fill: published %+v integrity %+v", res.Published, res.Integrity)
			}
			drain := testConfig(srv.URL(), client)
			drain.Producers, drain.QueueName, drain.Predeclared, drain.CMessages = 0, q, true, 3000
			drain.Prefetch, drain.MultiAck = 100, 50
			res = runOK(t, drain)
			if in := res.Integrity; res.EndReason != "cmessages" || in.Verdict != VerdictOK || in.Distinct != 3000 || in.Queues[0].Depth != 0 {
				t.Fatalf("drain: end %s integrity %+v", res.EndReason, in)
			}
			// The queue is empty now: a run that expects more reports the
			// shortfall as loss and exits 1.
			drain.CMessages = 10
			res, err := Run(context.Background(), drain, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 1 || res.Integrity.Verdict != VerdictLost || res.Integrity.Lost != 10 || res.EndReason != "idle" {
				t.Fatalf("empty drain: exit %d end %s integrity %+v", res.ExitCode, res.EndReason, res.Integrity)
			}
		})
		t.Run(client+"/rate-limited", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Rate, cfg.Duration, cfg.AutoAck = 1000, 300*time.Millisecond, true
			res := runOK(t, cfg)
			// Not a timing assertion: only that the limiter limits.
			if n := res.Published.Messages; n == 0 || n > 2000 || res.Integrity.Verdict != VerdictOK {
				t.Fatalf("published %d at 1000 msg/s in 0.3s; integrity %+v", n, res.Integrity)
			}
		})
		t.Run(client+"/idle-connections", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Producers, cfg.Consumers, cfg.IdleConnections, cfg.Duration = 0, 0, 25, 100*time.Millisecond
			res := runOK(t, cfg)
			if res.Idle == nil || res.Idle.Opened != 25 {
				t.Fatalf("idle %+v", res.Idle)
			}
		})
		t.Run(client+"/broker-error", func(t *testing.T) {
			cfg := testConfig(srv.URL(), client)
			cfg.Consumers, cfg.QueueName, cfg.Predeclared = 0, "perf-fill-"+client, true
			cfg.Exchange, cfg.ExchangeSet, cfg.PMessages = "no-such-exchange", true, 1000
			res, err := Run(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 3 || len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "404") {
				t.Fatalf("exit %d errors %q", res.ExitCode, res.Errors)
			}
		})
	}
}

func TestEngineSink(t *testing.T) {
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			cfg := testConfig("", client)
			cfg.Sink, cfg.Producers, cfg.Consumers, cfg.PMessages = true, 2, 0, 5000
			res := runOK(t, cfg)
			if res.Sink == nil || res.Sink.Messages != 10000 || res.Published.Messages != 10000 {
				t.Fatalf("sink %+v published %+v", res.Sink, res.Published)
			}
		})
	}
}

func TestEngineUnreachable(t *testing.T) {
	cfg := testConfig("amqp://guest:guest@127.0.0.1:1/", ClientPipelined)
	if _, err := Run(context.Background(), cfg, Options{}); err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
}

func TestEngineSinkConsumers(t *testing.T) {
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			cfg := testConfig("", client)
			cfg.Sink, cfg.Producers, cfg.Consumers, cfg.CMessages, cfg.Duration = true, 0, 2, 3000, 20*time.Second
			cfg.MultiAck = 7
			res := runOK(t, cfg)
			if res.EndReason != "cmessages" || res.Consumed.Total != 6000 || res.Latency.Count != 6000 {
				t.Fatalf("end %s consumed %+v latency %+v", res.EndReason, res.Consumed, res.Latency)
			}
		})
	}
}

// TestPipelinedAllocations checks that the pipelined client does not
// allocate per message: publishing into the sink and consuming from it,
// the whole process (sink included) allocates far less than once per
// message. Set-up costs a few thousand allocations, hence the margin.
func TestPipelinedAllocations(t *testing.T) {
	const n = 200_000
	for _, side := range []string{"publish", "consume"} {
		t.Run(side, func(t *testing.T) {
			cfg := testConfig("", ClientPipelined)
			cfg.Sink, cfg.Duration = true, 60*time.Second
			if side == "publish" {
				cfg.Consumers, cfg.PMessages = 0, n
			} else {
				cfg.Producers, cfg.CMessages, cfg.MultiAck = 0, n, 100
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := runOK(t, cfg)
			runtime.ReadMemStats(&after)
			if res.Published.Messages+res.Consumed.Total < n {
				t.Fatalf("only %d messages", res.Published.Messages+res.Consumed.Total)
			}
			if per := float64(after.Mallocs-before.Mallocs) / n; per > 0.05 {
				t.Fatalf("%.3f allocations per message", per)
			}
		})
	}
}
