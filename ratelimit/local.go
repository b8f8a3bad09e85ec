// Package ratelimit limits event rates per key within one process.
package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

var _ parley.Limiter = (*Local)(nil)

const (
	// numShards spreads keys over this many mutexes.
	numShards = 64
	// sweepEvery is how often a shard forgets its idle keys.
	sweepEvery = int64(time.Second)
)

// Local is a token-bucket rate limiter held in memory: each key has a bucket
// of capacity limit that refills at limit tokens per second, so a burst of
// limit events passes at once, then one more every 1/limit s. Over any
// interval of length T at most limit·(1+T/1s) events pass.
//
// It is implemented as GCRA: a key keeps only the time at which its bucket
// will be full again. A key whose bucket is full is indistinguishable from an
// unknown key, so each shard forgets such keys about once a second, and the
// memory held is bounded by the keys used in the last two seconds.
//
// Keys are spread over shards by hash so that goroutines limiting different
// keys rarely share a mutex. Local is safe for concurrent use. Create it with
// NewLocal.
type Local struct {
	// Now returns the current time. Zero means time.Now. Set it before the
	// first call to Allow.
	Now func() time.Time

	seed   maphash.Seed
	once   sync.Once
	base   time.Time // times are kept as nanoseconds since base
	shards [numShards]shard
}

type shard struct {
	mu sync.Mutex
	// full maps a key to when its bucket is full again, in nanoseconds
	// since base. Keys whose bucket is full are absent or swept.
	full      map[string]int64
	lastSweep int64
	_         [40]byte // keep shards on separate cache lines
}

// NewLocal returns an empty limiter.
func NewLocal() *Local {
	l := &Local{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].full = make(map[string]int64)
	}
	return l
}

// Allow reports whether one more event under key fits limit events per
// second, and counts it when it does. A limit <= 0 means no limit.
func (l *Local) Allow(key string, limit int) bool {
	return l.take(key, limit, false)
}

// Charge counts an event under key that was allowed elsewhere (another
// node's share of a cluster-wide limit), whether or not it fits: it uses up
// what Allow would have allowed. The debt is capped at one more full
// bucket, so a peer that overspends cannot block key for longer than a
// second beyond its refill.
func (l *Local) Charge(key string, limit int) {
	l.take(key, limit, true)
}

// take counts one event under key if it fits, or always when force is set.
func (l *Local) take(key string, limit int, force bool) bool {
	if limit <= 0 {
		return true
	}
	interval := int64(time.Second) / int64(limit) // time to refill one token
	if interval == 0 {
		return true // more than a billion per second
	}
	burst := interval * int64(limit) // time to refill the whole bucket, ≤ 1s
	now := l.elapsed()
	s := &l.shards[maphash.String(l.seed, key)%numShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	full, ok := s.full[key]
	if !ok || full < now {
		full = now
	}
	next := full + interval
	if next-now > burst {
		if !force {
			return false
		}
		next = min(next, now+2*burst)
	}
	s.full[key] = next
	return true
}

// Len returns the number of keys the limiter remembers: those used recently
// enough that their bucket is not full again.
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.full)
		s.mu.Unlock()
	}
	return n
}

// elapsed returns the time since the first call, monotonic with time.Now.
func (l *Local) elapsed() int64 {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	l.once.Do(func() { l.base = now() })
	return int64(now().Sub(l.base))
}

// sweepLocked forgets the keys whose bucket is full, at most once per
// sweepEvery.
func (s *shard) sweepLocked(now int64) {
	if now-s.lastSweep < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, full := range s.full {
		if full <= now {
			delete(s.full, k)
		}
	}
}
