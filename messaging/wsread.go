package messaging

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close codes (RFC 6455 §7.4.1).
const (
	closeNormal          = 1000
	closeProtocolError   = 1002
	closeNoStatus        = 1005
	closeInvalidPayload  = 1007
	closeMessageTooBig   = 1009
	maxHeaderSize        = 14
	maxControlPayloadLen = 125
)

// protocolError fails the connection: the server sends a close frame with
// code and drops the connection.
type protocolError struct {
	code int
	text string
}

func (e *protocolError) Error() string { return fmt.Sprintf("websocket %d: %s", e.code, e.text) }

func protocolErrorf(code int, format string, args ...any) error {
	return &protocolError{code: code, text: fmt.Sprintf(format, args...)}
}

// frameSink receives what a frameParser finds. Payloads are unmasked and
// valid only during the call.
type frameSink interface {
	// message is a complete data message of at most the soft limit.
	message(text bool, payload []byte)
	// tooLarge reports a data message over the soft limit, discarded as it
	// was read.
	tooLarge()
	// pingFrame and pongFrame are control frames.
	pingFrame(payload []byte)
	pongFrame()
	// closed is the peer's close frame, with its status code
	// (closeNoStatus when it carried none). Nothing after it is parsed.
	closed(code int)
}

// frameParser parses the frames a client sends (RFC 6455 §5), fed in
// chunks as they arrive. It keeps only the bytes of a partial header,
// control frame or data message between chunks; a message or frame that
// arrives whole in one chunk is unmasked in place and passed on without a
// copy.
//
// Messages are assembled from fragments; control frames may come between
// them. A data message larger than softLimit is discarded as it arrives
// and reported with tooLarge; one larger than hardLimit fails the
// connection with 1009. Text messages must be valid UTF-8 (1007).
type frameParser struct {
	softLimit, hardLimit int64

	hdr  [maxHeaderSize]byte
	hdrN int // bytes of a partial header in hdr

	// The frame being read, when inFrame.
	inFrame bool
	fin     bool
	op      byte
	mask    [4]byte
	flen    int64 // payload length
	remain  int64 // payload bytes still to come

	// The data message being assembled, when inMsg.
	inMsg   bool
	msgText bool
	msgLen  int64 // payload bytes declared so far
	discard bool  // over softLimit: bytes are dropped
	msg     []byte

	ctl    []byte // a control frame's payload split over chunks
	closed bool   // a close frame was parsed: ignore the rest
}

// feed parses b, which it may modify (payloads are unmasked in place).
// After a close frame, or once it has returned an error, feed ignores what
// follows.
func (p *frameParser) feed(b []byte, s frameSink) error {
	for len(b) > 0 && !p.closed {
		if !p.inFrame {
			n, err := p.readHeader(b)
			if err != nil {
				p.closed = true
				return err
			}
			b = b[n:]
			if !p.inFrame {
				return nil // partial header kept
			}
			if p.remain > 0 {
				continue
			}
			// An empty payload: the frame is complete.
		}
		n := int(min(int64(len(b)), p.remain))
		chunk := b[:n]
		b = b[n:]
		ws.Cipher(chunk, p.mask, int((p.flen-p.remain)%4))
		p.remain -= int64(n)
		if err := p.payload(chunk, s); err != nil {
			p.closed = true
			return err
		}
	}
	return nil
}

// readHeader consumes header bytes from b and starts the frame once the
// header is whole. It returns the bytes consumed.
func (p *frameParser) readHeader(b []byte) (int, error) {
	if p.hdrN == 0 {
		n, err := p.parseHeader(b)
		if err != nil || n > 0 {
			return n, err
		}
		p.hdrN = copy(p.hdr[:], b) // shorter than a header
		return len(b), nil
	}
	prev := p.hdrN
	take := copy(p.hdr[prev:], b)
	n, err := p.parseHeader(p.hdr[:prev+take])
	if err != nil {
		return 0, err
	}
	if n == 0 {
		p.hdrN += take
		return take, nil
	}
	p.hdrN = 0
	return n - prev, nil
}

