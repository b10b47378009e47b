package perf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// sink is a fake broker for measuring a client alone: it completes the
// handshake, opens channels, answers connection.close, and discards every
// other frame after counting the basic.publish ones. A basic.consume gets
// an endless stream of deliveries (see source). It walks frame
// headers in a 1 MB read buffer and never copies a payload, so that it
// costs far less CPU than the client it measures.
type sink struct {
	l         net.Listener
	wg        sync.WaitGroup
	msgs      atomic.Uint64 // publishes received
	bytes     atomic.Uint64 // bytes received
	delivered atomic.Uint64 // deliveries sent
	sources   atomic.Uint64
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
}

// startSink listens on a loopback port.
func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{l: l, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *sink) addr() string { return s.l.Addr().String() }

func (s *sink) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
	}
}

// close stops listening, closes the connections and waits.
func (s *sink) close() {
	_ = s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *sink) serve(c net.Conn) error {
	br := bufio.NewReaderSize(c, 1<<20)
	if err := amqp.ReadProtocolHeader(br); err != nil {
		return err
	}
	fr := amqp.NewFrameReader(br)
	var (
		wmu sync.Mutex // the source goroutine writes too
		out []byte
	)
	send := func(ch uint16, m amqp.Method) error {
		wmu.Lock()
		defer wmu.Unlock()
		out = amqp.AppendMethodFrame(out[:0], ch, m)
		_, err := c.Write(out)
		return err
	}
	expect := func(id uint32) error {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		if f.Type != amqp.FrameMethod || len(f.Payload) < 4 || binary.BigEndian.Uint32(f.Payload) != id {
			return errors.New("sink: unexpected frame in handshake")
		}
		return nil
	}
	err := send(0, &amqp.ConnectionStart{VersionMajor: 0, VersionMinor: 9, Mechanisms: "PLAIN AMQPLAIN", Locales: "en_US",
		ServerProperties: amqp.Table{{Key: "product", Value: "warren-perf sink"}}})
	if err != nil {
		return err
	}
	if err := expect(amqp.MethodConnectionStartOk); err != nil {
		return err
	}
	if err := send(0, &amqp.ConnectionTune{ChannelMax: 2047, FrameMax: wireFrameMax}); err != nil {
		return err
	}
	if err := expect(amqp.MethodConnectionTuneOk); err != nil {
		return err
	}
	if err := expect(amqp.MethodConnectionOpen); err != nil {
		return err
	}
	if err := send(0, &amqp.ConnectionOpenOk{}); err != nil {
		return err
	}

	var (
		msgs, bytes uint64
		src         *source
	)
	count := func() {
		s.msgs.Add(msgs)
		s.bytes.Add(bytes)
		msgs, bytes = 0, 0
	}
	defer count()
	defer func() {
		if src != nil {
			src.halt()
		}
	}()
	for {
		hdr, err := br.Peek(7)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		typ := hdr[0]
		ch := binary.BigEndian.Uint16(hdr[1:])
		n := 7 + int(binary.BigEndian.Uint32(hdr[3:])) + 1
		if typ == amqp.FrameMethod {
			p, err := br.Peek(min(n, 11))
			if err != nil {
				return err
			}
			if len(p) == 11 {
				switch binary.BigEndian.Uint32(p[7:]) {
				case amqp.MethodBasicPublish:
					msgs++
				case amqp.MethodChannelOpen:
					err = send(ch, &amqp.ChannelOpenOk{})
				case amqp.MethodChannelClose:
					err = send(ch, &amqp.ChannelCloseOk{})
				case amqp.MethodConfirmSelect:
					err = send(ch, &amqp.ConfirmSelectOk{})
				case amqp.MethodBasicQos:
					err = send(ch, &amqp.BasicQosOk{})
				case amqp.MethodBasicConsume:
					var f amqp.Frame
					if f, err = fr.ReadFrame(); err != nil {
						return err
					}
					var m amqp.Method
					if m, err = amqp.DecodeMethod(f.Payload); err != nil {
						return err
					}
					bc := m.(*amqp.BasicConsume)
					if err = send(ch, &amqp.BasicConsumeOk{ConsumerTag: bc.ConsumerTag}); err != nil {
						return err
					}
					if src == nil {
						src = s.startSource(c, &wmu, ch, bc.ConsumerTag, bc.Queue)
					}
					continue // the frame is consumed
				case amqp.MethodBasicCancel:
					if src != nil {
						src.halt()
						src = nil
					}
					var f amqp.Frame
					if f, err = fr.ReadFrame(); err != nil {
						return err
					}
					var m amqp.Method
					if m, err = amqp.DecodeMethod(f.Payload); err != nil {
						return err
					}
					if err = send(ch, &amqp.BasicCancelOk{ConsumerTag: m.(*amqp.BasicCancel).ConsumerTag}); err != nil {
						return err
					}
					continue
				case amqp.MethodConnectionClose:
					if src != nil {
						src.halt()
						src = nil
					}
					bytes += uint64(n)
					count() // before close-ok, so the publisher's Run sees it
					_ = send(0, &amqp.ConnectionCloseOk{})
					return nil
				}
				if err != nil {
					return err
				}
			}
		}
		if _, err := br.Discard(n); err != nil {
			return err
		}
		bytes += uint64(n)
		if bytes >= 4<<20 {
			count()
		}
	}
}

// source streams deliveries of StampSize-byte bodies to a consumer of the
// sink as fast as the socket takes them, to measure a consumer alone.
// Each source stamps its messages as producer 0 of its own queue (by
// connection) with sequences from 0.
type source struct {
	stop atomic.Bool
	done chan struct{}
}

func (s *sink) startSource(c net.Conn, wmu *sync.Mutex, ch uint16, tag, queue string) *source {
	src := &source{done: make(chan struct{})}
	prod := uint16(s.sources.Add(1) - 1)
	b := amqp.AppendMethodFrame(nil, ch, &amqp.BasicDeliver{ConsumerTag: tag, Exchange: "", RoutingKey: queue})
	tagOff := 7 + 4 + 1 + len(tag)
	props := amqp.AppendProperties(nil, &amqp.Properties{Flags: amqp.FlagDeliveryMode, DeliveryMode: 1})
	b = amqp.AppendHeaderFrame(b, ch, amqp.ClassBasic, StampSize, props)
	stampOff := len(b) + 7
	b = amqp.AppendBodyFrames(b, ch, make([]byte, StampSize), wireFrameMax)
	per := max(1, (128<<10)/len(b))
	buf := make([]byte, 0, per*len(b))
	go func() {
		defer close(src.done)
		var seq uint64
		for !src.stop.Load() {
			buf = buf[:0]
			now := time.Now().UnixNano()
			for range per {
				off := len(buf)
				buf = append(buf, b...)
				binary.BigEndian.PutUint64(buf[off+tagOff:], seq+1)
				PutStamp(buf[off+stampOff:], seq, prod, now)
				seq++
			}
			wmu.Lock()
			_, err := c.Write(buf)
			wmu.Unlock()
			if err != nil {
				return
			}
			s.delivered.Add(uint64(per))
		}
	}()
	return src
}

// halt stops the stream and waits until its last write is done.
func (src *source) halt() {
	src.stop.Store(true)
	<-src.done
}
