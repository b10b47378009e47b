package main_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The crash test: a publisher with confirms and a consumer that acks some
// messages run against the daemon until it is killed with SIGKILL at a
// random moment; after a restart on the same data directory, the queue
// holds every confirmed message that was not acked, once, in order,
// marked redelivered, and none whose ack is known to be durable.
//
// When is an ack known to be durable? Store.Delete has no callback: a
// crash may lose the latest deletes, and AMQP allows the message to come
// back. But the broker processes a channel's frames in order and enqueues
// the store delete of an acked message before it reads the next frame
// (channel.settle → deleteStored → Store.Delete, on the connection's
// reader goroutine); and the store's committer writes what is queued in
// order, group after group, completing a group's callbacks only once the
// group and all groups before it are committed with SyncWrites
// (store/committer.go). So if the consumer acks, then completes a
// synchronous round trip on the same channel (queue.declare passive), the
// deletes of those acks are queued in the store; any publish that starts
// after that is appended behind them, and its confirm (sent only after its
// append's callback) proves the deletes durable.

const (
	crashQueue  = "crash"
	crashWindow = 200 // unconfirmed publishes in flight
	ackGroup    = 20  // acks between two synchronous round trips of the consumer
	crashRuns   = 3
	// The kill comes after a warm-up that guarantees something to check,
	// then after a random delay.
	warmupConfirms  = 500
	warmupAckGroups = 2
)

func TestCrashKeepsConfirmedMessages(t *testing.T) {
	base := time.Now().UnixNano()
	if s := os.Getenv("WARREN_CRASH_SEED"); s != "" {
		var err error
		if base, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("WARREN_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seeds %d.. (WARREN_CRASH_SEED=%d repeats this run)", base, base)
	for i := range int64(crashRuns) {
		seed := base + i
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { crashRun(t, seed) })
	}
}

func crashRun(t *testing.T, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	delay := time.Duration(100+rng.IntN(701)) * time.Millisecond
	t.Logf("SIGKILL %v after the warm-up", delay)

	dir := t.TempDir()
	d := startDaemon(t, dir)
	setup := channel(t, d)
	_, err := setup.QueueDeclare(crashQueue, true, false, false, false, nil)
	must(t, err)

	var rec crashRecord
	rec.confirmed = map[uint64]bool{}
	rec.nacked = map[uint64]bool{}
	rec.ackSent = map[uint64]bool{}
	rec.delivered = map[uint64]int{}
	pubDone := runPublisher(t, d, &rec)
	conDone := runConsumer(t, d, &rec)

	// Warm up: enough confirms, and acks known to be durable.
	deadline := time.Now().Add(startTimeout)
	for !rec.warm() {
		if time.Now().After(deadline) {
			t.Fatalf("no warm-up after %v: %s", startTimeout, rec.summary())
		}
		select {
		case <-pubDone:
			t.Fatalf("publisher stopped during the warm-up: %v", rec.errors())
		case <-conDone:
			t.Fatalf("consumer stopped during the warm-up: %v", rec.errors())
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(delay) // the point of the test: a kill at a random moment
	d.kill()
	for _, done := range []<-chan struct{}{pubDone, conDone} {
		select {
		case <-done:
		case <-time.After(rpcTimeout):
			t.Fatalf("clients still running %v after the kill", rpcTimeout)
		}
	}
	t.Logf("at the kill: %s; client errors: %v", rec.summary(), rec.errors())

	d = startDaemon(t, dir)
	ch := channel(t, d)
	n := queueLen(t, ch, crashQueue)
	var got []uint64
	var notRedelivered []uint64
	for {
		dl, ok, err := ch.Get(crashQueue, true)
		must(t, err)
		if !ok {
			break
		}
		seq, err := strconv.ParseUint(string(dl.Body), 10, 64)
		if err != nil {
			t.Fatalf("recovered body %q: %v", dl.Body, err)
		}
		if !dl.Redelivered {
			notRedelivered = append(notRedelivered, seq)
		}
		got = append(got, seq)
	}
	if len(notRedelivered) > 0 {
		t.Errorf("%d recovered messages not marked redelivered: %v", len(notRedelivered), head(notRedelivered))
	}
	if len(got) != n {
		t.Errorf("queue.declare counted %d messages after the restart, basic.get found %d", n, len(got))
	}
	if e := d.log.entries("recovered definitions and messages"); len(e) != 1 || e[0]["messages"] != float64(len(got)) {
		t.Errorf("recovery log %v, want one line with messages=%d", e, len(got))
	}
	t.Logf("recovered %d messages", len(got))
	rec.check(t, got)
	d.stop()
}

// crashRecord is what the clients saw before the kill.
type crashRecord struct {
	started atomic.Uint64 // the highest sequence number whose publish has begun

	mu        sync.Mutex
	confirmed map[uint64]bool // basic.ack from the broker
	nacked    map[uint64]bool
	maxAcked  uint64          // the highest confirmed sequence number
	delivered map[uint64]int  // deliveries to the consumer
	ackSent   map[uint64]bool // acked by the consumer (perhaps never processed)
	// synced are groups of consumer acks followed by a completed
	// synchronous round trip; after is started when it completed. The
	// group's deletes are durable once a sequence number above after is
	// confirmed.
	synced []syncedAcks
	errs   []error
}

type syncedAcks struct {
	seqs  []uint64
	after uint64
}

func (r *crashRecord) fail(who string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Errorf("%s: %w", who, err))
}

func (r *crashRecord) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// durableAcks returns the sequence numbers whose acks are known durable.
func (r *crashRecord) durableAcks() map[uint64]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[uint64]bool{}
	for _, g := range r.synced {
		if r.maxAcked > g.after {
			for _, s := range g.seqs {
				m[s] = true
			}
		}
	}
	return m
}

