package messaging

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// clientFrame builds a masked client frame; header bits beyond FIN and the
// opcode come from extra (RSV bits), and unmasked leaves the mask bit off.
func clientFrame(fin bool, op byte, payload []byte, opts ...string) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	masked := true
	for _, o := range opts {
		switch o {
		case "rsv1":
			b0 |= 0x40
		case "unmasked":
			masked = false
		}
	}
	b := []byte{b0}
	var mbit byte
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mbit|byte(n))
	case n <= 0xffff:
		b = append(b, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// lengthOnly is a masked frame header that declares n payload bytes.
func lengthOnly(op byte, n uint64) []byte {
	b := []byte{0x80 | op, 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, n)
	return append(b, 1, 2, 3, 4)
}

// recorder is a frameSink that writes down what it is given.
type recorder struct{ got []string }

func (r *recorder) message(text bool, p []byte) {
	kind := "binary"
	if text {
		kind = "text"
	}
	r.got = append(r.got, kind+":"+string(p))
}
func (r *recorder) tooLarge()          { r.got = append(r.got, "tooLarge") }
func (r *recorder) pingFrame(p []byte) { r.got = append(r.got, "ping:"+string(p)) }
func (r *recorder) pongFrame()         { r.got = append(r.got, "pong") }
func (r *recorder) closed(code int)    { r.got = append(r.got, fmt.Sprint("close:", code)) }

// parseChunks feeds data to a fresh parser in chunks of size n (all at
// once when n is 0) and returns what it found, ending with "err:CODE" when
// feed failed.
func parseChunks(data []byte, n int, soft, hard int64) []string {
	data = append([]byte(nil), data...) // feed unmasks in place
	p := &frameParser{softLimit: soft, hardLimit: hard}
	r := &recorder{}
	if n == 0 {
		n = len(data) + 1
	}
	for len(data) > 0 {
		k := min(n, len(data))
		err := p.feed(data[:k], r)
		data = data[k:]
		var pe *protocolError
		if errors.As(err, &pe) {
			r.got = append(r.got, fmt.Sprint("err:", pe.code))
			break
		} else if err != nil {
			r.got = append(r.got, "err:"+err.Error())
			break
		}
	}
	return r.got
}

func cat(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

func TestFrameParser(t *testing.T) {
	big := strings.Repeat("é", 20000) // 40,000 bytes: 64-bit length
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"Text", clientFrame(true, opText, []byte(`{"a":1}`)), []string{`text:{"a":1}`}},
		{"Empty", clientFrame(true, opText, nil), []string{"text:"}},
		{"Binary", clientFrame(true, opBinary, []byte{0, 1}), []string{"binary:\x00\x01"}},
		{"Medium", clientFrame(true, opText, []byte(strings.Repeat("m", 300))), []string{"text:" + strings.Repeat("m", 300)}},
		{"Long", clientFrame(true, opText, []byte(big)), []string{"text:" + big}},
		{"Fragmented", cat(
			clientFrame(false, opText, []byte("he")),
			clientFrame(true, opPing, []byte("p1")),
			clientFrame(false, opContinuation, nil),
			clientFrame(true, opPong, []byte("x")),
			clientFrame(true, opContinuation, []byte("llo")),
		), []string{"ping:p1", "pong", "text:hello"}},
		{"TwoMessages", cat(clientFrame(true, opText, []byte("a")), clientFrame(true, opText, []byte("b"))), []string{"text:a", "text:b"}},
		{"TooLargeThenNext", cat(
			clientFrame(false, opText, []byte(strings.Repeat("x", 60))),
			clientFrame(true, opContinuation, []byte(strings.Repeat("x", 60))),
			clientFrame(true, opText, []byte("ok")),
		), []string{"tooLarge", "text:ok"}},
		{"TooLargeInvalidUTF8", clientFrame(true, opText, []byte(strings.Repeat("\xff", 101))), []string{"tooLarge"}},
		{"Close", cat(clientFrame(true, opClose, []byte{0x03, 0xe9, 'b', 'y', 'e'}), clientFrame(true, opText, []byte("ignored"))), []string{"close:1001"}},
		{"CloseEmpty", clientFrame(true, opClose, nil), []string{"close:1005"}},
		{"CloseApp", clientFrame(true, opClose, []byte{0x0f, 0xa0}), []string{"close:4000"}},
		{"ErrUnmasked", clientFrame(true, opText, []byte("a"), "unmasked"), []string{"err:1002"}},
		{"ErrRSV", clientFrame(true, opText, []byte("a"), "rsv1"), []string{"err:1002"}},
		{"ErrOpcode", clientFrame(true, 0x3, nil), []string{"err:1002"}},
		{"ErrControlOpcode", clientFrame(true, 0xB, nil), []string{"err:1002"}},
		{"ErrContinuationFirst", clientFrame(true, opContinuation, []byte("a")), []string{"err:1002"}},
		{"ErrTextInsideMessage", cat(clientFrame(false, opText, []byte("a")), clientFrame(true, opText, []byte("b"))), []string{"err:1002"}},
		{"ErrFragmentedPing", clientFrame(false, opPing, nil), []string{"err:1002"}},
		{"ErrLongPing", clientFrame(true, opPing, make([]byte, 126)), []string{"err:1002"}},
		{"ErrInvalidUTF8", clientFrame(true, opText, []byte("a\xffb")), []string{"err:1007"}},
		{"BinaryNotUTF8", clientFrame(true, opBinary, []byte("\xff")), []string{"binary:\xff"}},
		{"ErrCloseOneByte", clientFrame(true, opClose, []byte{3}), []string{"err:1002"}},
		{"ErrCloseCode", clientFrame(true, opClose, []byte{0x03, 0xed}), []string{"err:1002"}}, // 1005
		{"ErrCloseReasonUTF8", clientFrame(true, opClose, []byte{0x03, 0xe8, 0xff}), []string{"err:1007"}},
		{"ErrTooBig", lengthOnly(opText, 1001), []string{"err:1009"}},
		{"ErrTooBigFragments", cat(clientFrame(false, opText, make([]byte, 600)), lengthOnly(opContinuation, 600)), []string{"err:1009"}},
		{"ErrHugeLength", lengthOnly(opText, 1<<63), []string{"err:1002"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 3, 7, 13, 100} {
				got := parseChunks(tc.data, n, 100, 1000)
				if tc.name == "Long" || tc.name == "Medium" {
					got = parseChunks(tc.data, n, 1<<20, 1<<20)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Fatalf("chunks of %d: (-want +got)\n%s", n, diff)
				}
			}
		})
	}
}

