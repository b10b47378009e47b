package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// benchOptions is a store on disk with logging off.
func benchOptions(dir string, threshold int64) Options {
	return DefaultOptions(dir).WithLogger(zerolog.Nop()).WithValueThreshold(threshold).WithGC(0, 0.5)
}

// thresholds are the two placements of a 1 KB record: inline in the LSM tree
// (the default) and in the value log.
var thresholds = []struct {
	name string
	n    int64
}{{"inline", defaultValueThreshold}, {"vlog", 512}}

// BenchmarkAppend measures group commit with 1 KB records. Each appender is a
// publisher that waits for its confirm before the next publish (inflight=1),
// or keeps a window of unconfirmed publishes (inflight=100, as a publisher
// with confirms does); with one appender and inflight=1 every append pays a
// whole fsync, and the others show what coalescing buys.
func BenchmarkAppend(b *testing.B) {
	rec := make([]byte, 1024)
	for _, th := range thresholds {
		for _, appenders := range []int{1, 10} {
			for _, inflight := range []int{1, 100} {
				b.Run(fmt.Sprintf("values=%s/appenders=%d/inflight=%d", th.name, appenders, inflight), func(b *testing.B) {
					s := openStore(b, benchOptions(b.TempDir(), th.n))
					b.SetBytes(int64(len(rec)))
					b.ReportAllocs()
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for a := range appenders {
						wg.Add(1)
						go func() {
							defer wg.Done()
							window := make(chan struct{}, inflight)
							done := func(err error) {
								if err != nil {
									b.Error(err)
								}
								<-window
							}
							for i := a; i < b.N; i += appenders {
								window <- struct{}{}
								s.Append(uint64(a), uint64(i), rec, done)
							}
							for range inflight {
								window <- struct{}{}
							}
						}()
					}
					wg.Wait()
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
				})
			}
		}
	}
}

// fill appends n records of size bytes to queue 1 with a window of appends
// in flight, and closes the store.
func fill(tb testing.TB, o Options, n, size int) {
	s, err := Open(o)
	if err != nil {
		tb.Fatal(err)
	}
	rec := make([]byte, size)
	for i := range rec {
		rec[i] = byte(i * 7) // not all zeroes, so compression does not flatter
	}
	window := make(chan struct{}, 4096)
	done := func(err error) {
		if err != nil {
			tb.Error(err)
		}
		<-window
	}
	for i := range n {
		window <- struct{}{}
		s.Append(1, uint64(i), rec, done)
	}
	if err := s.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRecover measures start-up: Open plus the recovery scan of one
// queue of 1 KB records, over a data set built once per size (not per b.N).
// The 1M case (1 GB) is skipped with -short.
func BenchmarkRecover(b *testing.B) {
	for _, th := range thresholds {
		for _, n := range []int{100_000, 1_000_000} {
			var once sync.Once
			dir := b.TempDir() // the parent's: it outlives the runs of b.Run
			b.Run(fmt.Sprintf("values=%s/msgs=%d", th.name, n), func(b *testing.B) {
				if testing.Short() && n > 100_000 {
					b.Skip("large data set")
				}
				once.Do(func() {
					fill(b, benchOptions(dir, th.n), n, 1024)
				})
				b.SetBytes(int64(n) * 1024)
				b.ResetTimer()
				var openTime, scanTime time.Duration
				for range b.N {
					t0 := time.Now()
					s, err := Open(benchOptions(dir, th.n))
					if err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					got, bytes := 0, 0
					err = s.Messages(1, func(seq uint64, rec []byte) error {
						got++
						bytes += len(rec)
						return nil
					})
					scanTime += time.Since(t1)
					openTime += t1.Sub(t0)
					if err != nil || got != n || bytes != n*1024 {
						b.Fatalf("recovered %d messages (%d bytes), %v", got, bytes, err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(openTime.Milliseconds())/float64(b.N), "open-ms")
				b.ReportMetric(float64(scanTime.Milliseconds())/float64(b.N), "scan-ms")
				b.ReportMetric(float64(n*b.N)/scanTime.Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkFanout decides whether a body routed to several durable queues
// should be stored once, with references. "copies" appends the body to every
// queue, as the store does; "shared" appends the body once and a 16-byte
// reference to each other queue, which is the least that sharing would write
// (it leaves out the reference counting that sharing needs). Publishers keep
// 64 messages in flight; the metric is messages (not copies) per second.
func BenchmarkFanout(b *testing.B) {
	ref := make([]byte, 16)
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i * 7)
		}
		for _, queues := range []int{1, 8} {
			for _, mode := range []string{"copies", "shared"} {
				if queues == 1 && mode == "shared" {
					continue
				}
				b.Run(fmt.Sprintf("body=%dKiB/queues=%d/%s", size>>10, queues, mode), func(b *testing.B) {
					s := openStore(b, benchOptions(b.TempDir(), defaultValueThreshold))
					b.SetBytes(int64(size))
					window := make(chan struct{}, 64)
					b.ResetTimer()
					start := time.Now()
					for i := range b.N {
						window <- struct{}{}
						var mu sync.Mutex
						left := queues
						done := func(err error) {
							if err != nil {
								b.Error(err)
							}
							mu.Lock()
							left--
							last := left == 0
							mu.Unlock()
							if last {
								<-window
							}
						}
						for q := range queues {
							rec := body
							if mode == "shared" && q > 0 {
								rec = ref
							}
							s.Append(uint64(q), uint64(i), rec, done)
						}
					}
					for range cap(window) {
						window <- struct{}{}
					}
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
				})
			}
		}
	}
}
