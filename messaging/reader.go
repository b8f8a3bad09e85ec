package messaging

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleychat/parley"
)

// reader delivers a connection's bytes to conn.onData, one chunk at a time,
// until the connection finishes; stop is called by finish.
type reader interface {
	stop()
}

// readBufferSize is the size of the buffers bytes are read into. They are
// borrowed from readPool for one read, so an idle connection holds none.
const readBufferSize = 16 << 10

var readPool = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// pollDisabled makes startReader use the goroutine reader (for tests).
var pollDisabled atomic.Bool

// goroutineReader is the portable reader: a goroutine blocked in Read.
type goroutineReader struct{}

func (goroutineReader) stop() {} // finish closes the connection: Read fails

// startGoroutineReader reads c on a goroutine of its own.
func startGoroutineReader(c *conn) {
	if c.setReader(goroutineReader{}) {
		go c.readLoop()
	}
}

func (c *conn) readLoop() {
	buf := make([]byte, 2048)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.lastRead.Store(int64(time.Since(epoch)))
			if !c.onData(buf[:n]) {
				return
			}
		}
		if err != nil {
			c.finish()
			return
		}
	}
}

// onData parses bytes read from the client and acts on them; false when
// nothing more is to be read.
func (c *conn) onData(b []byte) bool {
	err := c.fp.feed(b, c)
	var pe *protocolError
	if errors.As(err, &pe) {
		c.failConnection(pe.code)
		return false
	}
	return !c.fp.closed
}

// failConnection sends a close frame with code and drops the connection.
func (c *conn) failConnection(code int) {
	c.mu.Lock()
	if c.state == stateCloseSent || c.state == stateDone {
		c.mu.Unlock()
		c.finish()
		return
	}
	c.reason, c.queue, c.closeCode, c.state = closeProtocol, nil, code, stateHangingUp
	c.startWriterLocked()
	c.mu.Unlock()
}

// message implements frameSink.
func (c *conn) message(text bool, payload []byte) {
	if !text {
		c.fail("", parley.Errorf(parley.ValidationException, "binary frames are not supported: send JSON text frames"))
		return
	}
	c.handle(payload)
}

// tooLarge implements frameSink.
func (c *conn) tooLarge() {
	c.fail("", parley.Errorf(parley.PayloadTooLarge, "frame larger than %d bytes", c.srv.maxFrameSize()))
}

// pingFrame implements frameSink: the writer answers with a pong.
func (c *conn) pingFrame(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pong = append(make([]byte, 0, len(payload)), payload...)
	c.startWriterLocked()
}

// pongFrame implements frameSink; any bytes read show the peer alive.
func (c *conn) pongFrame() {}

// closed implements frameSink: the client closes. Its close frame is echoed
// unless ours was sent, and the connection is dropped.
func (c *conn) closed(code int) {
	c.mu.Lock()
	if c.state == stateCloseSent || c.state == stateDone {
		c.mu.Unlock()
		c.finish()
		return
	}
	if c.state == stateOpen {
		c.reason, c.queue, c.closeCode = closeByPeer, nil, code
	}
	c.state = stateHangingUp
	c.startWriterLocked()
	c.mu.Unlock()
}
