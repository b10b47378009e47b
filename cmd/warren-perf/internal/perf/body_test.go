package perf

import (
	"errors"
	"testing"
)

func TestStampRoundTrip(t *testing.T) {
	cases := []Stamp{
		{Seq: 0, Producer: 0, SentAt: 0},
		{Seq: 1, Producer: 1, SentAt: 1_700_000_000_123_456_789},
		{Seq: MaxSeq - 1, Producer: MaxProducers - 1, SentAt: -1},
		{Seq: 123456789, Producer: 4242, SentAt: 1<<63 - 1},
	}
	for _, want := range cases {
		for _, size := range []int{StampSize, 17, 1024} {
			body := make([]byte, size)
			PutStamp(body, want.Seq, want.Producer, want.SentAt)
			got, err := ReadStamp(body)
			if err != nil {
				t.Fatalf("ReadStamp: %v", err)
			}
			if got != want {
				t.Errorf("size %d: got %+v, want %+v", size, got, want)
			}
			for i := StampSize; i < size; i++ {
				if body[i] != 0 {
					t.Fatalf("padding byte %d is %d", i, body[i])
				}
			}
		}
	}
}

func TestStampLayout(t *testing.T) {
	body := make([]byte, StampSize)
	PutStamp(body, 0x0102030405, 0x0607, 0x08090a0b0c0d0e0f)
	want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if string(body) != string(want) {
		t.Fatalf("layout % x, want % x", body, want)
	}
}

func TestStampShortBody(t *testing.T) {
	if _, err := ReadStamp(make([]byte, StampSize-1)); !errors.Is(err, ErrShortBody) {
		t.Fatalf("got %v, want ErrShortBody", err)
	}
}

func TestTemplateStampOffset(t *testing.T) {
	for _, size := range []int{16, 1024, 200_000} { // the last spans several body frames
		tmpl := newTemplate("ex", "key", size, true, 131072)
		buf := tmpl.appendMessages(nil, 3, 7, 9)
		if len(buf) != 3*len(tmpl.frames) {
			t.Fatalf("size %d: %d bytes for 3 messages of %d", size, len(buf), len(tmpl.frames))
		}
		for i := range 3 {
			st, err := ReadStamp(buf[i*len(tmpl.frames)+tmpl.stampOff:])
			if err != nil || st.Seq != uint64(7+i) || st.Producer != 9 || st.SentAt == 0 {
				t.Fatalf("size %d message %d: %+v %v", size, i, st, err)
			}
		}
	}
}

func BenchmarkAppendMessages16(b *testing.B) {
	tmpl := newTemplate("warren-perf-direct", "warren-perf-abcdef-1", 16, false, 131072)
	buf := make([]byte, 0, 1024*len(tmpl.frames))
	b.ReportAllocs()
	b.SetBytes(int64(len(tmpl.frames)))
	for i := 0; b.Loop(); i++ {
		if i%1024 == 0 {
			buf = buf[:0]
		}
		buf = tmpl.appendMessages(buf, 1, uint64(i), 0)
	}
}
