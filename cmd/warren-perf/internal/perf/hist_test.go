package perf

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistogramSmallValuesExact(t *testing.T) {
	var h Histogram
	for v := range int64(100) {
		h.Record(v + 1) // 1…100
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {0.999, 100}, {1, 100}, {0.001, 1}} {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
	if h.Min() != 1 || h.Max() != 100 || h.Count() != 100 || h.Mean() != 50.5 {
		t.Errorf("min %d max %d count %d mean %v", h.Min(), h.Max(), h.Count(), h.Mean())
	}
}

// TestHistogramAgainstSorted compares quantiles with those of the sorted
// sample: they must agree within the bucket precision (1/128).
func TestHistogramAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]int64, 100_000)
	for i := range vals {
		// Log-uniform from 1 ns to ~100 s, like latencies under load.
		vals[i] = int64(math.Exp(rng.Float64() * math.Log(1e11)))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 0.9999} {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/128+1 {
			t.Errorf("Quantile(%v) = %d, sorted sample says %d", q, got, want)
		}
	}
	if h.Max() != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every value lies in its bucket, and buckets are contiguous.
	prev := -1
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<40 + 12345, 1<<63 - 1} {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("index %d of %d out of order or range", i, v)
		}
		prev = i
		if histUpper(i) < v || (i > 0 && histUpper(i-1) >= v) {
			t.Fatalf("value %d in bucket %d with upper %d (previous upper %d)", v, i, histUpper(i), histUpper(i-1))
		}
	}
}

func TestHistogramMergeAndEdges(t *testing.T) {
	var a, b, empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	a.Record(-5) // a clock step counts as 0
	b.Record(1000)
	b.Record(3000)
	a.Merge(&b)
	a.Merge(&empty)
	if a.Count() != 3 || a.Min() != 0 || a.Max() != 3000 {
		t.Fatalf("merged count %d min %d max %d", a.Count(), a.Min(), a.Max())
	}
	if got := a.Quantile(1); got != 3000 {
		t.Fatalf("max quantile %d, want the exact max 3000", got)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		h.Record(i * 977 % 10_000_000)
	}
}
