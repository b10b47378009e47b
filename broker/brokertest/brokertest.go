// Package brokertest starts an in-process broker for tests, in the manner
// of net/http/httptest: a listener on 127.0.0.1:0, a test logger, and
// cleanup registered with the test.
package brokertest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/broker"
)

// Server is a running in-process broker.
type Server struct {
	*broker.Server
	l    net.Listener
	done chan error
}

// New starts a broker with DefaultOptions, changed by each opt.
func New(t testing.TB, opts ...func(*broker.Options)) *Server {
	t.Helper()
	o := broker.DefaultOptions()
	o.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	for _, f := range opts {
		f(&o)
	}
	srv, err := broker.New(o)
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: listen: %v", err)
	}
	s := &Server{Server: srv, l: l, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("brokertest: shutdown: %v", err)
		}
		<-s.done
	})
	return s
}

// Addr is the listener's address.
func (s *Server) Addr() string { return s.l.Addr().String() }

// URL is an amqp URL for the default vhost as guest.
func (s *Server) URL() string { return "amqp://guest:guest@" + s.Addr() + "/" }