// TestFrameParserNoCopy checks that a message that arrives whole is passed
// on in place, and that a split one leaves no buffer behind.
func TestFrameParserNoCopy(t *testing.T) {
	data := clientFrame(true, opText, []byte("hello"))
	p := &frameParser{softLimit: 100, hardLimit: 1000}
	var at *byte
	sink := &funcSink{msg: func(b []byte) { at = &b[0] }}
	if err := p.feed(data, sink); err != nil {
		t.Fatal(err)
	}
	if at != &data[len(data)-5] {
		t.Errorf("whole message was copied")
	}
	data = clientFrame(true, opText, []byte("hello"))
	if err := p.feed(data[:8], sink); err != nil {
		t.Fatal(err)
	}
	if err := p.feed(data[8:], sink); err != nil {
		t.Fatal(err)
	}
	if p.msg != nil || p.inMsg || p.inFrame || p.hdrN != 0 {
		t.Errorf("parser keeps state after a complete message: %+v", p)
	}
}

type funcSink struct{ msg func([]byte) }

func (s *funcSink) message(_ bool, p []byte) { s.msg(p) }
func (s *funcSink) tooLarge()                {}
func (s *funcSink) pingFrame([]byte)         {}
func (s *funcSink) pongFrame()               {}
func (s *funcSink) closed(int)               {}
