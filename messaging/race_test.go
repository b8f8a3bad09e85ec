//go:build race

package messaging_test

// raceEnabled shrinks the heaviest tests under the race detector, which
// slows them tenfold.
const raceEnabled = true
