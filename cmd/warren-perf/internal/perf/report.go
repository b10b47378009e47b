package perf

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of a run; it is also the --json output.
type Result struct {
	Client   string    `json:"client"`
	Config   Config    `json:"config"`
	Exchange string    `json:"exchange"`
	Queues   []string  `json:"queues"`
	Started  time.Time `json:"started"`
	// Seconds is the length of the measured phase, from the moment every
	// client was connected to the end (time, message counts, interrupt).
	Seconds float64 `json:"seconds"`
	// EndReason is why the measured phase ended: time, pmessages,
	// cmessages, idle (a consume-only run found the queues empty),
	// interrupted or failed.
	EndReason string      `json:"end_reason"`
	Published Published   `json:"published"`
	Consumed  Consumed    `json:"consumed"`
	Latency   Latency     `json:"latency_us"`
	Integrity Integrity   `json:"integrity"`
	Idle      *IdleResult `json:"idle_connections,omitempty"`
	Sink      *SinkResult `json:"sink,omitempty"`
	// Blocked counts connection.blocked notifications to producers.
	Blocked  int      `json:"blocked"`
	Samples  []Sample `json:"samples"`
	Warnings []string `json:"warnings,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	// ExitCode is what warren-perf exits with: 0 fine, 1 messages lost
	// that should not have been, 3 errors during the run.
	ExitCode int `json:"exit_code"`
}

// Published counts publishes. Rates are over the measured phase.
type Published struct {
	Messages    uint64  `json:"messages"`
	Rate        float64 `json:"rate"`
	Confirmed   uint64  `json:"confirmed"`
	Nacked      uint64  `json:"nacked"`
	ConfirmRate float64 `json:"confirm_rate"`
}

// Consumed counts deliveries. Messages and Rate cover the measured phase;
// Total includes the drain that follows it.
type Consumed struct {
	Messages     uint64  `json:"messages"`
	Rate         float64 `json:"rate"`
	Total        uint64  `json:"total"`
	DrainSeconds float64 `json:"drain_seconds"`
}

// Latency summarizes publish-to-delivery times in microseconds, over
// every delivery of the run, drain included.
type Latency struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func summarize(h *Histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		Count: h.Count(),
		Min:   us(h.Min()),
		Mean:  h.Mean() / 1e3,
		P50:   us(h.Quantile(0.50)),
		P95:   us(h.Quantile(0.95)),
		P99:   us(h.Quantile(0.99)),
		P999:  us(h.Quantile(0.999)),
		Max:   us(h.Max()),
	}
}

// Verdicts of the loss accounting.
const (
	VerdictOK           = "ok"
	VerdictLost         = "lost"
	VerdictInconclusive = "inconclusive"
	VerdictNotChecked   = "not-checked"
)

// Integrity is the loss, duplicate and reorder accounting.
type Integrity struct {
	// Verdict is ok, lost (exit status 1), inconclusive (loss cannot be
	// told: Missing says how many were not seen) or not-checked.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	// Expected is what the consumers should have got: published (or,
	// with confirms, confirmed) messages times the queues they reach,
	// for queues with consumers.
	Expected   uint64 `json:"expected"`
	Received   uint64 `json:"received"`
	Distinct   uint64 `json:"distinct"`
	Missing    uint64 `json:"missing"`
	Lost       uint64 `json:"lost"`
	Duplicated uint64 `json:"duplicated"`
	Reordered  uint64 `json:"reordered"`
	// ReorderExpected is set when consumers share a queue, where
	// deliveries interleave between them and reordering means nothing.
	ReorderExpected bool             `json:"reorder_expected"`
	Foreign         uint64           `json:"foreign"`
	Queues          []QueueIntegrity `json:"queues,omitempty"`
}

// QueueIntegrity is the accounting of one queue.
type QueueIntegrity struct {
	Queue      string `json:"queue"`
	Consumers  int    `json:"consumers"`
	Expected   uint64 `json:"expected"`
	Received   uint64 `json:"received"`
	Distinct   uint64 `json:"distinct"`
	Missing    uint64 `json:"missing"`
	Duplicated uint64 `json:"duplicated"`
	Reordered  uint64 `json:"reordered"`
	Depth      int    `json:"depth"` // ready messages at the end; -1 unknown
}

// IdleResult reports --idle-connections.
type IdleResult struct {
	Requested   int     `json:"requested"`
	Opened      int     `json:"opened"`
	OpenSeconds float64 `json:"open_seconds"`
}

// SinkResult is what the sink received and sent.
type SinkResult struct {
	Messages  uint64 `json:"messages"`
	Bytes     uint64 `json:"bytes"`
	Delivered uint64 `json:"delivered"`
}

// Sample is one second of the run.
type Sample struct {
	Seconds       float64 `json:"t"`
	PublishRate   float64 `json:"publish_rate"`
	ConfirmRate   float64 `json:"confirm_rate"`
	ConsumeRate   float64 `json:"consume_rate"`
	Published     uint64  `json:"published"`
	Confirmed     uint64  `json:"confirmed"`
	Consumed      uint64  `json:"consumed"`
	Draining      bool    `json:"draining"`
	ConfirmsInUse bool    `json:"-"`
	Producing     bool    `json:"-"` // the run has producers
	Consuming     bool    `json:"-"` // the run has consumers
}

// ProgressLine formats a sample for a terminal.
func (s Sample) ProgressLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs", s.Seconds)
	if s.Producing {
		fmt.Fprintf(&b, "  sent %s msg/s", si(s.PublishRate))
	}
	if s.ConfirmsInUse {
		fmt.Fprintf(&b, "  confirmed %s msg/s", si(s.ConfirmRate))
	}
	if s.Consuming {
		fmt.Fprintf(&b, "  received %s msg/s", si(s.ConsumeRate))
	}
	fmt.Fprintf(&b, "  (totals: sent %s, received %s)", si(float64(s.Published)), si(float64(s.Consumed)))
	if s.Draining {
		b.WriteString("  draining")
	}
	return b.String()
}

// si formats n with a k/M/G suffix.
func si(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// WriteText writes the human summary.
func (r *Result) WriteText(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "warren-perf: %s client, %d producer(s), %d consumer(s), %d queue(s)", r.Client, c.Producers, c.Consumers, len(r.Queues))
	if c.Producers > 0 {
		ex := "the default exchange"
		if r.Exchange != "" {
			ex = fmt.Sprintf("%s exchange %q", c.Type, r.Exchange)
		}
		fmt.Fprintf(w, " via %s, %d B %s", ex, c.Size, map[bool]string{true: "persistent", false: "transient"}[c.Persistent])
		if c.Confirm > 0 {
			fmt.Fprintf(w, ", confirm window %d", c.Confirm)
		}
		if c.Rate > 0 {
			fmt.Fprintf(w, ", %g msg/s per producer", c.Rate)
		}
	}
	if c.Consumers > 0 {
		switch {
		case c.AutoAck:
			fmt.Fprint(w, ", auto-ack")
		default:
			prefetch, ack := "unlimited", "each"
			if c.Prefetch > 0 {
				prefetch = strconv.Itoa(c.Prefetch)
			}
			if m := c.effectiveMultiAck(); m > 0 {
				ack = "every " + strconv.Itoa(m)
			}
			fmt.Fprintf(w, ", manual ack %s, prefetch %s", ack, prefetch)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "measured %.2fs (ended by %s)\n", r.Seconds, r.EndReason)
	if c.Producers > 0 {
		fmt.Fprintf(w, "published  %12d msgs  %12.0f msg/s", r.Published.Messages, r.Published.Rate)
		if c.Confirm > 0 {
			fmt.Fprintf(w, "   confirmed %d (%.0f msg/s), nacked %d", r.Published.Confirmed, r.Published.ConfirmRate, r.Published.Nacked)
		}
		fmt.Fprintln(w)
	}
	if c.Consumers > 0 {
		fmt.Fprintf(w, "consumed   %12d msgs  %12.0f msg/s   (%d in all, drain %.2fs)\n",
			r.Consumed.Messages, r.Consumed.Rate, r.Consumed.Total, r.Consumed.DrainSeconds)
		l := r.Latency
		fmt.Fprintf(w, "latency µs min %.0f  p50 %.0f  p95 %.0f  p99 %.0f  p99.9 %.0f  max %.0f  (mean %.0f, %d samples)\n",
			l.Min, l.P50, l.P95, l.P99, l.P999, l.Max, l.Mean, l.Count)
	}
	in := r.Integrity
	fmt.Fprintf(w, "integrity  %s: %s\n", in.Verdict, in.Reason)
	if in.Verdict != VerdictNotChecked {
		fmt.Fprintf(w, "           expected %d, received %d (distinct %d), missing %d, lost %d, duplicated %d, reordered %d",
			in.Expected, in.Received, in.Distinct, in.Missing, in.Lost, in.Duplicated, in.Reordered)
		if in.ReorderExpected {
			fmt.Fprint(w, " (consumers share queues: order is not kept across them)")
		}
		fmt.Fprintln(w)
		for _, q := range in.Queues {
			if q.Missing > 0 || q.Duplicated > 0 || (q.Reordered > 0 && !in.ReorderExpected) {
				fmt.Fprintf(w, "           queue %s: expected %d, distinct %d, missing %d, duplicated %d, reordered %d\n",
					q.Queue, q.Expected, q.Distinct, q.Missing, q.Duplicated, q.Reordered)
			}
		}
	}
	if in.Foreign > 0 {
		fmt.Fprintf(w, "           %d messages without a warren-perf stamp\n", in.Foreign)
	}
	if r.Idle != nil {
		fmt.Fprintf(w, "idle       %d of %d connections open (opened in %.2fs)\n", r.Idle.Opened, r.Idle.Requested, r.Idle.OpenSeconds)
	}
	if r.Sink != nil {
		fmt.Fprintf(w, "sink       received %d publishes, %d bytes (%.0f MB/s); streamed %d deliveries\n",
			r.Sink.Messages, r.Sink.Bytes, rate(r.Sink.Bytes, r.Seconds)/1e6, r.Sink.Delivered)
	}
	if r.Blocked > 0 {
		fmt.Fprintf(w, "blocked    the broker blocked publishers %d time(s)\n", r.Blocked)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	for _, s := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", s)
	}
}

// redact hides the password of an AMQP URI.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
