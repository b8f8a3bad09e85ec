// Package poll waits, in tests, for a condition that becomes true
// eventually: a frame delivered by a bus, a connection that has ended, a
// metric that has moved. Tests never sleep for a fixed time; they poll with
// a deadline, and a condition that never holds fails the test with what was
// awaited.
package poll

import (
	"testing"
	"time"
)

// Timeout is how long Until waits before it fails the test.
const Timeout = 10 * time.Second

// interval is the pause between two checks of a condition.
const interval = 2 * time.Millisecond

// Until checks cond until it returns true, failing tb with what when it has
// not within Timeout.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	Within(tb, Timeout, what, cond)
}

// Within is Until with a deadline of its own.
func Within(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Wait(d, cond) {
		tb.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// Wait checks cond until it returns true or d has passed, and reports the
// last result. It is for the tests that need to go on when a condition did
// not come about (cond runs at least once).
func Wait(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return cond()
		}
		time.Sleep(interval) // the polling interval, not a wait for the condition
	}
	return true
}
