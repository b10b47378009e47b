package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// These cover the paths that stop before any case runs; the report itself
// is tested in package conformance, and against brokers by
// `make conformance-report`.

func TestRunCannotStart(t *testing.T) {
	// A port that was just free: connecting is refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "amqp://guest:guest@" + l.Addr().String() + "/"
	_ = l.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"help", []string{"-h"}, 0, "usage: warren-conformance"},
		{"unknown-flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"extra-args", []string{"foo"}, 2, "unexpected arguments"},
		{"bad-regexp", []string{"--run", "("}, 2, "--run:"},
		{"no-match", []string{"--run", "^no-such-section/"}, 2, "no case matches"},
		{"unreachable", []string{"--url", closed}, 2, "cannot reach amqp://guest@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr, false)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout not empty:\n%s", stdout.String())
			}
			if tc.name == "unreachable" && strings.Contains(stderr.String(), "guest:guest") {
				t.Errorf("password printed:\n%s", stderr.String())
			}
		})
	}
}
