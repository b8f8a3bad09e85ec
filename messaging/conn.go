package messaging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/hub"
)

// Close reasons of the messaging side, beyond the hub's.
const (
	closeSessionExpired hub.CloseReason = 100 + iota
	closeShutdown
)

// conn is one client connection. Its reader is the goroutine that runs
// run; its writer (writeLoop) runs only while something is queued.
type conn struct {
	srv   *Server
	id    string
	token *parley.ChatToken
	ip    string
	room  *parley.Room // as loaded at the handshake; hub.Room has the live one

	t     transport
	hroom *hub.Room
	ctx   context.Context
	stop  context.CancelFunc

	mu        sync.Mutex
	queue     [][]byte
	inflight  int  // frames taken by the writer, not yet written
	writing   bool // a writer goroutine is running
	ping      bool // the writer should send a ping
	reason    hub.CloseReason
	closeOut  bool // a close frame is queued or sent
	done      bool // the reader has exited; nothing more is written
	pingTimer *time.Timer

	// Reader-only state.
	rateStart time.Time
	rateCount int
}

func newConn(s *Server, tok *parley.ChatToken, room *parley.Room, ip string) *conn {
	return &conn{srv: s, id: parley.NewID(), token: tok, ip: ip, room: room}
}

// UserID implements hub.Conn.
func (c *conn) UserID() string { return c.token.UserID }

// Enqueue implements hub.Conn: false when the queue is full. Frames that
// arrive after the connection started closing are dropped.
func (c *conn) Enqueue(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason != 0 || c.done {
		return true
	}
	if len(c.queue)+c.inflight >= orDefault(c.srv.QueueSize, defaultQueueSize) {
		return false
	}
	c.queue = append(c.queue, frame)
	c.startWriterLocked()
	return true
}

// send enqueues a frame for this connection only, closing it as a slow
// consumer when its queue is full.
func (c *conn) send(frame []byte) {
	if !c.Enqueue(frame) {
		c.Close(hub.CloseSlowConsumer)
	}
}

// Close implements hub.Conn. A slow consumer is dropped at once (its client
// reconnects); every other reason queues its last frame, if any, and a
// close frame 1000 behind what is already queued, so the client sees a
// clean close.
func (c *conn) Close(reason hub.CloseReason) {
	c.mu.Lock()
	if c.reason != 0 || c.done {
		c.mu.Unlock()
		return
	}
	c.reason = reason
	if reason == hub.CloseSlowConsumer {
		c.queue = nil
		c.mu.Unlock()
		c.srv.logger().Info("closing slow consumer", "conn", c.id, "room", c.token.RoomID, "user", c.token.UserID)
		c.abort()
		return
	}
	if f, code := lastFrame(reason); f != nil {
		c.queue = append(c.queue, f)
		c.srv.metrics.errors.WithLabelValues(codeLabel(code)).Inc()
	}
	c.closeOut = true
	c.startWriterLocked()
	c.mu.Unlock()
}

// lastFrame is the frame sent before a clean close for reason.
func lastFrame(reason hub.CloseReason) ([]byte, int) {
	var err error
	switch reason {
	case hub.CloseRoomDeleted:
		err = parley.Errorf(parley.ResourceNotFoundException, "Room deleted")
	case closeSessionExpired:
		err = parley.Errorf(parley.Unauthorized, "Session expired")
	case closeShutdown:
		err = parley.Errorf(parley.Unauthorized, "Server is shutting down, reconnect")
	default:
		return nil, 0
	}
	return errorFrame("", err)
}

func closeText(reason hub.CloseReason) string {
	switch reason {
	case hub.CloseDisconnected:
		return "disconnected"
	case hub.CloseRoomDeleted:
		return "room deleted"
	case closeSessionExpired:
		return "session expired"
	case closeShutdown:
		return "server shutting down"
	}
	return ""
}

// abort closes the network connection at once.
func (c *conn) abort() {
	c.mu.Lock()
	t := c.t
	c.mu.Unlock()
	if t != nil {
		t.Close()
	}
}

func (c *conn) startWriterLocked() {
	if c.writing || c.done || c.t == nil {
		return
	}
	c.writing = true
	c.srv.wg.Add(1)
	go c.writeLoop()
}

