//go:build linux

package messaging

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// rawConnOf returns nc's raw connection for the write pool; nil when nc
// has none, and the connection then writes on goroutines of its own.
func rawConnOf(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawWrite makes one non-blocking write system call of b to rc.
func rawWrite(rc syscall.RawConn, b []byte) (n int, err error) {
	cerr := rc.Write(func(fd uintptr) bool {
		for {
			n, err = syscall.Write(int(fd), b)
			if err != syscall.EINTR {
				return true
			}
		}
	})
	if cerr != nil {
		return 0, cerr
	}
	return max(n, 0), err
}

// isRetryable reports whether a failed rawWrite should be retried with a
// blocking write: the socket is full, or an old write deadline expired.
func isRetryable(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, os.ErrDeadlineExceeded)
}
