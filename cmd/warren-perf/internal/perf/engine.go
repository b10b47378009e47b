// Package perf is the engine of warren-perf: it declares a topology, runs
// producers and consumers over one of two clients, drains the queues, and
// accounts for every message by the sequence stamp in its body.
//
// A run has three phases:
//
//  1. Set-up: declare the exchange, queues and bindings (amqp091-go, in
//     both client modes), open the idle connections, connect and start
//     the consumers, connect the producers.
//  2. The measured phase, from the moment every client is connected until
//     --time, the message counts, or ctx. Rates are over this phase.
//  3. The drain: the producers stop, finish cleanly (every confirm
//     resolved, connection.close answered with close-ok, which the broker
//     sends only after it has handled every publish before it), and the
//     consumers take what is left, until every expected message arrived,
//     or no delivery came for DrainIdle and the queues are empty, or
//     DrainTimeout passed.
//
// Loss is claimed only when it is certain: the producers finished cleanly
// (so the broker accepted what they sent, or confirmed it) and the drain
// completed or emptied the queues. Then a message is lost if its sequence
// is below what its producer sent (and, with confirms, was not nacked) and
// no consumer of a queue it was routed to saw it; the run exits 1. In any
// other case the verdict is inconclusive and the unseen count is reported
// as missing. A consume-only run (a queue filled by an earlier run) checks
// each producer's sequence for holes, and the shortfall from --cmessages
// once the queues are empty.
package perf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Options are what a caller of Run may hook into.
type Options struct {
	// Progress, if set, is called about once a second during the run,
	// from a goroutine of its own.
	Progress func(Sample)
}

// producer is one publishing connection.
type producer struct {
	id       int
	exchange string
	key      string
	dests    []int // indexes of the queues its messages reach
	sent     atomic.Uint64
	win      *confirmWindow // nil without confirms
	clean    bool           // stopped with every confirm resolved and close-ok
	err      error
	done     chan struct{}
	closer   atomic.Value // io.Closer, to force the socket shut
	blocked  atomic.Int64
}

// consumer is one consuming connection.
type consumer struct {
	id       int
	queue    int
	received atomic.Uint64
	hist     Histogram
	err      error
	done     chan struct{}
	closer   atomic.Value // io.Closer
	stopMu   sync.Mutex
	stopFn   func() // asks the consumer to cancel; set once consuming
	stopping bool
}

func (c *consumer) setStop(f func()) {
	c.stopMu.Lock()
	c.stopFn = f
	stop := c.stopping
	c.stopMu.Unlock()
	if stop {
		f()
	}
}

func (c *consumer) stop() {
	c.stopMu.Lock()
	c.stopping = true
	f := c.stopFn
	c.stopMu.Unlock()
	if f != nil {
		f()
	}
}

