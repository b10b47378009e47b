package main_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// A signal stops the daemon gracefully: connected clients get
// connection.close 320 CONNECTION_FORCED and the process exits with 0.
func TestSignalShutsDownGracefully(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, t.TempDir())
			conn := dial(t, d)
			closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
			ch, err := conn.Channel()
			must(t, err)
			_, err = ch.QueueDeclare("", false, true, true, false, nil)
			must(t, err)

			deadline := time.Now().Add(stopTimeout)
			d.signal(tc.sig)
			select {
			case e := <-closed:
				if e == nil || e.Code != amqp091.ConnectionForced || !e.Server {
					st := d.waitExit(stopTimeout)
					t.Fatalf("connection closed with %#v, want a server connection.close 320; warren exited with %v%s",
						e, st, diagnoseExit(st))
				}
				if !strings.Contains(e.Reason, "CONNECTION_FORCED") {
					t.Errorf("close reason %q, want CONNECTION_FORCED", e.Reason)
				}
			case <-time.After(time.Until(deadline)):
				t.Fatalf("no connection.close within %v of %s", stopTimeout, tc.name)
			}
			if st := d.waitExit(time.Until(deadline)); st.ExitCode() != 0 {
				t.Fatalf("exit after %s: %v, want status 0%s", tc.name, st, diagnoseExit(st))
			}

			acc := d.log.entries(acceptingMsg)
			if len(acc) != 1 {
				t.Fatalf("%d %q log lines, want 1:\n%s", len(acc), acceptingMsg, d.log)
			}
			if acc[0]["level"] != "info" || acc[0]["addr"] != d.addr {
				t.Errorf("%q line %v, want level info and addr %s", acceptingMsg, acc[0], d.addr)
			}
			if s := d.log.entries("shutting down"); len(s) != 1 || s[0]["signal"] != tc.sig.String() {
				t.Errorf("shutting-down lines %v, want one with signal %q", s, tc.sig.String())
			}
			if s := d.log.entries("stopped"); len(s) != 1 {
				t.Errorf("%d \"stopped\" lines, want 1", len(s))
			}
		})
	}
}

// A data directory in use by another daemon is refused, and the daemon
// holding it goes on undisturbed.
func TestDataDirLockedByAnotherDaemon(t *testing.T) {
	dir := t.TempDir()
	first := startDaemon(t, dir)
	ch := channel(t, first)
	declareKept(t, ch)

	out := refusedStart(t, dir, "lock")
	t.Logf("second daemon: %s", errLine(out))

	// The first one still serves its data...
	if n := queueLen(t, channel(t, first), "kept"); n != keptMessages {
		t.Fatalf("first daemon's queue: %d messages, want %d", n, keptMessages)
	}
	// ...and its data is there after it stops.
	first.stop()
	d := startDaemon(t, dir)
	if n := queueLen(t, channel(t, d), "kept"); n != keptMessages {
		t.Fatalf("after restart: %d messages, want %d", n, keptMessages)
	}
}

