package broker

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// tcpPair returns both ends of a loopback TCP connection whose server end
// has a small send buffer, so that a megabyte fills the socket while the
// client reads nothing.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server, client = sc.(*net.TCPConn), cc.(*net.TCPConn)
	if err := server.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// testConn is a connection on nc whose writer goroutine never starts: the
// test plays the writer, calling flush itself when c.wake has a token.
func testConn(nc net.Conn) *conn {
	c := newConn(&Server{log: zerolog.Nop()}, nc)
	c.writerBarred = true
	return c
}

// An inline flush writes only what the socket takes; what it leaves, the
// writer goroutine's flush writes after it, and the peer reads every byte
// in order.
func TestInlineFlushLeavesTheRestInOrder(t *testing.T) {
	server, client := tcpPair(t)
	c := testConn(server)
	if !c.raw.ok() {
		t.Fatal("no raw writer for a TCP connection")
	}
	var want []byte
	for i := range 1000 {
		rec := bytes.Repeat([]byte{byte(i)}, 1000)
		binary.BigEndian.PutUint32(rec, uint32(i))
		want = append(want, rec...)
		c.outMu.Lock()
		c.out = append(c.out, rec...)
		c.outMu.Unlock()
		c.flushInline() // the peer reads nothing yet: the socket fills up
	}
	if len(c.carry) == 0 {
		t.Fatal("1 MB went into a socket with a 16 KiB send buffer without a short write")
	}
	select {
	case <-c.wake:
	default:
		t.Fatal("a short inline write did not wake the writer")
	}

	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(want))
		_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := io.ReadFull(client, b)
		if err != nil {
			t.Errorf("the peer read %d of %d bytes: %v", n, len(want), err)
		}
		got <- b
	}()
	if !c.flush() {
		t.Fatal("the writer's flush failed")
	}
	if b := <-got; !bytes.Equal(b, want) {
		i := 0
		for i < len(b) && b[i] == want[i] {
			i++
		}
		t.Fatalf("the peer read different bytes, first at offset %d of %d", i, len(want))
	}
	if len(c.carry) != 0 || len(c.out) != 0 {
		t.Fatalf("after the flush: %d bytes carried, %d queued", len(c.carry), len(c.out))
	}
}

// While the writer goroutine holds the socket, an inline flush does not
// wait for it: it leaves the output queued and wakes the writer.
func TestInlineFlushDoesNotWaitForTheWriter(t *testing.T) {
	server, _ := tcpPair(t)
	c := testConn(server)
	c.outMu.Lock()
	c.out = append(c.out, "frame"...)
	c.outMu.Unlock()
	c.flushMu.Lock() // the writer is writing
	c.flushInline()
	c.flushMu.Unlock()
	if len(c.out) != 5 {
		t.Fatalf("%d bytes queued, want the 5 left for the writer", len(c.out))
	}
	select {
	case <-c.wake:
	default:
		t.Fatal("the writer was not woken")
	}
}
