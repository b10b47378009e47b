package perf

import (
	"encoding/binary"
	"errors"
)

// Every message body starts with a 16-byte stamp; the rest of the body is
// zero padding up to --size:
//
//	0                      6         8                               16      size
//	+----------------------+---------+-------------------------------+-------+
//	| sequence (48-bit BE) | producer|  send time, UnixNano (int64)  |  0…0  |
//	+----------------------+---------+-------------------------------+-------+
//
// The sequence counts a producer's messages from 0 with no gaps, so that a
// consumer can tell lost, duplicated and reordered messages apart per
// (queue, producer). 48 bits last 8.9 years at 1M msg/s; 16 bits of producer
// id allow 65,536 producers per run (producer ids are 0…x-1 in each run, so
// a queue filled by one run and drained by another keeps its ids). The send
// time is the wall clock, so latencies are meaningful when producer and
// consumer run on the same machine, in one process or two.
//
// Sixteen bytes is the smallest body the tool sends, and exactly the size
// of the smallest scenario (16 B), so that every message carries a full
// stamp: there is no separate compact layout to get wrong.
const (
	// StampSize is the size of the stamp, and the smallest --size.
	StampSize = 16
	// MaxProducers is the number of distinct producer ids a stamp holds.
	MaxProducers = 1 << 16
	// MaxSeq is one past the largest sequence a stamp holds.
	MaxSeq = 1 << 48
)

// Stamp is a decoded body stamp.
type Stamp struct {
	Seq      uint64
	Producer uint16
	SentAt   int64 // UnixNano
}

// ErrShortBody is returned for a body too short to hold a stamp, e.g. one
// not sent by warren-perf.
var ErrShortBody = errors.New("body shorter than a 16-byte stamp")

// PutStamp writes the stamp into the first StampSize bytes of body, which
// must be at least that long.
func PutStamp(body []byte, seq uint64, producer uint16, sentAt int64) {
	_ = body[StampSize-1]
	binary.BigEndian.PutUint64(body[0:8], seq<<16|uint64(producer))
	binary.BigEndian.PutUint64(body[8:16], uint64(sentAt))
}

// ReadStamp decodes the stamp at the start of body.
func ReadStamp(body []byte) (Stamp, error) {
	if len(body) < StampSize {
		return Stamp{}, ErrShortBody
	}
	w := binary.BigEndian.Uint64(body[0:8])
	return Stamp{
		Seq:      w >> 16,
		Producer: uint16(w),
		SentAt:   int64(binary.BigEndian.Uint64(body[8:16])),
	}, nil
}