// A corrupt data directory stops the daemon with an error, and its files
// stay as they were: it never starts empty over existing data.
func TestCorruptDataDirRefused(t *testing.T) {
	overwrite := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			must(t, err)
			b := make([]byte, fi.Size())
			for i := range b {
				b[i] = byte(i*31 + 7)
			}
			must(t, os.WriteFile(p, b, fi.Mode()))
		}
	}
	truncate := func(name string, size func(int64) int64) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			must(t, err)
			must(t, os.Truncate(p, size(fi.Size())))
		}
	}
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    string // in the error, with the directory
		// mayChange names a file Badger rewrites while refusing the
		// directory: a MANIFEST whose last record is cut short looks like
		// a torn write, which Badger truncates.
		mayChange string
	}{
		{name: "MANIFEST overwritten with garbage", corrupt: overwrite("MANIFEST"), want: "manifest"},
		{name: "MANIFEST emptied", corrupt: truncate("MANIFEST", func(int64) int64 { return 0 }), want: "manifest"},
		// Badger's 8-byte header (magic, version) and no change records:
		// a manifest of an empty database, beside tables holding data.
		{name: "MANIFEST cut to its header", corrupt: truncate("MANIFEST", func(int64) int64 { return 8 })},
		{name: "MANIFEST last record cut", corrupt: truncate("MANIFEST", func(n int64) int64 { return n - 1 }), mayChange: "MANIFEST"},
		{name: "table overwritten with garbage", corrupt: func(t *testing.T, dir string) {
			for _, p := range globOne(t, dir, "*.sst") {
				overwrite(filepath.Base(p))(t, dir)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			d := startDaemon(t, dir)
			declareKept(t, channel(t, d))
			d.stop()

			tc.corrupt(t, dir)
			before := snapshot(t, dir)
			if out := refusedStart(t, dir, tc.want); out != "" {
				t.Logf("refused: %s", errLine(out))
			}
			after := snapshot(t, dir)
			for name, sum := range before {
				got, ok := after[name]
				switch {
				case !ok:
					t.Errorf("%s was deleted", name)
				case got != sum && name != tc.mayChange:
					t.Errorf("%s was changed", name)
				}
			}
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Logf("new file %s (left by the failed open)", name)
				}
			}
		})
	}
}

// --data-dir naming a regular file is refused, and the file is left alone.
func TestDataDirIsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	content := []byte("not a data directory\n")
	must(t, os.WriteFile(path, content, 0o640))
	out := refusedStart(t, path, "not a directory")
	t.Logf("refused: %s", errLine(out))
	got, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(got, content) {
		t.Fatalf("the file was changed: %q", got)
	}
}

