//go:build race

package messaging

// raceEnabled shrinks the heaviest tests under the race detector (which
// slows them tenfold) and skips allocation counts.
const raceEnabled = true
