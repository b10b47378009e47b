// Command warren is the Warren AMQP 0-9-1 broker daemon.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/store"
)

var version = "0.1.0"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "warren:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("warren", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:5672", "AMQP listen address")
	dataDir := fs.String("data-dir", "./data", "directory of the embedded store")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	logFormat := fs.String("log-format", "json", "log format: json or console")
	maxMsg := fs.Uint64("max-message-size", 128<<20, "largest message body accepted, in bytes")
	consumerTimeout := fs.Duration("consumer-timeout", 30*time.Minute, "close a channel whose delivery stays unacked longer (0: never)")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060); off when empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		return err
	}
	// Catch signals before anything starts: a SIGTERM that arrives while
	// the store opens or just after the listener accepts must still shut
	// down cleanly, not kill the process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if *pprofAddr != "" {
		stopPprof, err := servePprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// A directory Badger cannot open (locked by another process, corrupt,
	// unreadable) stops the daemon: it never starts empty over data.
	// Badger reports table and compaction state at info level; that is
	// debug output for a broker's operator.
	storeLog := log
	if log.GetLevel() > zerolog.DebugLevel {
		storeLog = log.Level(max(log.GetLevel(), zerolog.WarnLevel))
	}
	st, err := store.Open(store.DefaultOptions(*dataDir).WithLogger(storeLog))
	if err != nil {
		return fmt.Errorf("open data directory %s: %w", *dataDir, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error().Err(err).Msg("closing the store")
		}
	}()

	opts := broker.DefaultOptions()
	opts.Logger = log
	opts.Store = st
	opts.MaxMessageSize = *maxMsg
	opts.ConsumerTimeout = *consumerTimeout
	opts.Version = version
	srv, err := broker.New(opts)
	if err != nil {
		return err
	}
	// Recovery read every stored message once; give those pages back.
	if err := st.Trim(); err != nil {
		log.Debug().Err(err).Msg("trimming the store's mapped files")
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()

	select {
	case s := <-sig:
		log.Info().Str("signal", s.String()).Msg("shutting down")
	case err := <-serveErr:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-serveErr; err != nil && !errors.Is(err, broker.ErrServerClosed) {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

func newLogger(level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("log level: %w", err)
	}
	var l zerolog.Logger
	switch format {
	case "json":
		l = zerolog.New(os.Stderr)
	case "console":
		l = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.RFC3339})
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q: want json or console", format)
	}
	return l.Level(lvl).With().Timestamp().Logger(), nil
}
