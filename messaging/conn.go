package messaging

import (
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/hub"
)

// conn is one client connection. An idle connection has no goroutine and
// no buffer: its bytes are read when the socket is readable (readEvent, or
// readLoop where there is no poller), and its writes are made by the
// write pool's workers (writer.go) while something is queued, or by a
// writer goroutine of its own (writeLoop) where raw writes are not
// available.
type conn struct {
	srv    *Server
	id     string
	token  *parley.ChatToken
	ip     string
	loaded *parley.Room // the room as the handshake loaded it, handed to the hub by join
	room   *hub.Room    // the room's live settings and connections; set by join
	ctx    context.Context
	stop   context.CancelFunc

	nc net.Conn   // set by start
	wr *rawWriter // nc's, for the write pool; nil: write on goroutines
	rd reader     // how bytes are read; set by start

	lastRead atomic.Int64 // monotonic nanoseconds (since epoch) of the last bytes read

	mu       sync.Mutex
	queue    [][]byte
	inflight int    // frames taken by the writer, not yet written
	writing  bool   // the writer role is held: queued in the write pool, or a writer goroutine runs
	ping     bool   // the writer should send a ping
	pong     []byte // payload of a pong the writer should send

	state     closeState
	reason    hub.CloseReason // why the connection is closing; 0 while open
	closeCode int             // the close frame to send, from stateClosing on

	pingTimer   *time.Timer // sends pings and drops a silent peer
	expiryTimer *time.Timer // ends the session at the token's SessionExpiry
	graceTimer  *time.Timer // ends a clean close the client does not answer

	wdl time.Time // the write deadline set; writer-only (one at a time)

	// Reader-only state: one reader at a time.
	fp        frameParser
	rateStart time.Time
	rateCount int
}

// epoch is the origin of conn.lastRead: time.Since(epoch) is monotonic.
var epoch = time.Now()

func newConn(s *Server, tok *parley.ChatToken, room *parley.Room, ip string) *conn {
	c := &conn{srv: s, id: parley.NewID(), token: tok, ip: ip, loaded: room}
	c.ctx, c.stop = context.WithCancel(context.Background())
	limit := int64(s.maxFrameSize())
	c.fp.softLimit, c.fp.hardLimit = limit, max(1<<20, 4*limit)
	return c
}

// UserID implements hub.Conn.
func (c *conn) UserID() string { return c.token.UserID }

// Enqueue implements hub.Conn: false when the queue is full. Frames that
// arrive after the connection started closing are dropped.
func (c *conn) Enqueue(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return true
	}
	if len(c.queue)+c.inflight >= orDefault(c.srv.QueueSize, defaultQueueSize) {
		return false
	}
	if c.queue == nil {
		c.queue = getQueue()
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

// Close implements hub.Conn, as closeReasons says: a dropped connection
// ends at once (its client reconnects); any other queues its last frame,
// if any, and a close frame 1000 behind what is already queued, so the
// client sees a clean close.
func (c *conn) Close(reason hub.CloseReason) {
	spec := closeReasons[reason]
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.reason = reason
	if spec.drop {
		ended := c.endLocked()
		c.mu.Unlock()
		c.srv.logger().Info("closing slow consumer", "conn", c.id, "room", c.token.RoomID, "user", c.token.UserID)
		if ended {
			c.release()
		}
		return
	}
	if spec.last != nil {
		f, code := errorFrame("", spec.last)
		c.queue = append(c.queue, f)
		c.srv.metrics.errors.WithLabelValues(codeLabel(code)).Inc()
	}
	c.state, c.closeCode = stateClosing, closeNormal
	c.startWriterLocked()
	c.mu.Unlock()
}

func (c *conn) startWriterLocked() {
	if c.writing || c.state == stateDone || c.nc == nil {
		return
	}
	c.writing = true
	c.srv.wg.Add(1)
	if c.wr != nil {
		getWritePool().push(c)
		return
	}
	go c.writeLoop()
}

// writeLoop writes everything queued, in batches, and exits when the queue
// is empty.
func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	// Let the goroutine that woke us queue more first: when a room is busy,
	// each write then carries more frames, and a write system call costs
	// the same whatever it carries.
	runtime.Gosched()
	var spare [][]byte
	for {
		b, ok := c.takeBatch(spare)
		if !ok {
			return
		}
		err := writeBatch(c.nc, &b, c.writeDeadline())
		if err != nil {
			c.finish()
			return
		}
		c.srv.metrics.countDelivered(b.frames)
		if b.closeCode != 0 {
			c.closeWritten(b.hangup)
		}
		clear(b.frames)
		spare = b.frames
	}
}

