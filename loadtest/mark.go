package loadtest

import (
	"bytes"
	"strconv"
	"strings"
)

// A mark is what a sender embeds at the start of a message's Content:
//
//	~pb:<sender>:<seq>:<unix-nanoseconds>~
//
// followed by padding up to the payload size. Receivers find it with
// bytes.Index and parse it by hand, so no JSON is decoded per delivery. The
// characters need no JSON escaping.
var markPrefix = []byte("~pb:")

// appendMark appends a mark and padding so that the Content is size bytes
// long (or just the mark, if that is longer).
func appendMark(dst []byte, sender int, seq uint32, nanos int64, size int) []byte {
	start := len(dst)
	dst = append(dst, markPrefix...)
	dst = strconv.AppendInt(dst, int64(sender), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(seq), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, nanos, 10)
	dst = append(dst, '~')
	for len(dst)-start < size {
		dst = append(dst, 'x')
	}
	return dst
}

// findMark looks for a mark in a frame and parses it.
func findMark(frame []byte) (sender int, seq uint32, nanos int64, ok bool) {
	i := bytes.Index(frame, markPrefix)
	if i < 0 {
		return 0, 0, 0, false
	}
	b := frame[i+len(markPrefix):]
	s, b, ok1 := parseUint(b, ':')
	q, b, ok2 := parseUint(b, ':')
	n, _, ok3 := parseUint(b, '~')
	if !ok1 || !ok2 || !ok3 || s > 1<<30 || q > 1<<32-1 || n > 1<<62 {
		return 0, 0, 0, false
	}
	return int(s), uint32(q), int64(n), true
}

// parseUint parses decimal digits up to the byte end and returns the rest
// after it.
func parseUint(b []byte, end byte) (uint64, []byte, bool) {
	var v uint64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9' && i < 19:
			v = v*10 + uint64(c-'0')
		case c == end && i > 0:
			return v, b[i+1:], true
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}

// appendSend appends a SEND_MESSAGE request whose RequestId names the sender
// and sequence number, so that an ERROR frame can be matched to it.
func appendSend(dst []byte, sender int, seq uint32, nanos int64, size int) []byte {
	dst = append(dst, `{"Action":"SEND_MESSAGE","RequestId":"`...)
	dst = appendRequestID(dst, sender, seq)
	dst = append(dst, `","Content":"`...)
	dst = appendMark(dst, sender, seq, nanos, size)
	return append(dst, `"}`...)
}

func appendRequestID(dst []byte, sender int, seq uint32) []byte {
	dst = append(dst, "pb-"...)
	dst = strconv.AppendInt(dst, int64(sender), 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, uint64(seq), 10)
}

// parseRequestID is the inverse of appendRequestID.
func parseRequestID(id string) (sender int, seq uint32, ok bool) {
	rest, found := strings.CutPrefix(id, "pb-")
	if !found {
		return 0, 0, false
	}
	s, b, ok1 := parseUint([]byte(rest+"\x00"), '-')
	q, _, ok2 := parseUint(b, 0)
	if !ok1 || !ok2 || q > 1<<32-1 || s > 1<<30 {
		return 0, 0, false
	}
	return int(s), uint32(q), true
}
