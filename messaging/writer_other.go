//go:build !linux

package messaging

import (
	"errors"
	"net"
)

// rawWriter is Linux-only: elsewhere each connection writes on goroutines
// of its own.
type rawWriter struct{}

func newRawWriter(net.Conn) *rawWriter { return nil }

func (*rawWriter) Write([]byte) (int, error) {
	return 0, errors.New("raw writes are not supported")
}

func isRetryable(error) bool { return false }
