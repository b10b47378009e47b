package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// metric is what a scenario is judged by.
type metric int

const (
	// metricConsumeRate is deliveries per second over the measured phase:
	// the end-to-end throughput (a broker that takes publishes faster
	// than it delivers them builds a backlog, which does not count).
	metricConsumeRate metric = iota
	// metricPublishRate is publishes per second (no consumers).
	metricPublishRate
	// metricLatency is the publish-to-delivery time, p50 and p99; p99 is
	// the one the target is about.
	metricLatency
	// metricIdleMemory is the broker's resident memory per idle
	// connection, in KiB.
	metricIdleMemory
)

func (m metric) String() string {
	switch m {
	case metricConsumeRate:
		return "consumed msg/s"
	case metricPublishRate:
		return "published msg/s"
	case metricLatency:
		return "latency p99 (µs)"
	case metricIdleMemory:
		return "KiB per idle connection"
	}
	return "?"
}

// target is the goal for a scenario.
type target struct {
	// minRatio: Warren/RabbitMQ must be at least this (throughput).
	minRatio float64
	// maxRatio: Warren/RabbitMQ must be at most this (latency).
	maxRatio float64
	// maxWarren: Warren's own value must be at most this (memory, KiB).
	maxWarren float64
}

func (t target) String() string {
	switch {
	case t.minRatio > 0:
		return fmt.Sprintf("≥ %g×", t.minRatio)
	case t.maxRatio > 0:
		return fmt.Sprintf("p99 ≤ %g×", t.maxRatio)
	case t.maxWarren > 0:
		return fmt.Sprintf("≤ %g KiB", t.maxWarren)
	}
	return "–"
}

// met reports whether Warren's and RabbitMQ's medians meet t.
func (t target) met(warren, rabbit float64) bool {
	ratio := ratioOf(warren, rabbit)
	switch {
	case t.minRatio > 0:
		return ratio >= t.minRatio
	case t.maxRatio > 0:
		return ratio <= t.maxRatio
	case t.maxWarren > 0:
		return warren <= t.maxWarren
	}
	return true
}

// scenario is one line of the comparison: warren-perf's flags (without
// --uri, --time, --json, --client) and how it is judged.
type scenario struct {
	ID     int
	Name   string
	Args   []string
	Metric metric
	Target target
	// Idle is the number of idle connections of a memory scenario; the
	// driver samples the broker's RSS once they are open.
	Idle int
	// Copies is how many deliveries one publish makes (the fan-out);
	// 0 means 1.
	Copies int
}

func scenarios() []scenario {
	return []scenario{
		{ID: 1, Name: "1p/1c, 16 B transient, auto-ack",
			Args:   []string{"-x", "1", "-y", "1", "-s", "16", "-a"},
			Metric: metricConsumeRate, Target: target{minRatio: 5}},
		{ID: 2, Name: "1p/1c, 1 KB persistent, durable queue, confirms 100, manual ack, prefetch 100",
			Args:   []string{"-x", "1", "-y", "1", "-s", "1024", "-f", "--durable-queues", "-c", "100", "-q", "100"},
			Metric: metricConsumeRate, Target: target{minRatio: 3}},
		{ID: 3, Name: "fan-out: 1p, fanout exchange, 10 queues, 10c, 128 B",
			Args:   []string{"-x", "1", "-y", "10", "--fanout-queues", "10", "-s", "128"},
			Metric: metricConsumeRate, Target: target{minRatio: 4}, Copies: 10},
		{ID: 4, Name: "10p/10c, 10 queues, 256 B",
			Args:   []string{"-x", "10", "-y", "10", "--queues", "10", "-s", "256"},
			Metric: metricConsumeRate, Target: target{minRatio: 4}},
		{ID: 5, Name: "publish only, 1 KB, no consumers",
			Args:   []string{"-x", "1", "-y", "0", "-s", "1024"},
			Metric: metricPublishRate, Target: target{minRatio: 5}},
		{ID: 6, Name: "latency: 1p at 1,000 msg/s, 1c",
			Args:   []string{"-x", "1", "-y", "1", "-r", "1000"},
			Metric: metricLatency, Target: target{maxRatio: 0.75}},
		{ID: 7, Name: "1,000 idle connections, one channel each, fresh broker",
			Args:   []string{"-x", "0", "-y", "0", "--idle-connections", "1000"},
			Metric: metricIdleMemory, Target: target{maxWarren: 16}, Idle: 1000},
		{ID: 8, Name: "10p/10c with confirms 100, persistent 1 KB, 10 durable queues",
			Args:   []string{"-x", "10", "-y", "10", "--queues", "10", "-s", "1024", "-f", "--durable-queues", "-c", "100"},
			Metric: metricConsumeRate, Target: target{minRatio: 3}},
	}
}

// pickScenarios parses "1,2,4" (or "all") into scenarios, in ID order.
func pickScenarios(spec string) ([]scenario, error) {
	all := scenarios()
	if spec == "" || spec == "all" {
		return all, nil
	}
	want := map[int]bool{}
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > len(all) {
			return nil, fmt.Errorf("scenario %q: want numbers 1…%d", f, len(all))
		}
		want[n] = true
	}
	var out []scenario
	for _, s := range all {
		if want[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// perfArgs is the full warren-perf command line of one run.
func (s scenario) perfArgs(uri, client string, runTime, idleTime time.Duration) []string {
	d := runTime
	if s.Idle > 0 {
		d = idleTime
	}
	args := append([]string{}, s.Args...)
	return append(args, "--uri", uri, "--client", client, "-z", d.String(), "--json", "--progress=false")
}
