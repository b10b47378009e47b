package perf

import (
	"math"
	"math/bits"
)

// Histogram records non-negative values (latencies in nanoseconds) in
// log-linear buckets, in the manner of HdrHistogram: values below 2^histSub
// are exact, and above that every power of two is split into 2^(histSub-1)
// buckets, so a reported value is within 1/128 (0.8%) of a recorded one.
// Memory is fixed (about 60 KB) whatever the number of values, and Record
// is a few instructions with no allocation. A Histogram is not safe for
// concurrent use: each consumer owns one and they are merged at the end.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	min, max int64
	sum      float64
}

const (
	histSub     = 8
	histHalf    = 1 << (histSub - 1)
	histBuckets = 1<<histSub + (64-histSub)*histHalf
)

func histIndex(v uint64) int {
	if v < 1<<histSub {
		return int(v)
	}
	k := bits.Len64(v) - histSub // ≥ 1
	m := v >> uint(k)            // in [histHalf, 2*histHalf)
	return 1<<histSub + (k-1)*histHalf + int(m-histHalf)
}

// histUpper is the largest value that falls in bucket i.
func histUpper(i int) uint64 {
	if i < 1<<histSub {
		return uint64(i)
	}
	i -= 1 << histSub
	k := i/histHalf + 1
	m := uint64(i%histHalf + histHalf)
	return (m+1)<<uint(k) - 1
}

// Record adds one value; a negative one (a clock step) counts as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(uint64(v))]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min and Max are the exact extremes, 0 when empty.
func (h *Histogram) Min() int64 { return h.min }
func (h *Histogram) Max() int64 { return h.max }

// Mean is the exact mean, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q (0 < q ≤ 1): the largest value
// of the bucket that holds the ⌈q·n⌉-th smallest value, clamped to the
// exact maximum. Empty histograms give 0.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	rank = min(rank, h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(int64(histUpper(i)), h.max)
		}
	}
	return h.max
}
