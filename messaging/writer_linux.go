//go:build linux

package messaging

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// rawWriter makes non-blocking write system calls on one connection's
// socket through its RawConn, which keeps the descriptor from being closed
// and reused during a call. The callback is made once per connection, so a
// write allocates nothing. Only the connection's writer (one at a time)
// calls Write.
type rawWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // w.write
	buf []byte
	n   int
	err error
}

// newRawWriter returns a rawWriter for nc; nil when nc has no raw
// connection, and the connection then writes on goroutines of its own.
func newRawWriter(nc net.Conn) *rawWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &rawWriter{rc: rc}
	w.fn = w.write
	return w
}

func (w *rawWriter) write(fd uintptr) bool {
	for {
		n, err := syscall.Write(int(fd), w.buf)
		if err != syscall.EINTR {
			w.n, w.err = n, err
			return true
		}
	}
}

// Write makes one non-blocking write system call of b.
func (w *rawWriter) Write(b []byte) (int, error) {
	w.buf = b
	cerr := w.rc.Write(w.fn)
	n, err := w.n, w.err
	w.buf, w.n, w.err = nil, 0, nil
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