// Durable exchanges, queues, bindings and persistent messages survive a
// graceful restart; transient ones do not. Messages keep their order, and
// the counts are exact, over several restarts.
func TestRestartKeepsDurableState(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	ch := channel(t, d)
	must(t, ch.ExchangeDeclare("dx", "direct", true, false, false, false, nil))
	must(t, ch.ExchangeDeclare("tx", "fanout", false, false, false, false, nil))
	for _, q := range []struct {
		name    string
		durable bool
	}{{"dq", true}, {"tq", false}, {"dq.via.tx", true}} {
		_, err := ch.QueueDeclare(q.name, q.durable, false, false, false, nil)
		must(t, err)
	}
	must(t, ch.QueueBind("dq", "k", "dx", false, nil))
	must(t, ch.QueueBind("tq", "k", "dx", false, nil))
	must(t, ch.QueueBind("dq.via.tx", "", "tx", false, nil))

	// 120 messages to dx (dq and tq), every third one transient, and one
	// persistent message through the transient exchange.
	var msgs []amqp091.Publishing
	var persistent []string
	for i := 1; i <= 120; i++ {
		m := amqp091.Publishing{Body: fmt.Appendf(nil, "m%d", i), DeliveryMode: amqp091.Persistent}
		if i%3 == 0 {
			m.DeliveryMode = amqp091.Transient
		} else {
			persistent = append(persistent, string(m.Body))
		}
		msgs = append(msgs, m)
	}
	publishConfirmed(t, ch, "dx", "k", msgs)
	publishConfirmed(t, ch, "tx", "", []amqp091.Publishing{{Body: []byte("via tx"), DeliveryMode: amqp091.Persistent}})

	// Ack the first 10 messages of dq; leave the next 5 unacked at the
	// shutdown: those come back in their place.
	gc := channel(t, d)
	for i := range 15 {
		dl, ok, err := gc.Get("dq", false)
		must(t, err)
		if !ok {
			t.Fatalf("get %d: queue empty", i)
		}
		if i < 10 {
			must(t, dl.Ack(false))
		}
	}
	_, err := gc.QueueDeclarePassive("dq", true, false, false, false, nil) // the acks are processed
	must(t, err)
	ackedPersistent := 0
	for _, m := range msgs[:10] {
		if m.DeliveryMode == amqp091.Persistent {
			ackedPersistent++
		}
	}
	want := persistent[ackedPersistent:]

	d.stop()
	d = startDaemon(t, dir)
	ch = channel(t, d)
	if n := queueLen(t, ch, "dq"); n != len(want) {
		t.Fatalf("dq after restart: %d messages, want %d", n, len(want))
	}
	if n := queueLen(t, ch, "dq.via.tx"); n != 1 {
		t.Fatalf("dq.via.tx after restart: %d messages, want 1", n)
	}
	must(t, ch.ExchangeDeclarePassive("dx", "direct", true, false, false, false, nil))
	if _, err := channel(t, d).QueueDeclarePassive("tq", false, false, false, false, nil); !isCode(err, amqp091.NotFound) {
		t.Fatalf("transient queue after restart: %v, want 404", err)
	}
	if err := channel(t, d).ExchangeDeclarePassive("tx", "fanout", false, false, false, false, nil); !isCode(err, amqp091.NotFound) {
		t.Fatalf("transient exchange after restart: %v, want 404", err)
	}
	// The binding dx → dq came back: new messages are routed (mandatory,
	// so an unroutable one would be returned and not confirmed silently).
	var more []amqp091.Publishing
	for i := 1; i <= 20; i++ {
		more = append(more, amqp091.Publishing{Body: fmt.Appendf(nil, "n%d", i), DeliveryMode: amqp091.Persistent})
		want = append(want, fmt.Sprintf("n%d", i))
	}
	publishMandatory(t, ch, "dx", "k", more)

	// A second restart: the recovered messages and the new ones, in order.
	d.stop()
	d = startDaemon(t, dir)
	ch = channel(t, d)
	if n := queueLen(t, ch, "dq"); n != len(want) {
		t.Fatalf("dq after the second restart: %d messages, want %d", n, len(want))
	}
	got, redelivered := drain(t, ch, "dq")
	if !slices.Equal(got, want) {
		t.Fatalf("dq after the second restart:\n got %v\nwant %v", got, want)
	}
	for i, r := range redelivered {
		if !r {
			t.Fatalf("recovered message %s not marked redelivered", got[i])
		}
	}
	if got, _ := drain(t, ch, "dq.via.tx"); !slices.Equal(got, []string{"via tx"}) {
		t.Fatalf("dq.via.tx after the second restart: %v", got)
	}

	// The no-ack gets deleted them for good.
	d.stop()
	d = startDaemon(t, dir)
	if n := queueLen(t, channel(t, d), "dq"); n != 0 {
		t.Fatalf("dq after draining and a restart: %d messages, want 0", n)
	}
	d.stop()
}

// keptMessages persistent messages are in the durable queue "kept" of a
// directory that the corruption tests break.
const keptMessages = 5

func declareKept(t *testing.T, ch *amqp091.Channel) {
	t.Helper()
	must(t, ch.ExchangeDeclare("kept.x", "direct", true, false, false, false, nil))
	_, err := ch.QueueDeclare("kept", true, false, false, false, nil)
	must(t, err)
	must(t, ch.QueueBind("kept", "k", "kept.x", false, nil))
	var msgs []amqp091.Publishing
	for i := range keptMessages {
		msgs = append(msgs, amqp091.Publishing{Body: fmt.Appendf(nil, "kept %d", i), DeliveryMode: amqp091.Persistent})
	}
	publishConfirmed(t, ch, "kept.x", "k", msgs)
}