func (r *crashRecord) warm() bool {
	r.mu.Lock()
	confirmed, groups := len(r.confirmed), 0
	for _, g := range r.synced {
		if r.maxAcked > g.after {
			groups++
		}
	}
	r.mu.Unlock()
	return confirmed >= warmupConfirms && groups >= warmupAckGroups
}

func (r *crashRecord) summary() string {
	durable := len(r.durableAcks())
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("published %d, confirmed %d (highest %d), nacked %d, delivered %d, acks sent %d, acks known durable %d",
		r.started.Load(), len(r.confirmed), r.maxAcked, len(r.nacked), len(r.delivered), len(r.ackSent), durable)
}

// check compares the recovered queue with what the clients saw.
func (r *crashRecord) check(t *testing.T, got []uint64) {
	t.Helper()
	durable := r.durableAcks()
	r.mu.Lock()
	defer r.mu.Unlock()
	published := r.started.Load()
	seen := map[uint64]bool{}
	var dup, disorder, unknown, back, lost, redelivered []uint64
	for i, s := range got {
		if seen[s] {
			dup = append(dup, s)
		}
		if i > 0 && s <= got[i-1] {
			disorder = append(disorder, s)
		}
		seen[s] = true
		if s == 0 || s > published {
			unknown = append(unknown, s)
		}
		if durable[s] {
			back = append(back, s)
		}
	}
	for s := range r.confirmed {
		if !seen[s] && !r.ackSent[s] {
			lost = append(lost, s)
		}
	}
	for s, n := range r.delivered {
		if n > 1 {
			redelivered = append(redelivered, s)
		}
	}
	slices.Sort(lost)
	slices.Sort(redelivered)
	for _, c := range []struct {
		seqs []uint64
		what string
	}{
		{dup, "recovered twice"},
		{disorder, "recovered out of order (not above the one before)"},
		{unknown, fmt.Sprintf("recovered but never published (highest published %d)", published)},
		{back, fmt.Sprintf("recovered although their acks were durable (confirms up to %d came after)", r.maxAcked)},
		{lost, "confirmed, never acked, and lost"},
		{redelivered, "delivered more than once before the kill"},
	} {
		if len(c.seqs) > 0 {
			t.Errorf("%d messages %s: %v", len(c.seqs), c.what, head(c.seqs))
		}
	}
	returned := 0
	for s := range r.ackSent {
		if seen[s] {
			returned++
		}
	}
	t.Logf("%d acked messages came back (acks not known durable at the kill)", returned)
}

// head shortens a list of sequence numbers for an error message.
func head(s []uint64) []uint64 {
	return s[:min(len(s), 40)]
}

// runPublisher publishes persistent messages 1, 2, 3... (the body is the
// sequence number, which is also the delivery tag of its confirm) with at
// most crashWindow unconfirmed, until the connection breaks. The returned
// channel is closed once it has stopped and every confirm is recorded.
func runPublisher(t *testing.T, d *daemon, r *crashRecord) <-chan struct{} {
	ch, err := dial(t, d).Channel()
	must(t, err)
	must(t, ch.Confirm(false))
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, crashWindow))
	slots := make(chan struct{}, crashWindow)
	confirmsDone := make(chan struct{})
	go func() {
		defer close(confirmsDone)
		for c := range confirms {
			r.mu.Lock()
			if c.Ack {
				r.confirmed[c.DeliveryTag] = true
				r.maxAcked = max(r.maxAcked, c.DeliveryTag)
			} else {
				r.nacked[c.DeliveryTag] = true
			}
			r.mu.Unlock()
			select {
			case <-slots:
			default:
				r.fail("publisher", fmt.Errorf("confirm of %d, which is not in flight", c.DeliveryTag))
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { <-confirmsDone }()
		for seq := uint64(1); ; seq++ {
			select {
			case slots <- struct{}{}:
			case <-confirmsDone:
				return
			}
			r.started.Store(seq)
			err := ch.Publish("", crashQueue, false, false, amqp091.Publishing{
				DeliveryMode: amqp091.Persistent,
				Body:         strconv.AppendUint(nil, seq, 10),
			})
			if err != nil {
				r.fail("publish", err)
				return
			}
		}
	}()
	return done
}

// runConsumer consumes with manual acks and acks every even message, one
// by one, with a synchronous round trip after every ackGroup acks. The
// returned channel is closed once it has stopped.
func runConsumer(t *testing.T, d *daemon, r *crashRecord) <-chan struct{} {
	ch, err := dial(t, d).Channel()
	must(t, err)
	deliveries, err := ch.Consume(crashQueue, "", false, false, false, false, nil)
	must(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var group []uint64
		for dl := range deliveries {
			seq, err := strconv.ParseUint(string(dl.Body), 10, 64)
			if err != nil {
				r.fail("consumer", fmt.Errorf("body %q: %w", dl.Body, err))
				continue
			}
			r.mu.Lock()
			r.delivered[seq]++
			if seq%2 == 0 {
				r.ackSent[seq] = true // before sending: it may arrive however Ack ends
			}
			r.mu.Unlock()
			if seq%2 != 0 {
				continue
			}
			if err := dl.Ack(false); err != nil {
				r.fail("ack", err)
				return
			}
			group = append(group, seq)
			if len(group) < ackGroup {
				continue
			}
			// The broker has processed the acks before it answers this.
			if _, err := ch.QueueDeclarePassive(crashQueue, true, false, false, false, nil); err != nil {
				r.fail("sync", err)
				return
			}
			after := r.started.Load()
			r.mu.Lock()
			r.synced = append(r.synced, syncedAcks{seqs: group, after: after})
			r.mu.Unlock()
			group = nil
		}
	}()
	return done
}
