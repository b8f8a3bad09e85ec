package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestLocal() (*Local, *fakeClock) {
	c := &fakeClock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	l := NewLocal()
	l.Now = c.Now
	return l, c
}

// allowN calls Allow n times and returns how many passed.
func allowN(l *Local, key string, limit, n int) int {
	ok := 0
	for range n {
		if l.Allow(key, limit) {
			ok++
		}
	}
	return ok
}

func TestAllowBurst(t *testing.T) {
	for _, limit := range []int{1, 3, 10, 100, 7919} {
		l, _ := newTestLocal()
		if got := allowN(l, "k", limit, limit+5); got != limit {
			t.Errorf("limit=%d: allowed %d in one instant, want %d", limit, got, limit)
		}
	}
}

func TestAllowRefill(t *testing.T) {
	l, c := newTestLocal()
	const limit = 5
	if got := allowN(l, "k", limit, 10); got != limit {
		t.Fatalf("allowed=%d, want %d", got, limit)
	}
	c.Advance(199 * time.Millisecond)
	if l.Allow("k", limit) {
		t.Fatal("allowed before one token refilled")
	}
	c.Advance(time.Millisecond)
	if got := allowN(l, "k", limit, 3); got != 1 {
		t.Fatalf("after 1/limit s allowed=%d, want 1", got)
	}
	c.Advance(10 * time.Second)
	if got := allowN(l, "k", limit, 10); got != limit {
		t.Fatalf("after a long pause allowed=%d, want the bucket capacity %d", got, limit)
	}
}

// TestAllowSteadyRate checks the rate over a long run at 1 ms steps.
func TestAllowSteadyRate(t *testing.T) {
	l, c := newTestLocal()
	const limit = 10
	got := 0
	for range 10000 { // 10 s
		if l.Allow("k", limit) {
			got++
		}
		c.Advance(time.Millisecond)
	}
	// The initial burst plus limit per second.
	if want := limit + 10*limit; got < want-1 || got > want {
		t.Fatalf("allowed %d in 10 s, want about %d", got, want)
	}
}

func TestAllowIndependentKeys(t *testing.T) {
	l, _ := newTestLocal()
	if got := allowN(l, "a", 2, 5); got != 2 {
		t.Fatalf("a: allowed=%d, want 2", got)
	}
	if got := allowN(l, "b", 3, 5); got != 3 {
		t.Fatalf("b: allowed=%d, want 3 (a must not use b's budget)", got)
	}
}

func TestAllowUnlimited(t *testing.T) {
	l, _ := newTestLocal()
	for _, limit := range []int{0, -1} {
		if got := allowN(l, "k", limit, 1000); got != 1000 {
			t.Errorf("limit=%d: allowed=%d, want all", limit, got)
		}
	}
	if l.Len() != 0 {
		t.Errorf("Len=%d, want 0: unlimited keys need no memory", l.Len())
	}
}

func TestAllowLimitLowered(t *testing.T) {
	l, c := newTestLocal()
	allowN(l, "k", 10, 10)
	c.Advance(500 * time.Millisecond) // the bucket is half full again
	// Half of a bucket of 2 is one token.
	if got := allowN(l, "k", 2, 5); got != 1 {
		t.Fatalf("after lowering the limit allowed=%d, want 1", got)
	}
	c.Advance(time.Second)
	if got := allowN(l, "k", 2, 5); got != 2 {
		t.Fatalf("allowed=%d, want 2", got)
	}
}

// TestAllowConcurrent checks under -race that goroutines sharing a key
// together get exactly limit events.
func TestAllowConcurrent(t *testing.T) {
	l, _ := newTestLocal()
	const limit = 500
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if l.Allow("shared", limit) {
					allowed.Add(1)
				}
				l.Allow("own-"+strconv.Itoa(g)+"-"+strconv.Itoa(i%10), 5)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("allowed=%d across goroutines, want %d", got, limit)
	}
}

func TestForgetsIdleKeys(t *testing.T) {
	l, c := newTestLocal()
	for i := range 10000 {
		l.Allow("old-"+strconv.Itoa(i), 10)
	}
	if n := l.Len(); n != 10000 {
		t.Fatalf("Len=%d, want 10000", n)
	}
	c.Advance(2 * time.Second)
	// New traffic sweeps the shards it touches; 5000 keys touch all 64.
	for i := range 5000 {
		l.Allow("new-"+strconv.Itoa(i), 10)
	}
	if n := l.Len(); n != 5000 {
		t.Fatalf("Len=%d after the old keys went idle, want 5000", n)
	}
	// A key that is still limited is kept across a sweep: every shard swept
	// just now, so the next sweep comes 1 s later, while "busy" is limited.
	c.Advance(600 * time.Millisecond)
	if !l.Allow("busy", 1) {
		t.Fatal("busy: first event refused")
	}
	c.Advance(500 * time.Millisecond)
	if l.Allow("busy", 1) {
		t.Fatal("busy key forgot its use across a sweep")
	}
	c.Advance(500 * time.Millisecond)
	if !l.Allow("busy", 1) {
		t.Fatal("busy key not refilled after 1 s at 1/s")
	}
}

// TestRealClock runs with time.Now.
func TestRealClock(t *testing.T) {
	l := NewLocal()
	if got := allowN(l, "k", 1000, 1000); got < 999 {
		t.Fatalf("allowed=%d of a burst of 1000, want about 1000", got)
	}
	if got := allowN(l, "k", 1000, 5000); got > 500 {
		t.Fatalf("allowed=%d more right after the burst, want few", got)
	}
}

func BenchmarkAllow(b *testing.B) {
	for _, keys := range []int{1, 1000} {
		b.Run("keys="+strconv.Itoa(keys), func(b *testing.B) {
			l := NewLocal()
			names := make([]string, keys)
			for i := range names {
				names[i] = "room-" + strconv.Itoa(i)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					l.Allow(names[i%keys], 1000000)
					i++
				}
			})
		})
	}
}

func TestLocal_Charge(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLocal()
	l.Now = func() time.Time { return now }
	t.Run("UsesUpAllowance", func(t *testing.T) {
		for range 6 {
			l.Charge("room:a", 10)
		}
		allowed := 0
		for range 10 {
			if l.Allow("room:a", 10) {
				allowed++
			}
		}
		if allowed != 4 {
			t.Fatalf("allowed=%d after 6 charged events at 10/s, want 4", allowed)
		}
	})
	t.Run("DebtCapped", func(t *testing.T) {
		for range 1000 {
			l.Charge("room:b", 10)
		}
		if l.Allow("room:b", 10) {
			t.Fatal("allowed right after 1000 charged events")
		}
		now = now.Add(2*time.Second + time.Millisecond)
		if !l.Allow("room:b", 10) {
			t.Fatal("still refused 2 s after the charges: the debt is not capped")
		}
	})
}
