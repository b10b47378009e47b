package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// runResult is one run of one scenario against one broker.
type runResult struct {
	Scenario int       `json:"scenario"`
	Broker   string    `json:"broker"`
	Pair     int       `json:"pair"`
	Started  time.Time `json:"started"`
	// Failure says why the run has no result (start, crash, client
	// error); such runs are left out of the medians.
	Failure  string   `json:"failure,omitempty"`
	Warnings []string `json:"warnings,omitempty"`

	Seconds     float64 `json:"seconds"`
	EndReason   string  `json:"end_reason,omitempty"`
	PublishRate float64 `json:"publish_rate"`
	ConfirmRate float64 `json:"confirm_rate"`
	ConsumeRate float64 `json:"consume_rate"`
	Published   uint64  `json:"published"`
	Consumed    uint64  `json:"consumed"`
	P50         float64 `json:"latency_p50_us"`
	P99         float64 `json:"latency_p99_us"`
	Verdict     string  `json:"verdict,omitempty"`
	// WorstShare is the lowest consume rate over publish rate of any
	// whole second of the measured phase but the first (ramp-up): whether
	// consumers kept up with publishers all along, not just on average.
	WorstShare float64 `json:"worst_second_consume_share,omitempty"`
	ExitCode   int     `json:"exit_code"`
	Blocked    int     `json:"blocked"`

	// Scenario 7.
	Opened       int     `json:"idle_opened,omitempty"`
	IdleSockets  int     `json:"idle_sockets,omitempty"`
	RSSBeforeKiB int64   `json:"rss_before_kib,omitempty"`
	RSSAfterKiB  int64   `json:"rss_after_kib,omitempty"`
	KiBPerConn   float64 `json:"kib_per_connection,omitempty"`

	BrokerPID        int     `json:"broker_pid"`
	BrokerCPUSeconds float64 `json:"broker_cpu_seconds"`
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	// OtherCPUSeconds is the CPU time the rest of the machine used
	// during the run (busy time less broker and client).
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
	Load1           float64 `json:"load1_before"`
	Raw             string  `json:"raw,omitempty"`
}

func (r *runResult) fill(p perfResult, copies int) {
	r.Seconds, r.EndReason = p.Seconds, p.EndReason
	r.PublishRate, r.ConfirmRate, r.ConsumeRate = p.Published.Rate, p.Published.ConfirmRate, p.Consumed.Rate
	r.Published, r.Consumed = p.Published.Messages, p.Consumed.Total
	r.P50, r.P99 = p.Latency.P50, p.Latency.P99
	r.Verdict, r.ExitCode, r.Blocked = p.Integrity.Verdict, p.ExitCode, p.Blocked
	r.Warnings = append(r.Warnings, p.Warnings...)
	if p.Idle != nil {
		r.Opened = p.Idle.Opened
	}
	r.WorstShare = worstShare(p, copies)
}

// worstShare is the lowest consumed/published ratio of a whole second of
// the measured phase, leaving out the first second, with each publish
// counted copies times (fan-out); 0 when the run had no consumers or too
// few seconds.
func worstShare(p perfResult, copies int) float64 {
	if copies < 1 {
		copies = 1
	}
	worst := math.Inf(1)
	for i, smp := range p.Samples {
		if i == 0 || smp.Draining || smp.PublishRate <= 0 || smp.ConsumeRate <= 0 {
			continue
		}
		worst = min(worst, smp.ConsumeRate/(smp.PublishRate*float64(copies)))
	}
	if math.IsInf(worst, 1) {
		return 0
	}
	return worst
}

// value is the run's figure for m (p99 for latency).
func (r *runResult) value(m metric) float64 {
	switch m {
	case metricConsumeRate:
		return r.ConsumeRate
	case metricPublishRate:
		return r.PublishRate
	case metricLatency:
		return r.P99
	case metricIdleMemory:
		return r.KiBPerConn
	}
	return 0
}

