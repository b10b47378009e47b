package broker

import (
	"bufio"
	"io"
	"sync"
)

// readBufferSize is the pooled read buffer a connection borrows while it
// has input: big enough to take a burst of publishes in few syscalls.
const readBufferSize = 32 << 10

var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// connReader is the connection's buffered reader, holding a buffer only
// while there is input. An idle connection waits for its next byte with a
// 1-byte read and owns no buffer, so a thousand idle connections do not
// pin a thousand read buffers (memory per idle connection is measured).
// The first byte of a batch costs one small extra read; under load a
// batch is long and that cost disappears.
type connReader struct {
	src io.Reader
	br  *bufio.Reader // nil while idle
	one [1]byte
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.br != nil {
		return r.br.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.src.Read(r.one[:])
	if n == 1 {
		p[0] = r.one[0]
		r.br = readBuffers.Get().(*bufio.Reader)
		r.br.Reset(r.src)
	}
	return n, err
}

// Buffered is what has been read from the socket and not yet consumed.
func (r *connReader) Buffered() int {
	if r.br == nil {
		return 0
	}
	return r.br.Buffered()
}

// release returns the buffer to the pool; it must hold nothing unread.
func (r *connReader) release() {
	if r.br != nil && r.br.Buffered() == 0 {
		r.br.Reset(nil)
		readBuffers.Put(r.br)
		r.br = nil
	}
}
