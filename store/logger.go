package store

import (
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// badgerLogger adapts zerolog to badger.Logger. It also counts the errors
// Badger logs: Badger reports some I/O failures only through its logger (see
// the package documentation), and the committer fails a group during which
// that count moved.
type badgerLogger struct {
	log  zerolog.Logger
	errs *atomic.Uint64
}

func newBadgerLogger(l zerolog.Logger, errs *atomic.Uint64) *badgerLogger {
	return &badgerLogger{log: l.With().Str("component", "store").Logger(), errs: errs}
}

func (b *badgerLogger) Errorf(f string, v ...any) {
	b.errs.Add(1)
	logf(b.log.Error(), f, v)
}

func (b *badgerLogger) Warningf(f string, v ...any) {
	// Badger warns about its block cache's hit ratio whenever a scan
	// (recovery, a page-in) reads more than the cache holds. The store
	// keeps that cache small on purpose; it is not an operator's concern.
	if strings.HasPrefix(f, "Block cache might be too small") || strings.HasPrefix(f, "Cache life expectancy") {
		logf(b.log.Debug(), f, v)
		return
	}
	logf(b.log.Warn(), f, v)
}
func (b *badgerLogger) Infof(f string, v ...any)  { logf(b.log.Info(), f, v) }
func (b *badgerLogger) Debugf(f string, v ...any) { logf(b.log.Debug(), f, v) }

// logf logs one Badger message. Badger ends many messages with a newline and
// logs some bare newlines as separators; a structured log wants neither.
// A disabled level costs no formatting (e is nil).
func logf(e *zerolog.Event, f string, v []any) {
	if e == nil {
		return
	}
	f = strings.TrimSpace(f)
	if f == "" {
		e.Discard()
		return
	}
	e.Msgf(f, v...)
}
