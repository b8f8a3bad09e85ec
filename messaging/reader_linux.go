//go:build linux

package messaging

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// On Linux an idle connection costs no goroutine and no buffer: its socket
// is registered, one-shot, with an epoll instance shared by the process.
// One goroutine waits on it; when a socket is readable it starts a
// goroutine that reads once into a pooled buffer, hands the bytes to the
// connection, and re-arms the socket. One-shot registration means at most
// one such goroutine per connection, so requests are handled in order.
//
// Go's own netpoller keeps the socket too and is used for writes (with
// their deadlines); nothing calls Read on the net.Conn, so the two do not
// compete.

// poller is the process's epoll instance and the connections in it.
type poller struct {
	epfd int

	mu    sync.Mutex
	conns map[uint64]*pollReader
	next  uint64
}

var (
	pollOnce  sync.Once
	thePoller *poller
)

// getPoller returns the process's poller, starting it on first use; nil if
// epoll is unavailable.
func getPoller() *poller {
	pollOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: fd, conns: make(map[uint64]*pollReader)}
		go thePoller.wait()
	})
	return thePoller
}

// wait dispatches readiness events for ever.
func (p *poller) wait() {
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if !errors.Is(err, syscall.EINTR) {
				slog.Error("messaging: epoll_wait failed; retrying", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if r := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; r != nil {
				go r.readEvent()
			}
		}
		p.mu.Unlock()
	}
}

// pollReader is a connection registered with the poller. Its ID, not the
// file descriptor, names it in events: a descriptor can be reused by a new
// connection while an event of the old one is being dispatched.
type pollReader struct {
	p  *poller
	c  *conn
	rc syscall.RawConn
	id uint64
}

// startReader registers c with the poller, or falls back to a goroutine.
func startReader(c *conn) {
	sc, ok := c.nc.(syscall.Conn)
	p := getPoller()
	if !ok || p == nil || pollDisabled.Load() {
		startGoroutineReader(c)
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		startGoroutineReader(c)
		return
	}
	r := &pollReader{p: p, c: c, rc: rc}
	p.mu.Lock()
	p.next++
	r.id = p.next
	p.conns[r.id] = r
	p.mu.Unlock()
	if !c.setReader(r) {
		r.forget()
		return
	}
	if err := r.ctl(syscall.EPOLL_CTL_ADD); err != nil {
		c.finish() // the connection was closed meanwhile
	}
}

// ctl adds or re-arms the registration. The descriptor is used under
// Control, so it cannot be closed and reused meanwhile.
func (r *pollReader) ctl(op int) error {
	var err error
	cerr := r.rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{
			Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
			Fd:     int32(uint32(r.id)),
			Pad:    int32(uint32(r.id >> 32)),
		}
		err = syscall.EpollCtl(r.p.epfd, op, int(fd), &ev)
	})
	return errors.Join(cerr, err)
}

func (r *pollReader) forget() {
	r.p.mu.Lock()
	delete(r.p.conns, r.id)
	r.p.mu.Unlock()
}

// stop unregisters the connection; closing it removes it from epoll.
func (r *pollReader) stop() { r.forget() }

// activeLinger is how long a connection that sent something keeps a
// goroutine blocked in Read before it goes back to the poller: a client
// that keeps sending is read like with a goroutine per connection, without
// a hop through the poller's goroutine (which waits for a P behind every
// runnable writer when the server is busy).
const activeLinger = 2 * time.Second

// readEvent reads what is there and hands it to the connection; then, as
// the connection is active, reads it on this goroutine until it has been
// quiet for activeLinger, and re-arms the registration.
func (r *pollReader) readEvent() {
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	n, err := r.read(*bp)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		r.rearm()
		return
	case err != nil || n == 0: // error or end of stream
		r.c.finish()
		return
	}
	r.c.lastRead.Store(int64(time.Since(epoch)))
	if r.c.onData((*bp)[:n]) && r.readActive(*bp) {
		r.rearm()
	}
}

// readActive reads with blocking reads until the connection is quiet for
// activeLinger (true) or done (false).
func (r *pollReader) readActive(buf []byte) bool {
	nc := r.c.nc
	for {
		nc.SetReadDeadline(time.Now().Add(activeLinger))
		n, err := nc.Read(buf)
		if n > 0 {
			r.c.lastRead.Store(int64(time.Since(epoch)))
			if !r.c.onData(buf[:n]) {
				return false
			}
		}
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return nc.SetReadDeadline(time.Time{}) == nil
		default:
			r.c.finish()
			return false
		}
	}
}

// read makes one non-blocking read system call.
func (r *pollReader) read(b []byte) (n int, err error) {
	cerr := r.rc.Read(func(fd uintptr) bool {
		for {
			n, err = syscall.Read(int(fd), b)
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

func (r *pollReader) rearm() {
	if err := r.ctl(syscall.EPOLL_CTL_MOD); err != nil {
		r.c.finish()
	}
}
