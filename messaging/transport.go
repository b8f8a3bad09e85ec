package messaging

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// transport is what a connection needs of a WebSocket library. It keeps the
// library choice inside this file so it can be swapped after measurement.
//
// NextMessage, SetReadDeadline and SetPongHandler are called only by the
// connection's reader; WriteBatch only by its writer; Close by anyone.
type transport interface {
	// NextMessage returns the next data message's kind and a reader of its
	// payload, valid until the next call. Control frames are handled inside:
	// pings are answered, a pong calls the pong handler, and a close frame
	// is echoed and returned as an error.
	NextMessage() (text bool, r io.Reader, err error)
	SetReadDeadline(t time.Time) error
	SetPongHandler(fn func())

	// WriteBatch writes frames as text messages, then a ping when ping is
	// set, then a close frame when closeCode is not zero, with as few
	// system calls as possible, all before deadline.
	WriteBatch(frames [][]byte, ping bool, closeCode int, closeReason string, deadline time.Time) error

	// Close closes the network connection at once.
	Close() error
}

// gorillaTransport is a transport on gorilla/websocket. gorilla writes each
// frame with its own Write call; batchConn under it collects the writes of
// one WriteBatch into a buffer borrowed for the duration of the batch, so
// that the whole batch leaves in one system call.
type gorillaTransport struct {
	ws *websocket.Conn
	bc *batchConn
}

// writeBufferSize is gorilla's per-frame staging buffer, borrowed from
// writePool only while a frame is written.
const writeBufferSize = 4096

// readBufferSize is the size of each connection's read buffer, held for the
// connection's life: small, since clients send little.
const readBufferSize = 1024

var writePool = &sync.Pool{}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// upgrade completes the WebSocket handshake, selecting protocol as the
// subprotocol, and returns the transport. readLimit is the largest message
// the library accepts at all; bigger ones close the connection with 1009.
func upgrade(w http.ResponseWriter, r *http.Request, protocol string, readLimit int64) (transport, error) {
	u := websocket.Upgrader{
		ReadBufferSize:   readBufferSize,
		WriteBufferSize:  writeBufferSize,
		WriteBufferPool:  writePool,
		HandshakeTimeout: 10 * time.Second,
		// The chat token is the credential; IVS accepts any Origin.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	hj := &hijacker{ResponseWriter: w}
	h := http.Header{"Sec-Websocket-Protocol": {protocol}}
	ws, err := u.Upgrade(hj, r, h)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(readLimit)
	return &gorillaTransport{ws: ws, bc: hj.bc}, nil
}

// hijacker wraps the connection that the HTTP server hands over.
type hijacker struct {
	http.ResponseWriter
	bc *batchConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.bc = &batchConn{Conn: c}
	rw.Writer.Reset(h.bc)
	return h.bc, rw, nil
}

func (t *gorillaTransport) NextMessage() (bool, io.Reader, error) {
	typ, r, err := t.ws.NextReader()
	return typ == websocket.TextMessage, r, err
}

func (t *gorillaTransport) SetReadDeadline(d time.Time) error { return t.ws.SetReadDeadline(d) }

func (t *gorillaTransport) SetPongHandler(fn func()) {
	t.ws.SetPongHandler(func(string) error { fn(); return nil })
}

func (t *gorillaTransport) WriteBatch(frames [][]byte, ping bool, code int, reason string, deadline time.Time) error {
	t.bc.begin()
	err := t.ws.SetWriteDeadline(deadline)
	for _, f := range frames {
		if err != nil {
			break
		}
		err = t.ws.WriteMessage(websocket.TextMessage, f)
	}
	if err == nil && ping {
		err = t.ws.WriteControl(websocket.PingMessage, nil, deadline)
	}
	if err == nil && code != 0 {
		err = t.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	}
	if ferr := t.bc.flush(deadline); err == nil {
		err = ferr
	}
	return err
}

func (t *gorillaTransport) Close() error { return t.bc.Conn.Close() }

// batchConn passes writes through, except between begin and flush, when it
// collects them and writes them together at flush.
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      *[]byte // borrowed from batchPool while batching
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *batchConn) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = true
	c.buf = batchPool.Get().(*[]byte)
}

func (c *batchConn) flush(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	buf := c.buf
	c.buf = nil
	var err error
	if len(*buf) > 0 {
		c.Conn.SetWriteDeadline(deadline)
		_, err = c.Conn.Write(*buf)
	}
	if cap(*buf) <= 64<<10 { // do not keep a burst's huge buffer
		*buf = (*buf)[:0]
		batchPool.Put(buf)
	}
	return err
}
