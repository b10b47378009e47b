// Package brokertest starts an in-process broker for tests, in the manner
// of net/http/httptest: a listener on 127.0.0.1:0, a Badger store in a
// temporary directory, a test logger, and cleanup registered with the
// test. Restart stops the broker and starts it again on the same address
// and data, for durability tests.
package brokertest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/store"
)

// Server is a running in-process broker.
type Server struct {
	*broker.Server
	t     testing.TB
	dir   string
	addr  string
	opts  []func(*broker.Options)
	store *store.Store
	l     net.Listener
	done  chan error
}

// New starts a broker with DefaultOptions, changed by each opt. Its store
// lives in t.TempDir().
func New(t testing.TB, opts ...func(*broker.Options)) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), addr: "127.0.0.1:0", opts: opts}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(s.t)).Level(zerolog.InfoLevel)
	st, err := store.Open(store.DefaultOptions(s.dir).WithLogger(log).WithGC(0, 0.5))
	if err != nil {
		s.t.Fatalf("brokertest: open store: %v", err)
	}
	o := broker.DefaultOptions()
	o.Logger = log
	o.Store = st
	for _, f := range s.opts {
		f(&o)
	}
	srv, err := broker.New(o)
	if err != nil {
		_ = st.Close()
		s.t.Fatalf("brokertest: %v", err)
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		_ = st.Close()
		s.t.Fatalf("brokertest: listen: %v", err)
	}
	s.Server, s.store, s.l, s.addr = srv, st, l, l.Addr().String()
	s.done = make(chan error, 1)
	go func() { s.done <- srv.Serve(l) }()
}

func (s *Server) stop() {
	if s.Server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Server.Shutdown(ctx); err != nil {
		s.t.Errorf("brokertest: shutdown: %v", err)
	}
	<-s.done
	if err := s.store.Close(); err != nil {
		s.t.Errorf("brokertest: close store: %v", err)
	}
	s.Server = nil
}

// Restart shuts the broker down (clients see 320 CONNECTION_FORCED) and
// starts a new one on the same address and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// Addr is the listener's address.
func (s *Server) Addr() string { return s.addr }

// URL is an amqp URL for the default vhost as guest.
func (s *Server) URL() string { return "amqp://guest:guest@" + s.addr + "/" }

// Dir is the data directory.
func (s *Server) Dir() string { return s.dir }