// writeDeadline returns the deadline to set before a write, or zero to
// keep the one set: it is moved only when less than half of writeTimeout
// is left, which saves a timer update on most writes. A write is thus
// bounded by between writeTimeout/2 and writeTimeout.
func (c *conn) writeDeadline() time.Time {
	now := time.Now()
	if c.wdl.Sub(now) > writeTimeout/2 {
		return time.Time{}
	}
	c.wdl = now.Add(writeTimeout)
	return c.wdl
}

// takeBatch takes what is queued, leaving spare (the previous batch's
// slice, cleared) as the queue; false when there is nothing to write.
func (c *conn) takeBatch(spare [][]byte) (batch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight = 0
	if c.state == stateCloseSent { // nothing may follow a close frame
		clear(c.queue)
		c.queue, c.ping, c.pong = c.queue[:0], false, nil
	}
	closing := c.state == stateClosing || c.state == stateHangingUp
	if c.state == stateDone || (len(c.queue) == 0 && !c.ping && c.pong == nil && !closing) {
		// An idle connection keeps no queue: both slices go back to the pool.
		putQueue(spare)
		putQueue(c.queue)
		c.queue, c.writing = nil, false
		return batch{}, false
	}
	b := batch{frames: c.queue, ping: c.ping, pong: c.pong}
	c.queue, c.ping, c.pong = spare[:0], false, nil
	if closing {
		b.closeCode, b.closeText = c.closeCode, closeReasons[c.reason].text
		b.hangup = c.state == stateHangingUp
		c.state = stateCloseSent
	}
	c.inflight = len(b.frames)
	return b, true
}

// queueCap is the capacity of a pooled send queue.
const queueCap = 32

// queuePool holds the arrays behind send queues, which only connections
// with frames to write hold. It holds array pointers, which a slice turns
// back into without allocating, so a queue goes round without garbage.
var queuePool = sync.Pool{New: func() any { return new([queueCap][]byte) }}

// getQueue returns an empty queue slice.
func getQueue() [][]byte { return queuePool.Get().(*[queueCap][]byte)[:0] }

// putQueue recycles q, whose elements must be cleared, unless it is nil or
// outgrew its array in a burst (the larger array is left to the collector).
func putQueue(q [][]byte) {
	if cap(q) == queueCap {
		queuePool.Put((*[queueCap][]byte)(q[:queueCap]))
	}
}

// closeWritten runs once the close frame is written: the connection is
// dropped at once when hangup says so (the client closed first or broke
// the protocol), and otherwise after the client's close frame or
// closeGrace.
func (c *conn) closeWritten(hangup bool) {
	c.mu.Lock()
	hangup = hangup || c.state == stateDone
	if !hangup {
		c.graceTimer = time.AfterFunc(closeGrace, c.finish)
	}
	c.mu.Unlock()
	if hangup {
		c.finish()
	}
}

// refreshTimeout bounds join's read of the room.
const refreshTimeout = 10 * time.Second

