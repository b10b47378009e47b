package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Env is the target broker.
type Env struct {
	// URL is an amqp:// URL with credentials that may configure the
	// default vhost, e.g. amqp://guest:guest@127.0.0.1:5672/.
	URL string
	// Product is the "product" server property of the target ("Warren",
	// "RabbitMQ"), filled by TestConformance and RunSuite before the cases
	// run (see DetectProduct); "" if unknown.
	Product string
}

// WarrenProduct is Warren's "product" server property.
const WarrenProduct = "Warren"

// DetectProduct connects to url once and returns the "product" property
// the server announced in connection.start.
func DetectProduct(url string) (string, error) {
	c, err := amqp091.DialConfig(url, amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
	if err != nil {
		return "", err
	}
	defer c.Close()
	p, _ := c.Properties["product"].(string)
	return p, nil
}

// Addr returns host:port of the target, for raw-frame cases.
func (e *Env) Addr() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	if u.Port() == "" {
		return u.Hostname() + ":5672"
	}
	return u.Host
}

// Timeout bounds every wait in a case; a broker that does not answer in
// this time fails the case rather than hanging the suite.
const Timeout = 5 * time.Second

// Dial opens a connection that is closed when the case ends.
func (e *Env) Dial(t T) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.DialConfig(e.URL, amqp091.Config{Dial: amqp091.DefaultDial(Timeout)})
	if err != nil {
		t.Fatalf("dial %s: %v", redact(e.URL), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Channel opens a connection and a channel on it.
func (e *Env) Channel(t T) (*amqp091.Connection, *amqp091.Channel) {
	t.Helper()
	c := e.Dial(t)
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("channel.open: %v", err)
	}
	return c, ch
}

// Name returns a name unique to this run, so cases never collide on a
// shared broker and leftovers of an earlier run do not matter.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "conf." + prefix + "." + hex.EncodeToString(b[:])
}

// ReplyCode extracts the AMQP reply code from an error returned by
// amqp091-go, or 0 if the error carries none.
func ReplyCode(err error) int {
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// ExpectCode fails the case unless err carries the given reply code.
func ExpectCode(t T, err error, code int, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want reply code %d", what, code)
	}
	if got := ReplyCode(err); got != code {
		t.Fatalf("%s: got %v (code %d), want reply code %d", what, err, got, code)
	}
}

// WaitClose waits for the NotifyClose error of a channel or connection
// (registered before the failing operation) and checks its code.
func WaitClose(t T, ch <-chan *amqp091.Error, code int, what string) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok || e == nil {
			t.Fatalf("%s: closed without an error, want reply code %d", what, code)
		}
		if e.Code != code {
			t.Fatalf("%s: closed with %d %q, want %d", what, e.Code, e.Reason, code)
		}
	case <-time.After(Timeout):
		t.Fatalf("%s: not closed within %v, want reply code %d", what, Timeout, code)
	}
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = url.User(p.User.Username())
	return strings.TrimSuffix(p.String(), "")
}
