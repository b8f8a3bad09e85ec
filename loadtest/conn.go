package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
)

// client is one WebSocket connection. Its reader goroutine owns streams,
// rejected and unique; they are read by others only after it has ended.
type client struct {
	idx    int
	room   int
	sender int // global sender index, -1 for a pure receiver
	ws     *websocket.Conn

	streams  []stream            // per sender of the room: sender/rooms
	rejected map[uint32]struct{} // own messages refused with ERROR (senders)
	unique   uint64              // first deliveries seen
	sent     atomic.Uint32       // numbers used so far (senders)
	win      chan struct{}       // in-flight window (senders)
}

// ack frees one slot of the sender's in-flight window.
func (c *client) ack() {
	select {
	case <-c.win:
	default:
	}
}

// dialer opens WebSocket connections: connection i goes to target i mod
// len(targets), from the target's source addresses in turn.
type dialer struct {
	targets []dialTarget
	next    atomic.Uint32
	timeout time.Duration
	bufs    websocket.BufferPool
}

// dialTarget is one messaging URL and the source addresses to dial it from
// (none: the kernel's choice).
type dialTarget struct {
	url  string
	srcs []net.IP
}

// newDialer returns a dialer for urls; srcs are used for the loopback ones.
func newDialer(urls []string, srcs []net.IP) *dialer {
	d := &dialer{timeout: 10 * time.Second, bufs: &sync.Pool{}}
	for _, u := range urls {
		t := dialTarget{url: u}
		if loopbackHost(u) {
			t.srcs = srcs
		}
		d.targets = append(d.targets, t)
	}
	return d
}

// dial connects connection i with token as the subprotocol and checks that
// the server echoed it, as browsers require.
func (d *dialer) dial(ctx context.Context, i int, token string) (*websocket.Conn, error) {
	t := &d.targets[i%len(d.targets)]
	nd := &net.Dialer{Timeout: d.timeout}
	if len(t.srcs) > 0 {
		ip := t.srcs[int(d.next.Add(1))%len(t.srcs)]
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	wd := websocket.Dialer{
		NetDialContext:   nd.DialContext,
		HandshakeTimeout: d.timeout,
		ReadBufferSize:   1024,
		WriteBufferPool:  d.bufs,
		Subprotocols:     []string{token},
	}
	ws, resp, err := wd.DialContext(ctx, t.url, nil)
	if err != nil {
		if resp != nil {
			return nil, &handshakeError{status: resp.StatusCode}
		}
		return nil, err
	}
	if ws.Subprotocol() != token {
		ws.Close()
		return nil, errNoEcho
	}
	ws.SetReadLimit(1 << 20)
	return ws, nil
}

var errNoEcho = errors.New("subprotocol not echoed")

type handshakeError struct{ status int }

func (e *handshakeError) Error() string { return fmt.Sprintf("handshake: HTTP %d", e.status) }

// reason names the kind of a connect or read failure, for the report.
func reason(err error) string {
	var he *handshakeError
	var ce *websocket.CloseError
	var ne net.Error
	var pe *parley.Error
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &pe):
		return string(pe.Code)
	case errors.As(err, &he):
		return "HTTP " + strconv.Itoa(he.status)
	case errors.Is(err, errNoEcho):
		return "subprotocol not echoed"
	case errors.As(err, &ce):
		return "close " + strconv.Itoa(ce.Code)
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return "no source port"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other: " + err.Error()
}

// read is a client's reader loop. It ends when the connection does, and
// returns the error that ended it.
func (r *run) read(c *client) error {
	buf := make([]byte, 0, 512)
	for {
		_, rd, err := c.ws.NextReader()
		if err != nil {
			return err
		}
		buf, err = readFrame(rd, buf[:0])
		if err != nil {
			return err
		}
		r.handle(c, buf, time.Now().UnixNano())
	}
}

// readFrame reads a whole frame into buf, growing it as needed.
func readFrame(rd io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// handle accounts for one frame received by c at time now.
func (r *run) handle(c *client, frame []byte, now int64) {
	sender, seq, ts, ok := findMark(frame)
	if !ok {
		r.handleOther(c, frame)
		return
	}
	if sender >= r.cfg.Senders || sender%r.cfg.Rooms != c.room {
		r.foreign.Add(1)
		return
	}
	switch c.streams[sender/r.cfg.Rooms].see(seq) {
	case deliveryDup:
		r.dups.Add(1)
		return
	}
	c.unique++
	lat := max(now-ts, 0) / 1000
	r.lat.Record(c.idx, uint64(lat))
	if sender == c.sender {
		c.ack()
	}
}

// handleOther looks at a frame without a mark: ERROR frames are decoded (they
// are rare), anything else is counted.
func (r *run) handleOther(c *client, frame []byte) {
	if !bytes.Contains(frame, []byte(`"ERROR"`)) {
		r.others.Add(1)
		return
	}
	var e struct {
		ErrorCode    int
		RequestId    string
		ErrorMessage string
	}
	if err := json.Unmarshal(frame, &e); err != nil {
		r.others.Add(1)
		return
	}
	r.countError(e.ErrorCode, e.ErrorMessage)
	sender, seq, ok := parseRequestID(e.RequestId)
	if ok && sender == c.sender {
		if c.rejected == nil {
			c.rejected = make(map[uint32]struct{})
		}
		c.rejected[seq] = struct{}{}
		r.rooms[c.room].rejected.Add(1)
		c.ack()
	}
}

// sourceAddrs parses "127.0.0.2-127.0.0.20" or "a,b,c".
func sourceAddrs(spec string) ([]net.IP, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	if lo, hi, ok := strings.Cut(spec, "-"); ok {
		a, b := net.ParseIP(lo).To4(), net.ParseIP(hi).To4()
		if a == nil || b == nil || !bytes.Equal(a[:3], b[:3]) || a[3] > b[3] {
			return nil, fmt.Errorf("source range %q: want a.b.c.x-a.b.c.y", spec)
		}
		var out []net.IP
		for i := int(a[3]); i <= int(b[3]); i++ {
			out = append(out, net.IPv4(a[0], a[1], a[2], byte(i)))
		}
		return out, nil
	}
	var out []net.IP
	for _, s := range strings.Split(spec, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return nil, fmt.Errorf("source address %q: not an IP address", s)
		}
		out = append(out, ip)
	}
	return out, nil
}

// loopbackHost reports whether a URL's host is an IPv4 loopback address or
// localhost (source spreading only works for 127.0.0.0/8).
func loopbackHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.To4() != nil && ip.IsLoopback()
}

// splitWSURLs parses the -ws-url list: one or more ws:// or wss:// URLs
// separated by commas.
func splitWSURLs(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("-ws-url %q: %w", s, err)
		}
		if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return nil, fmt.Errorf("-ws-url %q: want ws://host[:port]/path or wss://…", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-ws-url %q: no URL", list)
	}
	return out, nil
}

// deriveWSURL turns the control-plane URL into the messaging URL.
func deriveWSURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse -url: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("-url %q: scheme must be http or https", base)
	}
	u.Path, u.RawQuery = "/", ""
	return u.String(), nil
}
