// Package broker is Warren's AMQP 0-9-1 server: connections, channels,
// vhosts, exchanges, queues, consumers, acknowledgements, confirms and
// transactions, with RabbitMQ's semantics. The lock order is in LOCKS.md.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Server is an AMQP broker. Create it with New, then Serve a listener.
type Server struct {
	opts  Options
	log   zerolog.Logger
	store Persister
	// nextQID numbers durable queues in the store.
	nextQID atomic.Uint64

	mu        sync.Mutex
	vhosts    map[string]*VHost
	users     map[string]*User
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  bool
	// channels is every open channel, for the housekeeper.
	channels sync.Map
	// coarseNow is the housekeeper's clock (Unix ns), read per delivery.
	coarseNow atomic.Int64
	// housekeeping starts with the first Serve and stops at Shutdown.
	hkOnce     sync.Once
	hkStopOnce sync.Once
	hkStop     chan struct{}
	hkDone     chan struct{}
	// replyTo maps direct reply-to addresses to their consumers.
	replyTo sync.Map
	// alarmState is set while publishers are blocked (see Block).
	alarmState atomic.Pointer[alarm]

	connSeq atomic.Uint64
	wg      sync.WaitGroup // connection goroutines
}

// New validates opts and creates a server with the default vhost "/" and
// the default user.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("broker options: %w", err)
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		vhosts:    map[string]*VHost{},
		users:     map[string]*User{},
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		store:     opts.Store,
		hkStop:    make(chan struct{}),
		hkDone:    make(chan struct{}),
	}
	s.coarseNow.Store(time.Now().UnixNano())
	s.addVHost("/")
	if opts.DefaultUser != "" {
		s.users[opts.DefaultUser] = &User{
			Name: opts.DefaultUser, Password: opts.DefaultPass,
			LoopbackOnly: opts.LoopbackOnlyDefaultUser,
			VHosts:       map[string]bool{"/": true},
		}
	}
	if s.store != nil {
		if err := s.recoverState(); err != nil {
			return nil, fmt.Errorf("broker recovery: %w", err)
		}
	}
	return s, nil
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("broker: server closed")

// Serve accepts connections on l until Shutdown. Temporary accept errors
// back off as net/http does; each connection runs on its own goroutines.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	s.hkOnce.Do(func() {
		go func() { defer close(s.hkDone); s.housekeeper(s.hkStop) }()
	})
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	s.log.Info().Str("addr", l.Addr().String()).Msg("accepting AMQP connections")
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.shutdown
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		backoff = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.shutdown {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Shutdown stops accepting, closes every connection with 320
// CONNECTION_FORCED and waits for their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for l := range s.listeners {
		_ = l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.forceClose("CONNECTION_FORCED - broker shutdown")
	}
	s.hkOnce.Do(func() { close(s.hkDone) }) // never served: no housekeeper to wait for
	s.hkStopOnce.Do(func() { close(s.hkStop) })
	done := make(chan struct{})
	go func() { s.wg.Wait(); <-s.hkDone; close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("broker shutdown: %w", ctx.Err())
	}
}

// ConnectionCount is the number of open client connections.
func (s *Server) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) vhost(name string) *VHost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vhosts[name]
}

func (s *Server) addVHost(name string) *VHost {
	v := newVHost(s, name)
	s.vhosts[name] = v
	return v
}
