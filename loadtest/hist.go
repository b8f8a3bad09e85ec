package loadtest

import (
	"math/bits"
	"sync/atomic"
)

// Latencies are recorded in microseconds into a log-linear histogram in the
// manner of HdrHistogram: values below 2·histSub are exact, and every power of
// two above is cut into histSub equal buckets, so a bucket's width is at most
// 1/histSub (about 1.6 %) of its value.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	// histMaxShift bounds the range to 2^(histMaxShift+histSubBits+1) µs,
	// about 2.4 hours; larger values land in the last bucket.
	histMaxShift = 26
	histBuckets  = (histMaxShift + 2) * histSub
)

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	if shift > histMaxShift {
		return histBuckets - 1
	}
	return shift*histSub + int(v>>uint(shift))
}

// bucketLow returns the smallest value that falls in bucket i.
func bucketLow(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	return uint64(i-shift*histSub) << uint(shift)
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	return bucketLow(i) + (1 << uint(shift)) - 1
}

// Hist is a histogram of values in microseconds. The zero value is empty and
// ready; it is not safe for concurrent use (see shardedHist).
type Hist struct {
	Counts [histBuckets]uint64
	N      uint64
	Max    uint64
	Sum    uint64
}

// Record adds one value.
func (h *Hist) Record(v uint64) {
	h.Counts[bucketOf(v)]++
	h.N++
	h.Sum += v
	if v > h.Max {
		h.Max = v
	}
}

// Merge adds every value of o to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
	h.Sum += o.Sum
	h.Max = max(h.Max, o.Max)
}

// Sub returns h minus an earlier state of the same histogram. Max is the
// highest bucket's upper bound clipped to h.Max, since the exact maximum of
// the interval is not known.
func (h *Hist) Sub(prev *Hist) *Hist {
	d := &Hist{N: h.N - prev.N, Sum: h.Sum - prev.Sum}
	top := -1
	for i := range h.Counts {
		d.Counts[i] = h.Counts[i] - prev.Counts[i]
		if d.Counts[i] > 0 {
			top = i
		}
	}
	if top >= 0 {
		d.Max = min(bucketHigh(top), h.Max)
	}
	return d
}

// Quantile returns the value at quantile q (0..1): the upper bound of the
// bucket holding it, never more than Max. It returns 0 for an empty
// histogram.
func (h *Hist) Quantile(q float64) uint64 {
	if h.N == 0 {
		return 0
	}
	rank := uint64(q*float64(h.N) + 0.5)
	rank = min(max(rank, 1), h.N)
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.Max)
		}
	}
	return h.Max
}

// Mean returns the average value, 0 when empty.
func (h *Hist) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return float64(h.Sum) / float64(h.N)
}

// histShards is how many independent histograms shardedHist spreads its
// writers over. Writers pick a shard by connection index, so two goroutines
// rarely touch the same cache lines.
const histShards = 16

// shardedHist is a histogram that many goroutines record into at once with
// atomic adds, and that can be snapshotted at any time without stopping them.
type shardedHist struct {
	shards [histShards]atomicHist
}

type atomicHist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Uint64
	_      [64]byte // keep the next shard's counters off this one's line
}

// Record adds v to shard s (any int; it is reduced modulo the shard count).
func (s *shardedHist) Record(shard int, v uint64) {
	h := &s.shards[uint(shard)%histShards]
	h.counts[bucketOf(v)].Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	h.n.Add(1) // last: a snapshot never sees n ahead of counts
}

// Snapshot returns the merged contents of all shards. Records that race with
// it may or may not be included.
func (s *shardedHist) Snapshot() *Hist {
	out := &Hist{}
	for i := range s.shards {
		h := &s.shards[i]
		out.N += h.n.Load()
		out.Sum += h.sum.Load()
		out.Max = max(out.Max, h.max.Load())
		for b := range h.counts {
			out.Counts[b] += h.counts[b].Load()
		}
	}
	return out
}

// Count returns the number of values recorded so far.
func (s *shardedHist) Count() uint64 {
	var n uint64
	for i := range s.shards {
		n += s.shards[i].n.Load()
	}
	return n
}
