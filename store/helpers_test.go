package store

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// testOptions returns options for dir with a logger that shows Badger's and
// the store's messages only when the test fails.
func testOptions(t testing.TB, dir string) Options {
	return DefaultOptions(dir).WithLogger(zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
}

// openStore opens o and closes the store when the test ends.
func openStore(t testing.TB, o Options) *Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// memStore is an in-memory store for tests that need no disk.
func memStore(t testing.TB) *Store {
	return openStore(t, testOptions(t, "").WithInMemory(true))
}

// appendSync appends and waits for the callback.
func appendSync(t testing.TB, s *Store, qid, seq uint64, rec []byte) {
	t.Helper()
	ch := make(chan error, 1)
	s.Append(qid, seq, rec, func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatalf("Append(%d, %d): %v", qid, seq, err)
	}
}

// record is the test payload of message seq of queue qid.
func record(qid, seq uint64, size int) []byte {
	b := fmt.Appendf(nil, "q%d/m%d;", qid, seq)
	for len(b) < size {
		b = append(b, byte('a'+seq%26))
	}
	return b
}

// collect returns the messages of qid as seq → record.
func collect(t testing.TB, s *Store, qid uint64) (seqs []uint64, recs map[uint64]string) {
	t.Helper()
	recs = map[uint64]string{}
	err := s.Messages(qid, func(seq uint64, rec []byte) error {
		seqs = append(seqs, seq)
		recs[seq] = string(rec)
		return nil
	})
	if err != nil {
		t.Fatalf("Messages(%d): %v", qid, err)
	}
	return seqs, recs
}

// syncWriter collects log output written from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	sb strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sb.String()
}