// parseHeader parses a frame header at the start of b and starts the frame.
// It returns 0 when b holds only part of the header.
func (p *frameParser) parseHeader(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	if b[0]&0x70 != 0 {
		return 0, protocolErrorf(closeProtocolError, "reserved bits set without an extension")
	}
	if b[1]&0x80 == 0 {
		return 0, protocolErrorf(closeProtocolError, "client frames must be masked")
	}
	n, length := 2, int64(b[1]&0x7f)
	switch length {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, length = 4, int64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		l := binary.BigEndian.Uint64(b[2:])
		if l>>63 != 0 {
			return 0, protocolErrorf(closeProtocolError, "payload length over 2^63")
		}
		n, length = 10, int64(l)
	}
	if len(b) < n+4 {
		return 0, nil
	}
	fin, op := b[0]&0x80 != 0, b[0]&0x0f
	if err := p.checkFrame(fin, op, length); err != nil {
		return 0, err
	}
	p.inFrame, p.fin, p.op, p.flen, p.remain = true, fin, op, length, length
	copy(p.mask[:], b[n:n+4])
	p.startFrame()
	return n + 4, nil
}

// checkFrame applies RFC 6455's rules to a frame header, and the size limit.
func (p *frameParser) checkFrame(fin bool, op byte, length int64) error {
	switch op {
	case opClose, opPing, opPong:
		if !fin || length > maxControlPayloadLen {
			return protocolErrorf(closeProtocolError, "fragmented or oversized control frame")
		}
		return nil
	case opText, opBinary:
		if p.inMsg {
			return protocolErrorf(closeProtocolError, "new message inside a fragmented one")
		}
	case opContinuation:
		if !p.inMsg {
			return protocolErrorf(closeProtocolError, "continuation frame without a message")
		}
	default:
		return protocolErrorf(closeProtocolError, "unknown opcode %d", op)
	}
	if length > p.hardLimit-p.msgLen {
		return protocolErrorf(closeMessageTooBig, "message larger than %d bytes", p.hardLimit)
	}
	return nil
}

// startFrame updates the message state for a new data frame.
func (p *frameParser) startFrame() {
	if p.op&0x8 != 0 {
		p.ctl = p.ctl[:0]
		return
	}
	if p.op != opContinuation {
		p.inMsg, p.msgText, p.msgLen, p.discard = true, p.op == opText, 0, false
	}
	p.msgLen += p.flen
	if p.msgLen > p.softLimit {
		p.discard, p.msg = true, nil
	}
}

// payload takes the next unmasked bytes of the current frame, and ends the
// frame when they are its last.
func (p *frameParser) payload(chunk []byte, s frameSink) error {
	whole := p.remain == 0 && int64(len(chunk)) == p.flen
	if p.op&0x8 != 0 {
		if !whole {
			p.ctl = append(p.ctl, chunk...)
			chunk = p.ctl
		}
		if p.remain > 0 {
			return nil
		}
		p.inFrame = false
		return p.control(chunk, s)
	}
	switch {
	case p.discard:
	case whole && p.fin && len(p.msg) == 0:
		// The whole message is in chunk: no copy.
	default:
		p.msg = append(p.msg, chunk...)
		chunk = p.msg
	}
	if p.remain > 0 {
		return nil
	}
	p.inFrame = false
	if !p.fin {
		return nil
	}
	return p.endMessage(chunk, s)
}

// endMessage passes on a complete data message and forgets it.
func (p *frameParser) endMessage(payload []byte, s frameSink) error {
	text, discard := p.msgText, p.discard
	p.inMsg, p.msgLen, p.discard, p.msg = false, 0, false, nil
	if discard {
		s.tooLarge()
		return nil
	}
	if text && !utf8.Valid(payload) {
		return protocolErrorf(closeInvalidPayload, "text message is not valid UTF-8")
	}
	s.message(text, payload)
	return nil
}

// control passes on a complete control frame.
func (p *frameParser) control(payload []byte, s frameSink) error {
	switch p.op {
	case opPing:
		s.pingFrame(payload)
	case opPong:
		s.pongFrame()
	default:
		code, err := closeCode(payload)
		if err != nil {
			return err
		}
		p.closed = true
		s.closed(code)
	}
	return nil
}

// closeCode checks a close frame's payload (RFC 6455 §5.5.1, §7.4) and
// returns its status code.
func closeCode(payload []byte) (int, error) {
	switch {
	case len(payload) == 0:
		return closeNoStatus, nil
	case len(payload) == 1:
		return 0, protocolErrorf(closeProtocolError, "close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(payload))
	if !validCloseCode(code) {
		return 0, protocolErrorf(closeProtocolError, "invalid close code %d", code)
	}
	if !utf8.Valid(payload[2:]) {
		return 0, protocolErrorf(closeInvalidPayload, "close reason is not valid UTF-8")
	}
	return code, nil
}

// validCloseCode reports whether a peer may send code (RFC 6455 §7.4.1 and
// the IANA registry): the defined codes that may be sent, and 3000–4999.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