// join adds the connection to its room before the handshake completes, so
// that it misses nothing published once the client sees it open. While the
// hub has not read the room since subscribing it, the room is read again:
// an UpdateRoom or DeleteRoom since the handshake loaded it was published
// to no one here. A room deleted by then is ResourceNotFoundException.
// The read outlives the client's request (its result serves every
// connection of the room) but not refreshTimeout.
func (c *conn) join(ctx context.Context) error {
	r, refresh, err := c.srv.hub.Join(c.loaded, c)
	if err != nil {
		return err
	}
	c.room = r
	if !refresh {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	room, err := c.srv.Store.FindRoom(ctx, c.loaded.ID)
	switch {
	case parley.ErrorCodeOf(err) == parley.ResourceNotFoundException:
		r.Refresh(nil)
		return err
	case err != nil:
		return err
	}
	r.Refresh(room)
	return nil
}

// start serves the upgraded connection nc; rest is what the client sent
// after its handshake. It returns at once: the connection's bytes are read
// when they arrive.
func (c *conn) start(nc net.Conn, rest []byte) {
	s := c.srv
	ping := orDefault(s.PingInterval, defaultPingInterval)
	c.lastRead.Store(int64(time.Since(epoch)))
	wr := newRawWriter(nc)
	c.mu.Lock()
	if c.state == stateDone { // dropped during the handshake
		c.mu.Unlock()
		nc.Close()
		return
	}
	c.nc, c.wr = nc, wr
	if len(c.queue) > 0 || c.state != stateOpen { // queued during the handshake
		c.startWriterLocked()
	}
	c.pingTimer = time.AfterFunc(ping, func() { c.onPing(ping) })
	c.expiryTimer = time.AfterFunc(c.token.SessionExpiry.Sub(s.now()), func() { c.Close(closeSessionExpired) })
	c.mu.Unlock()
	if len(rest) > 0 && !c.onData(rest) {
		return
	}
	startReader(c)
}

// setReader records how c is read; false if c has finished meanwhile.
func (c *conn) setReader(r reader) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rd = r
	return c.state != stateDone
}

// onPing drops a peer that has sent nothing for two intervals, or asks the
// writer for a ping and rearms itself.
func (c *conn) onPing(every time.Duration) {
	if time.Since(epoch)-time.Duration(c.lastRead.Load()) > 2*every {
		c.finish()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateDone {
		return
	}
	c.ping = true
	c.startWriterLocked()
	c.pingTimer.Reset(every)
}

// finish ends the connection at once; it may be called more than once and
// from anywhere but under c.mu.
func (c *conn) finish() {
	c.mu.Lock()
	ended := c.endLocked()
	c.mu.Unlock()
	if ended {
		c.release()
	}
}

// endLocked moves the connection to stateDone, dropping what is queued and
// stopping its timers; false when it was done already. The caller must
// then call release, without c.mu.
func (c *conn) endLocked() bool {
	if c.state == stateDone {
		return false
	}
	c.state = stateDone
	c.queue = nil
	for _, t := range []*time.Timer{c.pingTimer, c.expiryTimer, c.graceTimer} {
		if t != nil {
			t.Stop()
		}
	}
	return true
}

// release frees what an ended connection holds: its requests' context,
// its place in the room, its reader, its socket, its count in the server.
// nc and rd are read after stateDone: start and setReader set them only
// before it.
func (c *conn) release() {
	c.mu.Lock()
	nc, rd := c.nc, c.rd
	c.mu.Unlock()
	c.stop()
	if c.room != nil {
		c.srv.hub.Leave(c.room, c)
	}
	if rd != nil {
		rd.stop()
	}
	if nc != nil {
		nc.Close()
	}
	c.srv.untrack(c)
}

// fail answers a request with an ERROR frame.
func (c *conn) fail(requestID string, err error) {
	if c.ctx.Err() != nil {
		return // the connection ended while the request was handled
	}
	f, code := errorFrame(requestID, err)
	if code == 500 {
		c.srv.logger().Error("messaging request", "conn", c.id, "room", c.token.RoomID, "requestId", requestID, "err", err)
	}
	c.srv.metrics.errors.WithLabelValues(codeLabel(code)).Inc()
	c.send(f)
}
