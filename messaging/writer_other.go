//go:build !linux

package messaging

import (
	"errors"
	"net"
	"syscall"
)

// rawConnOf returns nil: elsewhere than on Linux each connection writes on
// goroutines of its own.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func rawWrite(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("raw writes are not supported")
}

func isRetryable(error) bool { return false }
