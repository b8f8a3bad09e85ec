package loadtest

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
)

func TestBucketBounds(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 12345, 1 << 20, 1<<32 + 7}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, r.Uint64N(1<<33))
	}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketLow(i), bucketHigh(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if v >= 2*histSub && float64(hi-lo+1)/float64(lo) > 1.0/histSub+1e-9 {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its value", i, lo, hi, histSub)
		}
	}
	for i := 1; i < histBuckets; i++ {
		if bucketLow(i) != bucketHigh(i-1)+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, bucketLow(i), bucketHigh(i-1))
		}
	}
	if got := bucketOf(math.MaxUint64); got != histBuckets-1 {
		t.Fatalf("bucketOf(max)=%d, want the last bucket %d", got, histBuckets-1)
	}
}

func TestHistQuantile(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		var h Hist
		if h.Quantile(0.99) != 0 || h.Mean() != 0 {
			t.Fatalf("empty histogram: p99=%d mean=%f, want 0", h.Quantile(0.99), h.Mean())
		}
	})
	t.Run("Random", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		var h Hist
		vals := make([]uint64, 100000)
		for i := range vals {
			vals[i] = uint64(r.ExpFloat64() * 2000) // exponential, mean 2 ms
			h.Record(vals[i])
		}
		sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			exact := float64(vals[int(q*float64(len(vals)))-1])
			got := float64(h.Quantile(q))
			if math.Abs(got-exact) > exact/histSub+1 {
				t.Fatalf("q%.3f=%.0f, exact %.0f: more than 1/%d off", q, got, exact, histSub)
			}
		}
		if h.Quantile(1) != vals[len(vals)-1] || h.Max != vals[len(vals)-1] {
			t.Fatalf("q1=%d max=%d, want %d", h.Quantile(1), h.Max, vals[len(vals)-1])
		}
	})
	t.Run("Exact", func(t *testing.T) {
		var h Hist
		for v := uint64(1); v <= 100; v++ {
			h.Record(v)
		}
		got := []uint64{h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), h.Quantile(0)}
		want := []uint64{50, 90, 99, 1}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("quantiles=%v, want %v (values below %d are exact)", got, want, 2*histSub)
			}
		}
		if h.Mean() != 50.5 {
			t.Fatalf("mean=%f, want 50.5", h.Mean())
		}
	})
}

func TestHistSubAndMerge(t *testing.T) {
	var a, b Hist
	for v := uint64(0); v < 1000; v++ {
		a.Record(v)
	}
	prev := a
	for v := uint64(5000); v < 6000; v++ {
		a.Record(v)
		b.Record(v)
	}
	d := a.Sub(&prev)
	if d.N != 1000 || d.Counts != b.Counts || d.Quantile(0.5) != b.Quantile(0.5) {
		t.Fatalf("Sub: n=%d p50=%d, want 1000 and %d", d.N, d.Quantile(0.5), b.Quantile(0.5))
	}
	if d.Max < 5999 || d.Max > a.Max {
		t.Fatalf("Sub: max=%d, want between 5999 and %d", d.Max, a.Max)
	}
	var m Hist
	m.Merge(&prev)
	m.Merge(&b)
	if m != a {
		t.Fatal("Merge of the two halves differs from the whole")
	}
}

func TestShardedHist(t *testing.T) {
	var s shardedHist
	var want Hist
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range uint64(1000) {
				s.Record(g, v*uint64(g+1))
			}
		}()
		for v := range uint64(1000) {
			want.Record(v * uint64(g+1))
		}
	}
	wg.Wait()
	got := s.Snapshot()
	if *got != want || s.Count() != 8000 {
		t.Fatalf("snapshot n=%d max=%d count=%d, want n=%d max=%d", got.N, got.Max, s.Count(), want.N, want.Max)
	}
}
