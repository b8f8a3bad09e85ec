//go:build !race

package messaging

const raceEnabled = false
