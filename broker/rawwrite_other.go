//go:build !unix

package broker

import "net"

// rawWriter is unavailable here: every flush goes through the writer
// goroutine.
type rawWriter struct{}

func newRawWriter(net.Conn) rawWriter { return rawWriter{} }

func (rawWriter) ok() bool { return false }

func (rawWriter) tryWrite([]byte) (int, error) { return 0, nil }
