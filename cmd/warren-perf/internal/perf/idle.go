package perf

import (
	"context"
	"sync"
	"time"
)

// idleSet holds --idle-connections: each is a connection with one open
// channel and nothing else, as a broker's idle clients are. The pipelined
// mode negotiates no heartbeats and keeps no goroutine per connection; the
// amqp091 mode keeps amqp091-go's (reader, heartbeats every 10s).
type idleSet struct {
	result   IdleResult
	firstErr error
	mu       sync.Mutex
	closers  []func()
	once     sync.Once
}

// idleDialers is how many connections are being opened at once.
const idleDialers = 16

func (r *run) openIdle(n int) *idleSet {
	s := &idleSet{result: IdleResult{Requested: n}}
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(idleDialers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				closer, err := r.openIdleOne(i)
				s.mu.Lock()
				if err != nil {
					if s.firstErr == nil {
						s.firstErr = err
					}
				} else {
					s.closers = append(s.closers, closer)
				}
				s.mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	s.result.Opened = len(s.closers)
	s.result.OpenSeconds = time.Since(start).Seconds()
	return s
}

func (r *run) openIdleOne(i int) (func(), error) {
	if r.cfg.Client == ClientPipelined {
		ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
		defer cancel()
		wc, err := dialWire(ctx, r.uri, 4096)
		if err != nil {
			return nil, err
		}
		return func() { _ = wc.closeGracefully(5 * time.Second) }, nil
	}
	conn, err := r.dial091("idle")
	if err != nil {
		return nil, err
	}
	if _, err := conn.Channel(); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return func() { _ = conn.Close() }, nil
}

// close closes every idle connection, idleDialers at a time.
func (s *idleSet) close() {
	s.once.Do(func() {
		jobs := make(chan func())
		var wg sync.WaitGroup
		for range idleDialers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for f := range jobs {
					f()
				}
			}()
		}
		for _, f := range s.closers {
			jobs <- f
		}
		close(jobs)
		wg.Wait()
	})
}
