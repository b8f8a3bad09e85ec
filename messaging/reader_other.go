//go:build !linux

package messaging

// startReader reads c on a goroutine of its own: there is no poller here.
func startReader(c *conn) { startGoroutineReader(c) }
