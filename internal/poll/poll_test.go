package poll_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/poll"
)

func TestUntil(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var n atomic.Int32
		go func() {
			for range 3 {
				n.Add(1)
			}
		}()
		poll.Until(t, "three increments", func() bool { return n.Load() == 3 })
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		start := time.Now()
		if poll.Wait(20*time.Millisecond, func() bool { return false }) {
			t.Fatal("Wait reported true for a condition that never holds")
		}
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Fatalf("Wait gave up after %v, before its deadline", d)
		}
	})
}
