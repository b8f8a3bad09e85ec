package messaging

import (
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// The transport is hand-made on top of github.com/gobwas/ws, which does the
// opening handshake and the unmasking: after the handshake nothing of
// net/http stays (its goroutine and buffers are gone), frames from the
// client are parsed by frameParser from bytes read when the socket is
// readable (see reader_linux.go), and frames to the client are built here,
// all queued ones into one buffer written with one system call.

// handshakeTimeout bounds the writing of the 101 response.
const handshakeTimeout = 10 * time.Second

// upgrade completes the WebSocket handshake on the connection behind w,
// selecting protocol as the subprotocol. It returns the raw connection and
// the bytes the client sent after its request, if any. On failure the
// client has been answered.
func upgrade(w http.ResponseWriter, r *http.Request, protocol string) (net.Conn, []byte, error) {
	u := ws.HTTPUpgrader{
		Timeout:  handshakeTimeout,
		Protocol: func(p string) bool { return p == protocol },
	}
	nc, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, nil, err
	}
	var rest []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		rest = append([]byte(nil), b...)
	}
	return nc, rest, nil
}

// batchPool holds the buffers that a batch is assembled in, borrowed only
// while it is written.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBatch is the largest batch buffer kept for reuse.
const maxPooledBatch = 64 << 10

// batch is what one write sends: a pong if one is due (it answers a ping
// that was read before the frames were queued, often), the text frames,
// then optionally a ping and a close frame.
type batch struct {
	frames    [][]byte
	pong      []byte // payload of a pong to send; nil: none
	ping      bool
	closeCode int // 0: no close frame
	closeText string
	hangup    bool // drop the connection once the close frame is written
}

// writeBatch writes b to nc with one system call, first setting deadline
// unless it is zero.
func writeBatch(nc net.Conn, b *batch, deadline time.Time) error {
	bp := b.encode()
	err := writeBuf(nc, *bp, deadline)
	putBuf(bp)
	return err
}

// encode returns b's bytes in a buffer borrowed from batchPool; give it
// back with putBuf.
func (b *batch) encode() *[]byte {
	bp := batchPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if b.pong != nil {
		buf = appendFrame(buf, opPong, b.pong)
	}
	for _, f := range b.frames {
		buf = appendFrame(buf, opText, f)
	}
	if b.ping {
		buf = append(buf, 0x80|opPing, 0)
	}
	if b.closeCode != 0 {
		buf = appendClose(buf, b.closeCode, b.closeText)
	}
	*bp = buf
	return bp
}

// putBuf recycles a buffer from encode unless it grew large.
func putBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledBatch {
		*bp = (*bp)[:0]
		batchPool.Put(bp)
	}
}

// writeBuf writes buf to nc, first setting deadline unless it is zero.
func writeBuf(nc net.Conn, buf []byte, deadline time.Time) error {
	var err error
	if !deadline.IsZero() {
		err = nc.SetWriteDeadline(deadline)
	}
	if err == nil {
		_, err = nc.Write(buf)
	}
	return err
}

// appendFrame appends an unmasked, final frame of opcode op.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, 0x80|op, byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|op, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|op, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// appendClose appends a close frame; closeNoStatus sends an empty one.
func appendClose(b []byte, code int, text string) []byte {
	if code == closeNoStatus {
		return append(b, 0x80|opClose, 0)
	}
	if len(text) > maxControlPayloadLen-2 {
		text = text[:maxControlPayloadLen-2]
	}
	b = append(b, 0x80|opClose, byte(2+len(text)))
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, text...)
}
