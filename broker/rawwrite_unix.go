//go:build unix

package broker

import (
	"errors"
	"net"
	"syscall"
)

// rawWriter writes to a socket without blocking, for inline flushes.
type rawWriter struct{ rc syscall.RawConn }

// newRawWriter returns a writer for nc, or nil when nc has no file
// descriptor (net.Pipe in tests): its output then always goes through the
// writer goroutine.
func newRawWriter(nc net.Conn) rawWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return rawWriter{}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return rawWriter{}
	}
	return rawWriter{rc: rc}
}

func (w rawWriter) ok() bool { return w.rc != nil }

// tryWrite writes what the socket takes now, once: a full send buffer is
// n == 0 and no error.
func (w rawWriter) tryWrite(b []byte) (n int, err error) {
	cerr := w.rc.Write(func(fd uintptr) bool {
		n, err = syscall.Write(int(fd), b)
		return true // never wait for the socket to become writable
	})
	if n < 0 {
		n = 0
	}
	if errors.Is(err, syscall.EAGAIN) {
		err = nil
	}
	if err == nil {
		err = cerr
	}
	return n, err
}