// line is the progress line of a run.
func (r *runResult) line(m metric) string {
	head := fmt.Sprintf("pair %d %-8s", r.Pair, r.Broker)
	if r.Failure != "" {
		return head + " FAILED: " + r.Failure
	}
	var s string
	switch m {
	case metricLatency:
		s = fmt.Sprintf("p50 %s µs, p99 %s µs", num(r.P50), num(r.P99))
	case metricIdleMemory:
		s = fmt.Sprintf("RSS %d → %d KiB, %.1f KiB per connection (%d opened)", r.RSSBeforeKiB, r.RSSAfterKiB, r.KiBPerConn, r.Opened)
	default:
		s = fmt.Sprintf("published %s/s, confirmed %s/s, consumed %s/s", num(r.PublishRate), num(r.ConfirmRate), num(r.ConsumeRate))
		if r.WorstShare > 0 {
			s += fmt.Sprintf(" (worst second: consumed %.0f%% of published)", 100*r.WorstShare)
		}
	}
	s += fmt.Sprintf("; CPU s: broker %.1f, client %.1f, others %.1f; load %.2f", r.BrokerCPUSeconds, r.ClientCPUSeconds, r.OtherCPUSeconds, r.Load1)
	if r.Verdict != "" && r.Verdict != "ok" && r.Verdict != "not-checked" {
		s += "; integrity " + r.Verdict
	}
	if r.Blocked > 0 {
		s += fmt.Sprintf("; blocked %d×", r.Blocked)
	}
	return head + " " + s
}

// summaryRow is one scenario's medians.
type summaryRow struct {
	Scenario int     `json:"scenario"`
	Name     string  `json:"name"`
	Metric   string  `json:"metric"`
	Warren   float64 `json:"warren"`
	RabbitMQ float64 `json:"rabbitmq"`
	// Ratio is Warren/RabbitMQ of the medians.
	Ratio float64 `json:"ratio"`
	// For latency, the p50 medians too.
	WarrenP50   float64 `json:"warren_p50,omitempty"`
	RabbitMQP50 float64 `json:"rabbitmq_p50,omitempty"`
	// Also the publish rates, for the throughput scenarios.
	WarrenPublish   float64   `json:"warren_publish_rate,omitempty"`
	RabbitMQPublish float64   `json:"rabbitmq_publish_rate,omitempty"`
	WarrenRuns      []float64 `json:"warren_runs"`
	RabbitMQRuns    []float64 `json:"rabbitmq_runs"`
	Target          string    `json:"target"`
	// Met is nil when a broker has no successful run.
	Met   *bool    `json:"met"`
	Notes []string `json:"notes,omitempty"`

	metric metric
}

type profile struct {
	Scenario    int     `json:"scenario"`
	Path        string  `json:"path"`
	TopPath     string  `json:"top_path"`
	PublishRate float64 `json:"publish_rate"`
	ConsumeRate float64 `json:"consume_rate"`
	Top         string  `json:"top"`
}

type machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Memory string `json:"memory"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Erlang string `json:"erlang_otp"`
}

type report struct {
	Started         time.Time    `json:"started"`
	Finished        time.Time    `json:"finished"`
	Machine         machine      `json:"machine"`
	RabbitMQVersion string       `json:"rabbitmq_version"`
	Revision        string       `json:"warren_revision"`
	Client          string       `json:"client"`
	Pairs           int          `json:"pairs"`
	RunTime         string       `json:"run_time"`
	IdleTime        string       `json:"idle_time"`
	LatencyTime     string       `json:"latency_time"`
	Summary         []summaryRow `json:"summary"`
	Runs            []runResult  `json:"runs"`
	Profiles        []profile    `json:"profiles,omitempty"`
}

func (rep *report) failedRuns() int {
	n := 0
	for _, r := range rep.Runs {
		if r.Failure != "" {
			n++
		}
	}
	return n
}

// summarize computes the medians and ratios of every scenario.
func (rep *report) summarize(scs []scenario) {
	rep.Summary = nil
	for _, sc := range scs {
		row := summaryRow{Scenario: sc.ID, Name: sc.Name, Metric: sc.Metric.String(), Target: sc.Target.String(), metric: sc.Metric}
		var wp50, rp50, wpub, rpub []float64
		for i := range rep.Runs {
			r := &rep.Runs[i]
			if r.Scenario != sc.ID {
				continue
			}
			if r.Failure != "" {
				row.Notes = append(row.Notes, fmt.Sprintf("%s pair %d failed", r.Broker, r.Pair))
				continue
			}
			if r.Verdict == "lost" {
				row.Notes = append(row.Notes, fmt.Sprintf("%s pair %d lost messages", r.Broker, r.Pair))
			}
			if r.Blocked > 0 {
				row.Notes = append(row.Notes, fmt.Sprintf("%s pair %d: publishers blocked %d×", r.Broker, r.Pair, r.Blocked))
			}
			if r.Broker == "Warren" {
				row.WarrenRuns = append(row.WarrenRuns, r.value(sc.Metric))
				wp50, wpub = append(wp50, r.P50), append(wpub, r.PublishRate)
			} else {
				row.RabbitMQRuns = append(row.RabbitMQRuns, r.value(sc.Metric))
				rp50, rpub = append(rp50, r.P50), append(rpub, r.PublishRate)
			}
		}
		if len(row.WarrenRuns) > 0 && len(row.RabbitMQRuns) > 0 {
			row.Warren, row.RabbitMQ = median(row.WarrenRuns), median(row.RabbitMQRuns)
			row.Ratio = ratioOf(row.Warren, row.RabbitMQ)
			met := sc.Target.met(row.Warren, row.RabbitMQ)
			row.Met = &met
		}
		switch sc.Metric {
		case metricLatency:
			row.WarrenP50, row.RabbitMQP50 = median(wp50), median(rp50)
		case metricConsumeRate:
			row.WarrenPublish, row.RabbitMQPublish = median(wpub), median(rpub)
		}
		rep.Summary = append(rep.Summary, row)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}

// cell formats a median for the tables.
func (row *summaryRow) cell(v, p50 float64) string {
	switch row.metric {
	case metricLatency:
		return fmt.Sprintf("p50 %s / p99 %s µs", num(p50), num(v))
	case metricIdleMemory:
		return fmt.Sprintf("%.1f KiB", v)
	}
	return num(v) + " msg/s"
}

func (row *summaryRow) metText() string {
	switch {
	case row.Met == nil:
		return "no data"
	case *row.Met:
		return "met"
	}
	return "not met"
}

func (row *summaryRow) ratioText() string {
	if row.Met == nil {
		return "–"
	}
	s := fmt.Sprintf("%.2f×", row.Ratio)
	if row.metric == metricLatency && row.RabbitMQP50 > 0 {
		s = fmt.Sprintf("p99 %.2f× (p50 %.2f×)", row.Ratio, row.WarrenP50/row.RabbitMQP50)
	}
	return s
}

// text is the summary for a terminal.
func (rep *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nWarren %s vs RabbitMQ %s, client %s, medians of %d, %s runs (%s latency, %s idle)\n\n",
		rep.Revision, rep.RabbitMQVersion, rep.Client, rep.Pairs, rep.RunTime, rep.LatencyTime, rep.IdleTime)
	fmt.Fprintf(&b, "%-2s %-26s %-30s %-30s %-26s %-10s %s\n", "#", "metric", "Warren", "RabbitMQ", "Warren/RabbitMQ", "target", "")
	for i := range rep.Summary {
		row := &rep.Summary[i]
		fmt.Fprintf(&b, "%-2d %-26s %-30s %-30s %-26s %-10s %s\n", row.Scenario, row.Metric,
			row.cell(row.Warren, row.WarrenP50), row.cell(row.RabbitMQ, row.RabbitMQP50),
			row.ratioText(), row.Target, row.metText())
		for _, n := range row.Notes {
			fmt.Fprintf(&b, "   note: %s\n", n)
		}
	}
	return b.String()
}

// markdown is the summary and every run, as Markdown tables.
func (rep *report) markdown() string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Run %s – %s. Warren %s, RabbitMQ %s (Erlang/OTP %s). Client mode `%s` for both brokers; "+
		"medians of %d runs per broker, alternating Warren, RabbitMQ; %s per run (%s for scenario 6, %s for scenario 7); a freshly started broker with an empty data directory for every run.\n\n",
		rep.Started.Format("2006-01-02 15:04"), rep.Finished.Format("15:04 MST"), rep.Revision, rep.RabbitMQVersion, m.Erlang,
		rep.Client, rep.Pairs, rep.RunTime, rep.LatencyTime, rep.IdleTime)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s RAM, Linux %s, %s.\n\n", m.CPU, m.CPUs, m.Memory, m.Kernel, m.Go)
	var other, busy float64
	for _, r := range rep.Runs {
		other += r.OtherCPUSeconds
		busy += r.OtherCPUSeconds + r.BrokerCPUSeconds + r.ClientCPUSeconds
	}
	if busy > 0 {
		fmt.Fprintf(&b, "Other processes on the machine used %.0f%% of the CPU time spent during the runs.\n\n", 100*other/busy)
	}
	b.WriteString("| # | scenario | metric | Warren | RabbitMQ | Warren/RabbitMQ | target | |\n")
	b.WriteString("|---|---|---|--:|--:|--:|---|---|\n")
	for i := range rep.Summary {
		row := &rep.Summary[i]
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", row.Scenario, row.Name, row.Metric,
			row.cell(row.Warren, row.WarrenP50), row.cell(row.RabbitMQ, row.RabbitMQP50),
			row.ratioText(), row.Target, row.metText())
	}
	var notes []string
	for _, row := range rep.Summary {
		for _, n := range row.Notes {
			notes = append(notes, fmt.Sprintf("scenario %d: %s", row.Scenario, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes: " + strings.Join(notes, "; ") + ".\n")
	}
	b.WriteString("\nEvery run:\n\n")
	b.WriteString("| # | broker | pair | published msg/s | confirmed msg/s | consumed msg/s | worst second consumed/published | p50 µs | p99 µs | KiB/conn | CPU s: broker | client | others | load 1 min | |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rep.Runs {
		status := r.Verdict
		if r.Failure != "" {
			status = "FAILED: " + strings.SplitN(r.Failure, "\n", 2)[0]
		}
		kib := "–"
		if r.KiBPerConn != 0 {
			kib = fmt.Sprintf("%.1f", r.KiBPerConn)
		}
		share := "–"
		if r.WorstShare > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.WorstShare)
		}
		fmt.Fprintf(&b, "| %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %.2f | %s |\n",
			r.Scenario, r.Broker, r.Pair, dash(r.PublishRate), dash(r.ConfirmRate), dash(r.ConsumeRate), share,
			dash(r.P50), dash(r.P99), kib, r.BrokerCPUSeconds, r.ClientCPUSeconds, r.OtherCPUSeconds, r.Load1, status)
	}
	for _, p := range rep.Profiles {
		fmt.Fprintf(&b, "\nProfile of Warren, scenario %d (published %s/s, consumed %s/s while profiled):\n\n```\n%s```\n",
			p.Scenario, num(p.PublishRate), num(p.ConsumeRate), p.Top)
	}
	return b.String()
}

// dash is num, with "–" for zero.
func dash(v float64) string {
	if v == 0 {
		return "–"
	}
	return num(v)
}

// num formats with thousands separators, no decimals (one below 100).
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