// refusedStart runs a daemon on dir that must refuse to start: it exits
// with a non-zero status and an error naming dir and holding want (case
// insensitive). If it starts instead, the test fails with what it serves
// of the queue "kept", and the daemon is stopped. It returns the daemon's
// output.
func refusedStart(t *testing.T, dir, want string) string {
	t.Helper()
	d := spawn(t, dir, freeAddr(t))
	select {
	case <-d.exited:
	case <-d.log.ready:
		d.waitAMQP()
		n, err := channel(t, d).QueueDeclarePassive("kept", true, false, false, false, nil)
		d.stop()
		t.Errorf("warren started on %s instead of refusing it; then its queue kept: %d messages, err %v; files after it stopped: %v",
			dir, n.Messages, err, slices.Sorted(maps.Keys(snapshot(t, dir))))
		return ""
	case <-time.After(exitTimeout):
		t.Fatalf("warren still running after %v, want it to refuse %s", exitTimeout, dir)
	}
	// The cleanup of spawn shows the whole output if the test fails.
	out := d.log.String()
	if d.state.ExitCode() == 0 {
		t.Errorf("exit status 0 after refusing %s, want non-zero", dir)
	}
	if !strings.Contains(out, dir) {
		t.Errorf("the error does not name the directory %s", dir)
	}
	if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
		t.Errorf("the error does not say %q", want)
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Errorf("the daemon panicked (exit %v) instead of reporting an error", d.state)
	}
	return strings.TrimSpace(out)
}

// snapshot maps each file of dir to a hash of its content.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	m := map[string][32]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		must(t, err)
		m[e.Name()] = sha256.Sum256(b)
	}
	return m
}

// globOne returns the files of dir matching pattern, at least one.
func globOne(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	must(t, err)
	if len(m) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	return m
}

func queueLen(t *testing.T, ch *amqp091.Channel, name string) int {
	t.Helper()
	q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
	must(t, err)
	return q.Messages
}

// publishConfirmed publishes msgs in confirm mode and waits for their acks.
func publishConfirmed(t *testing.T, ch *amqp091.Channel, exchange, key string, msgs []amqp091.Publishing) {
	t.Helper()
	must(t, ch.Confirm(false))
	var dcs []*amqp091.DeferredConfirmation
	for _, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirm(exchange, key, false, false, m)
		must(t, err)
		dcs = append(dcs, dc)
	}
	waitConfirms(t, dcs)
}

// publishMandatory is publishConfirmed with mandatory set, failing on a
// basic.return.
func publishMandatory(t *testing.T, ch *amqp091.Channel, exchange, key string, msgs []amqp091.Publishing) {
	t.Helper()
	returns := ch.NotifyReturn(make(chan amqp091.Return, len(msgs)))
	must(t, ch.Confirm(false))
	var dcs []*amqp091.DeferredConfirmation
	for _, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirm(exchange, key, true, false, m)
		must(t, err)
		dcs = append(dcs, dc)
	}
	waitConfirms(t, dcs)
	// A return precedes the confirm of its message.
	select {
	case r := <-returns:
		t.Fatalf("message %q returned: %d %s", r.Body, r.ReplyCode, r.ReplyText)
	default:
	}
}

func waitConfirms(t *testing.T, dcs []*amqp091.DeferredConfirmation) {
	t.Helper()
	for i, dc := range dcs {
		select {
		case <-dc.Done():
			if !dc.Acked() {
				t.Fatalf("publish %d of %d nacked", i+1, len(dcs))
			}
		case <-time.After(rpcTimeout):
			t.Fatalf("no confirm for publish %d of %d", i+1, len(dcs))
		}
	}
}

// drain gets every message of queue q with no-ack.
func drain(t *testing.T, ch *amqp091.Channel, q string) (bodies []string, redelivered []bool) {
	t.Helper()
	for {
		d, ok, err := ch.Get(q, true)
		must(t, err)
		if !ok {
			return bodies, redelivered
		}
		bodies = append(bodies, string(d.Body))
		redelivered = append(redelivered, d.Redelivered)
	}
}

// errLine picks the daemon's error out of its output: the line main
// prints, else the first line.
func errLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range slices.Backward(lines) {
		if strings.HasPrefix(l, "warren: ") {
			return l
		}
	}
	return lines[0]
}