// writeLoop writes everything queued, in batches, and exits when the queue
// is empty.
func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	var spare [][]byte
	for {
		c.mu.Lock()
		c.inflight = 0
		frames := c.queue
		c.queue = spare[:0]
		ping := c.ping
		c.ping = false
		code := 0
		if c.closeOut && c.reason != hub.CloseSlowConsumer && c.reason != 0 {
			code = websocket.CloseNormalClosure
			c.closeOut = false
		}
		if (len(frames) == 0 && !ping && code == 0) || c.done {
			c.queue = frames[:0]
			if cap(c.queue) > 16 {
				c.queue = nil // do not keep a burst's queue on an idle connection
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.inflight = len(frames)
		reason := c.reason
		c.mu.Unlock()

		err := c.t.WriteBatch(frames, ping, code, closeText(reason), time.Now().Add(writeTimeout))
		if err != nil {
			c.t.Close()
		} else {
			c.srv.metrics.countDelivered(frames)
		}
		if err == nil && code != 0 {
			// Wait briefly for the client's close frame, then give up.
			c.mu.Lock()
			c.t.SetReadDeadline(time.Now().Add(closeGrace))
			c.mu.Unlock()
		}
		clear(frames)
		spare = frames
	}
}

// join adds the connection to its room before the handshake completes, so
// that it misses nothing published once the client sees it open.
func (c *conn) join() error {
	c.ctx, c.stop = context.WithCancel(context.Background())
	r, err := c.srv.hub.Join(c.room, c)
	if err != nil {
		c.stop()
		return fmt.Errorf("join room %s: %w", c.room.ID, err)
	}
	c.hroom = r
	return nil
}

// run serves the upgraded connection until it ends: it reads and handles
// requests.
func (c *conn) run(t transport) {
	s := c.srv
	defer c.finish()
	c.mu.Lock()
	c.t = t
	slow := c.reason == hub.CloseSlowConsumer
	if len(c.queue) > 0 || c.closeOut { // queued during the handshake
		c.startWriterLocked()
	}
	c.mu.Unlock()
	if slow {
		return
	}
	ping := orDefault(s.PingInterval, defaultPingInterval)
	c.mu.Lock()
	c.pingTimer = time.AfterFunc(ping, func() { c.onPing(ping) })
	c.mu.Unlock()
	expiry := time.AfterFunc(c.token.SessionExpiry.Sub(s.now()), func() { c.Close(closeSessionExpired) })
	defer expiry.Stop()

	t.SetPongHandler(func() { c.extendRead(ping) })
	for {
		c.extendRead(ping)
		if err := c.readOne(); err != nil {
			return
		}
	}
}

// extendRead moves the read deadline two ping intervals ahead, unless the
// connection is closing (then closeGrace rules).
func (c *conn) extendRead(ping time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason == 0 {
		c.t.SetReadDeadline(time.Now().Add(2 * ping))
	}
}

// onPing asks the writer for a ping and rearms itself.
func (c *conn) onPing(every time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.ping = true
	c.startWriterLocked()
	c.pingTimer.Reset(every)
}

// finish runs when the reader exits.
func (c *conn) finish() {
	c.stop()
	c.mu.Lock()
	c.done = true
	c.queue = nil
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.mu.Unlock()
	if c.hroom != nil {
		c.srv.hub.Leave(c.hroom, c)
	}
	if c.t != nil {
		c.t.Close()
	}
}

var readPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readOne reads one message and handles it. A message over MaxFrameSize is
// discarded as it is read and answered with ERROR 413.
func (c *conn) readOne() error {
	text, r, err := c.t.NextMessage()
	if err != nil {
		return err
	}
	limit := c.srv.maxFrameSize()
	buf := readPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 2*limit {
			buf.Reset()
			readPool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1)); err != nil {
		return err
	}
	if buf.Len() > limit {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		c.fail("", parley.Errorf(parley.PayloadTooLarge, "frame larger than %d bytes", limit))
		return nil
	}
	if !text {
		c.fail("", parley.Errorf(parley.ValidationException, "binary frames are not supported: send JSON text frames"))
		return nil
	}
	c.handle(buf.Bytes())
	return nil
}

// fail answers a request with an ERROR frame.
func (c *conn) fail(requestID string, err error) {
	f, code := errorFrame(requestID, err)
	if code == 500 {
		c.srv.logger().Error("messaging request", "conn", c.id, "room", c.token.RoomID, "requestId", requestID, "err", err)
	}
	c.srv.metrics.errors.WithLabelValues(codeLabel(code)).Inc()
	c.send(f)
}