func kill(v *atomic.Value) {
	if c, ok := v.Load().(io.Closer); ok {
		_ = c.Close()
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// run is the state of one Run.
type run struct {
	cfg       Config
	uri       amqp091.URI
	uriStr    string
	exchange  string
	queues    []string
	ownQueues bool
	trackers  []*QueueTracker
	perQueue  []int // consumers per queue
	multiAck  int

	producers []*producer
	consumers []*consumer

	ctx      context.Context // the caller's, for dialing
	stopping atomic.Bool     // producers must stop
	stopCh   chan struct{}   // closed with stopping
	startCh  chan struct{}   // closed when every producer is ready

	setupMu sync.Mutex
	setup   *amqp091.Connection

	mu       sync.Mutex
	errs     []string
	warnings []string
}

func (r *run) errorf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *run) warnf(format string, args ...any) {
	r.mu.Lock()
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// Run performs one run as cfg says and returns its result. It returns an
// error, and no result, only when the run could not start: bad config,
// broker unreachable, topology refused, a client that could not connect.
// Failures during the run are in Result.Errors and Result.ExitCode.
//
// Cancelling ctx ends the measured phase early, as --time does; the
// producers stop and the consumers still drain (bounded by DrainTimeout).
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &run{
		cfg:      cfg,
		uriStr:   cfg.URI,
		ctx:      ctx,
		stopCh:   make(chan struct{}),
		startCh:  make(chan struct{}),
		multiAck: cfg.effectiveMultiAck(),
	}
	if cfg.MultiAck != r.multiAck {
		r.warnf("multi-ack %d lowered to the prefetch %d, or consumers would wait for messages the broker may not send", cfg.MultiAck, r.multiAck)
	}
	var sk *sink
	if cfg.Sink {
		var err error
		if sk, err = startSink(); err != nil {
			return nil, err
		}
		defer sk.close()
		r.uriStr = "amqp://guest:guest@" + sk.addr() + "/"
		r.cfg.Predeclared = true
	}
	var err error
	if r.uri, err = amqp091.ParseURI(r.uriStr); err != nil {
		return nil, fmt.Errorf("uri: %w", err)
	}
	r.exchange = r.cfg.exchangeName()
	r.queues, r.ownQueues = r.cfg.queueNames(newRunID())
	r.trackers = make([]*QueueTracker, len(r.queues))
	for i, q := range r.queues {
		r.trackers[i] = NewQueueTracker(q)
	}
	r.perQueue = make([]int, len(r.queues))
	for c := range cfg.Consumers {
		r.perQueue[c%len(r.queues)]++
	}
	if cfg.Producers > 0 && cfg.Consumers > 0 {
		for q, n := range r.perQueue {
			if n == 0 {
				r.warnf("queue %s has no consumer: it fills up and is left out of the loss accounting", r.queues[q])
			}
		}
	}

	if !cfg.Sink {
		if err := r.declare(); err != nil {
			r.closeSetup()
			return nil, err
		}
		defer r.teardown()
	}

	res := &Result{Client: cfg.Client, Config: cfg, Queues: r.queues, Exchange: r.exchange, Started: time.Now()}
	res.Config.URI = redact(cfg.URI)

	var idle *idleSet
	if cfg.IdleConnections > 0 {
		idle = r.openIdle(cfg.IdleConnections)
		res.Idle = &idle.result
		defer idle.close()
		if idle.result.Opened < cfg.IdleConnections {
			r.errorf("opened %d of %d idle connections: %s", idle.result.Opened, cfg.IdleConnections, idle.firstErr)
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	// Anything still connected when Run returns is forced shut.
	defer func() {
		for _, p := range r.producers {
			kill(&p.closer)
		}
		for _, c := range r.consumers {
			kill(&c.closer)
		}
	}()

	// Consumers first, so no message published is missed.
	ready := make(chan error, cfg.Consumers+cfg.Producers)
	for i := range cfg.Consumers {
		c := &consumer{id: i, queue: i % len(r.queues), done: make(chan struct{})}
		r.consumers = append(r.consumers, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(c.done)
			if cfg.Client == ClientPipelined {
				c.err = r.pipelinedConsumer(c, ready)
			} else {
				c.err = r.amqp091Consumer(c, ready)
			}
			if c.err != nil {
				r.errorf("consumer %d: %v", c.id, c.err)
			}
		}()
	}
	if err := waitReady(ready, cfg.Consumers); err != nil {
		r.stopConsumers(5 * time.Second)
		return nil, fmt.Errorf("consumer: %w", err)
	}
	for i := range cfg.Producers {
		p := &producer{id: i, exchange: r.exchange, done: make(chan struct{})}
		p.key, p.dests = r.route(i)
		if cfg.Confirm > 0 {
			p.win = newConfirmWindow(cfg.Confirm)
		}
		r.producers = append(r.producers, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(p.done)
			if cfg.Client == ClientPipelined {
				p.err = r.pipelinedProducer(p, ready)
			} else {
				p.err = r.amqp091Producer(p, ready)
			}
			if p.err != nil {
				r.errorf("producer %d: %v", p.id, p.err)
			}
		}()
	}
	if err := waitReady(ready, cfg.Producers); err != nil {
		r.stopProducers()
		close(r.startCh)
		r.waitProducers(10 * time.Second)
		r.stopConsumers(5 * time.Second)
		return nil, fmt.Errorf("producer: %w", err)
	}

	// The measured phase.
	t0 := time.Now()
	res.Started = t0
	close(r.startCh)
	samples := r.sampler(t0, opt.Progress)
	res.EndReason = r.waitEnd(ctx, t0)
	t1 := time.Now()
	pubAtEnd, conAtEnd := r.totals()
	r.stopProducers()
	r.waitProducers(r.cfg.DrainTimeout + 30*time.Second)
	drain := drainNone
	if !cfg.Sink {
		drain = r.drain(t1)
	}
	tDrained := time.Now()
	r.stopConsumers(15 * time.Second)
	res.Samples = samples.stop()
	if idle != nil {
		idle.close()
	}

	// The numbers.
	el := t1.Sub(t0).Seconds()
	res.Seconds = el
	for _, p := range r.producers {
		res.Published.Messages += p.sent.Load()
		if p.win != nil {
			a, n, _ := p.win.counts()
			res.Published.Confirmed += a
			res.Published.Nacked += n
		}
		res.Blocked += int(p.blocked.Load())
	}
	res.Published.Rate = rate(pubAtEnd.sent, el)
	res.Published.ConfirmRate = rate(pubAtEnd.confirmed, el)
	var hist Histogram
	for _, c := range r.consumers {
		res.Consumed.Total += c.received.Load()
		hist.Merge(&c.hist)
	}
	res.Consumed.Messages = conAtEnd
	res.Consumed.Rate = rate(conAtEnd, el)
	res.Consumed.DrainSeconds = tDrained.Sub(t1).Seconds()
	res.Latency = summarize(&hist)
	if sk != nil {
		res.Sink = &SinkResult{Messages: sk.msgs.Load(), Bytes: sk.bytes.Load(), Delivered: sk.delivered.Load()}
		res.Integrity = Integrity{Verdict: VerdictNotChecked, Reason: "sink run: nothing is stored"}
	} else {
		res.Integrity = r.integrity(drain)
	}
	r.mu.Lock()
	res.Errors = append(res.Errors, r.errs...)
	res.Warnings = append(res.Warnings, r.warnings...)
	r.mu.Unlock()
	switch {
	case res.Integrity.Verdict == VerdictLost:
		res.ExitCode = 1
	case len(res.Errors) > 0:
		res.ExitCode = 3
	}
	return res, nil
}

func waitReady(ready chan error, n int) error {
	var first error
	for range n {
		if err := <-ready; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func rate(n uint64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

// route returns producer p's routing key and the queues its messages
// reach: queue p mod N, or every queue through a fanout exchange.
func (r *run) route(p int) (string, []int) {
	q := p % len(r.queues)
	if r.cfg.Type == "fanout" && r.exchange != "" {
		all := make([]int, len(r.queues))
		for i := range all {
			all[i] = i
		}
		return "", all
	}
	if r.cfg.Type == "topic" && r.exchange != "" && !r.cfg.Predeclared {
		return "perf." + strconv.Itoa(q+1) + ".msg", []int{q}
	}
	return r.queues[q], []int{q}
}

// bindingKey is the key queue q is bound with.
func (r *run) bindingKey(q int) string {
	switch r.cfg.Type {
	case "fanout":
		return ""
	case "topic":
		return "perf." + strconv.Itoa(q+1) + ".#"
	}
	return r.queues[q]
}

// dial091 opens an amqp091-go connection named for its role.
func (r *run) dial091(name string) (*amqp091.Connection, error) {
	return amqp091.DialConfig(r.uriStr, amqp091.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Properties: amqp091.Table{"connection_name": "warren-perf " + name, "product": "warren-perf"},
		Dial:       amqp091.DefaultDial(10 * time.Second),
	})
}

// declare sets up the exchange, queues and bindings over amqp091-go (the
// same in both client modes), or checks that predeclared queues exist.
func (r *run) declare() error {
	conn, err := r.dial091("setup")
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	r.setup = conn
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if !r.cfg.Predeclared {
		if r.exchange != "" {
			if err := ch.ExchangeDeclare(r.exchange, r.cfg.Type, true, false, false, false, nil); err != nil {
				return fmt.Errorf("declare exchange %s: %w", r.exchange, err)
			}
		}
		for i, q := range r.queues {
			if _, err := ch.QueueDeclare(q, r.cfg.DurableQueues, false, false, false, nil); err != nil {
				return fmt.Errorf("declare queue %s: %w", q, err)
			}
			if r.exchange != "" {
				if err := ch.QueueBind(q, r.bindingKey(i), r.exchange, false, nil); err != nil {
					return fmt.Errorf("bind queue %s: %w", q, err)
				}
			}
		}
	} else {
		for _, q := range r.queues {
			if _, err := ch.QueueDeclarePassive(q, false, false, false, false, nil); err != nil {
				return fmt.Errorf("predeclared queue %s: %w", q, err)
			}
		}
	}
	if r.cfg.Purge {
		for _, q := range r.queues {
			if _, err := ch.QueuePurge(q, false); err != nil {
				return fmt.Errorf("purge %s: %w", q, err)
			}
		}
	}
	return nil
}

// depths returns the ready-message count of each queue, -1 where unknown.
func (r *run) depths() []int {
	out := make([]int, len(r.queues))
	for i := range out {
		out[i] = -1
	}
	r.setupMu.Lock()
	defer r.setupMu.Unlock()
	if r.setup == nil || r.setup.IsClosed() {
		return out
	}
	ch, err := r.setup.Channel()
	if err != nil {
		return out
	}
	defer ch.Close()
	for i, q := range r.queues {
		st, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		if err != nil {
			return out
		}
		out[i] = st.Messages
	}
	return out
}

// teardown deletes the queues the tool named, and closes the set-up
// connection.
func (r *run) teardown() {
	r.setupMu.Lock()
	defer r.setupMu.Unlock()
	if r.ownQueues && r.setup != nil && !r.setup.IsClosed() {
		if ch, err := r.setup.Channel(); err == nil {
			for _, q := range r.queues {
				if _, err := ch.QueueDelete(q, false, false, false); err != nil {
					r.warnf("delete queue %s: %v", q, err)
					break
				}
			}
			_ = ch.Close()
		}
	}
	if r.setup != nil {
		_ = r.setup.Close()
		r.setup = nil
	}
}

func (r *run) closeSetup() {
	if r.setup != nil {
		_ = r.setup.Close()
		r.setup = nil
	}
}

// waitEnd waits for the end of the measured phase and says why it ended.
func (r *run) waitEnd(ctx context.Context, t0 time.Time) string {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastCount uint64
	lastChange := t0
	for {
		select {
		case <-ctx.Done():
			return "interrupted"
		case <-tick.C:
		}
		now := time.Now()
		if r.cfg.Duration > 0 && now.Sub(t0) >= r.cfg.Duration {
			return "time"
		}
		switch {
		case len(r.producers) > 0:
			if allProducersDone(r.producers) {
				if r.cfg.PMessages > 0 && r.anyProducerOK() {
					return "pmessages"
				}
				return "failed"
			}
		case len(r.consumers) > 0:
			if allConsumersDone(r.consumers) {
				if r.cfg.CMessages > 0 {
					return "cmessages"
				}
				return "failed"
			}
			// A consume-only run with a message count also ends when
			// the queues run dry short of it.
			if r.cfg.CMessages > 0 {
				_, n := r.totals()
				if n != lastCount {
					lastCount, lastChange = n, now
				} else if now.Sub(lastChange) >= r.cfg.DrainIdle {
					if allZero(r.consumedDepths()) {
						return "idle"
					}
					lastChange = now
				}
			}
		}
	}
}

func (r *run) anyProducerOK() bool {
	for _, p := range r.producers {
		if p.err == nil {
			return true
		}
	}
	return false
}

func allProducersDone(ps []*producer) bool {
	for _, p := range ps {
		if !isDone(p.done) {
			return false
		}
	}
	return true
}

func allConsumersDone(cs []*consumer) bool {
	for _, c := range cs {
		if !isDone(c.done) {
			return false
		}
	}
	return true
}

func allZero(d []int) bool {
	for _, n := range d {
		if n != 0 {
			return false
		}
	}
	return true
}

// consumedDepths is depths() restricted to queues with consumers (others
// count as empty).
func (r *run) consumedDepths() []int {
	d := r.depths()
	for q := range d {
		if r.perQueue[q] == 0 {
			d[q] = 0
		}
	}
	return d
}

type pubTotals struct{ sent, confirmed uint64 }

func (r *run) totals() (pubTotals, uint64) {
	var p pubTotals
	for _, pr := range r.producers {
		p.sent += pr.sent.Load()
		if pr.win != nil {
			p.confirmed += pr.win.ackedCount()
		}
	}
	var c uint64
	for _, co := range r.consumers {
		c += co.received.Load()
	}
	return p, c
}

func (r *run) stopProducers() {
	if r.stopping.Swap(true) {
		return
	}
	close(r.stopCh)
	for _, p := range r.producers {
		if p.win != nil {
			p.win.stop()
		}
	}
}

// waitProducers waits for the producers to finish, then forces the
// stragglers shut.
func (r *run) waitProducers(timeout time.Duration) {
	deadline := time.After(timeout)
	for _, p := range r.producers {
		select {
		case <-p.done:
		case <-deadline:
			r.errorf("producer %d did not finish within %v; closed its socket", p.id, timeout)
			kill(&p.closer)
			<-p.done
		}
	}
}

func (r *run) stopConsumers(timeout time.Duration) {
	for _, c := range r.consumers {
		c.stop()
	}
	deadline := time.After(timeout)
	for _, c := range r.consumers {
		select {
		case <-c.done:
		case <-deadline:
			r.errorf("consumer %d did not finish within %v; closed its socket", c.id, timeout)
			kill(&c.closer)
			<-c.done
		}
	}
}

// Drain outcomes.
const (
	drainNone      = ""         // no drain phase
	drainComplete  = "complete" // every expected message arrived
	drainEmpty     = "empty"    // idle, and the queues were empty
	drainTimeout   = "timeout"
	drainStopped   = "consumers-stopped"
	drainNotClean  = "producers-unclean"
	drainNoChecked = "nothing-to-check"
)

// expectation is what queue q should get from producer p.
type expectation struct {
	q, p     int
	n        uint64   // sequences 0…n-1 were published
	excused  []uint64 // nacked sequences
	distinct uint64   // n minus the excused: the count to wait for
}

func (r *run) expectations() []expectation {
	var out []expectation
	for _, p := range r.producers {
		n := p.sent.Load()
		var nacked []uint64
		if p.win != nil {
			_, _, nacked = p.win.counts()
		}
		for _, q := range p.dests {
			if r.perQueue[q] == 0 {
				continue
			}
			out = append(out, expectation{q: q, p: p.id, n: n, excused: nacked, distinct: n - uint64(len(nacked))})
		}
	}
	return out
}

// drain lets the consumers take what the producers left in the queues,
// and says how that ended.
func (r *run) drain(t1 time.Time) string {
	if len(r.producers) == 0 || len(r.consumers) == 0 {
		return drainNone
	}
	exp := r.expectations()
	if len(exp) == 0 {
		return drainNoChecked
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	_, lastCount := r.totals()
	lastChange := start
	for {
		complete := true
		for _, e := range exp {
			if r.trackers[e.q].Distinct(e.p) < e.distinct {
				complete = false
				break
			}
		}
		if complete {
			return drainComplete
		}
		now := time.Now()
		if allConsumersDone(r.consumers) {
			return drainStopped
		}
		if now.Sub(start) >= r.cfg.DrainTimeout {
			return drainTimeout
		}
		if _, n := r.totals(); n != lastCount {
			lastCount, lastChange = n, now
		} else if now.Sub(lastChange) >= r.cfg.DrainIdle {
			if allZero(r.consumedDepths()) {
				return drainEmpty
			}
			lastChange = now
		}
		<-tick.C
	}
}

// sampler records totals once a second for the progress line and the
// JSON time series.
type sampler struct {
	stopCh chan struct{}
	done   chan struct{}
	out    []Sample
}

func (r *run) sampler(t0 time.Time, progress func(Sample)) *sampler {
	s := &sampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var prevP pubTotals
		var prevC uint64
		prevT := t0
		for {
			select {
			case <-s.stopCh:
				return
			case now := <-tick.C:
				p, c := r.totals()
				dt := now.Sub(prevT).Seconds()
				smp := Sample{
					Seconds:       now.Sub(t0).Seconds(),
					PublishRate:   rate(p.sent-prevP.sent, dt),
					ConfirmRate:   rate(p.confirmed-prevP.confirmed, dt),
					ConsumeRate:   rate(c-prevC, dt),
					Published:     p.sent,
					Confirmed:     p.confirmed,
					Consumed:      c,
					Draining:      r.stopping.Load(),
					ConfirmsInUse: r.cfg.Confirm > 0,
					Producing:     r.cfg.Producers > 0,
					Consuming:     r.cfg.Consumers > 0,
				}
				prevP, prevC, prevT = p, c, now
				s.out = append(s.out, smp)
				if progress != nil {
					progress(smp)
				}
			}
		}
	}()
	return s
}

func (s *sampler) stop() []Sample {
	close(s.stopCh)
	<-s.done
	return s.out
}

// integrity turns the trackers and the producers' outcomes into a verdict.
func (r *run) integrity(drain string) Integrity {
	in := Integrity{Verdict: VerdictNotChecked}
	shared := false
	for _, n := range r.perQueue {
		if n > 1 {
			shared = true
		}
	}
	in.ReorderExpected = shared
	snaps := make([][]Stream, len(r.trackers))
	for q, t := range r.trackers {
		var foreign uint64
		snaps[q], foreign = t.Snapshot()
		in.Foreign += foreign
	}
	if len(r.consumers) == 0 {
		in.Reason = "no consumers"
		return in
	}
	qs := make([]QueueIntegrity, len(r.queues))
	for q := range qs {
		qs[q] = QueueIntegrity{Queue: r.queues[q], Consumers: r.perQueue[q], Depth: -1}
		for _, s := range snaps[q] {
			qs[q].Received += s.Received
			qs[q].Distinct += s.Distinct
			qs[q].Duplicated += s.Dups
			qs[q].Reordered += s.Reordered
		}
	}
	addTotals := func() {
		for _, qi := range qs {
			in.Expected += qi.Expected
			in.Received += qi.Received
			in.Distinct += qi.Distinct
			in.Missing += qi.Missing
			in.Duplicated += qi.Duplicated
			in.Reordered += qi.Reordered
		}
		in.Queues = qs
	}

	if len(r.producers) > 0 {
		for _, e := range r.expectations() {
			var s Stream
			if e.p < len(snaps[e.q]) {
				s = snaps[e.q][e.p]
			}
			qs[e.q].Expected += e.distinct
			qs[e.q].Missing += s.Missing(e.n, e.excused)
		}
		addTotals()
		clean := true
		for _, p := range r.producers {
			clean = clean && p.clean
		}
		switch {
		case drain == drainNoChecked:
			in.Reason = "no queue has both producers and consumers"
			return in
		case !clean:
			in.Verdict = VerdictInconclusive
			in.Reason = "a producer did not finish cleanly (error, or confirms outstanding), so what the broker accepted is unknown"
		case drain == drainComplete:
			in.Verdict = VerdictOK
			in.Reason = "every published message was consumed"
			if r.cfg.Confirm > 0 {
				in.Reason = "every confirmed message was consumed"
			}
		case drain == drainEmpty:
			in.Reason = fmt.Sprintf("the queues were drained to empty after %v without a delivery", r.cfg.DrainIdle)
			in.Verdict = VerdictOK
		case drain == drainStopped:
			in.Verdict = VerdictInconclusive
			in.Reason = "the consumers stopped (cmessages or error) before the queues were drained"
		default:
			in.Verdict = VerdictInconclusive
			in.Reason = fmt.Sprintf("the drain did not finish within %v", r.cfg.DrainTimeout)
		}
		if in.Verdict == VerdictOK && in.Missing > 0 {
			in.Verdict = VerdictLost
			in.Lost = in.Missing
		}
		return in
	}

	// Consume only: the queue was filled by another run, so only holes in
	// each producer's sequence show loss, plus the shortfall from
	// --cmessages once the queues are empty.
	depth := r.consumedDepths()
	empty := allZero(depth)
	for q := range qs {
		qs[q].Depth = depth[q]
		for _, s := range snaps[q] {
			qs[q].Expected += s.Next
			qs[q].Missing += s.Holes()
		}
	}
	addTotals()
	var short uint64
	if r.cfg.CMessages > 0 {
		for _, c := range r.consumers {
			if got := c.received.Load(); got < r.cfg.CMessages {
				short += r.cfg.CMessages - got
			}
		}
	}
	switch {
	case in.Distinct == 0:
		in.Reason = "nothing was consumed"
		if short > 0 && empty {
			in.Verdict = VerdictLost
			in.Lost = short
			in.Reason = fmt.Sprintf("the queues are empty and %d messages short of cmessages", short)
		}
	case empty:
		in.Lost = in.Missing + short
		in.Verdict = VerdictOK
		in.Reason = "the queues were drained to empty; checked the sequence of each producer"
		if short > 0 {
			in.Reason += fmt.Sprintf(", and %d messages short of cmessages", short)
		}
		if in.Lost > 0 {
			in.Verdict = VerdictLost
		}
	case in.Missing == 0:
		in.Verdict = VerdictOK
		in.Reason = "no hole in any producer's sequence (the queues were not drained to empty)"
	default:
		in.Verdict = VerdictInconclusive
		in.Reason = "holes in the sequences, but the queues still hold messages"
	}
	return in
}
