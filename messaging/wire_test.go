package messaging_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/poll"
	"github.com/parleychat/parley/messaging"
)

// rawClient speaks WebSocket byte by byte, to send what a library would not.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialRaw performs the opening handshake by hand, sending extra right
// behind the request, in the same write.
func (e *env) dialRaw(t *testing.T, token string, extra []byte) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(e.url, "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: parley\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + token + "\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		resp.Header.Get("Sec-WebSocket-Protocol") != token {
		t.Fatalf("handshake answered %s %v", resp.Status, resp.Header)
	}
	return &rawClient{t: t, nc: nc, br: br}
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next frame.
func (c *rawClient) next() ws.Frame {
	c.t.Helper()
	f, err := ws.ReadFrame(c.br)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

// readJSON reads the next frame, which must be a text frame.
func (c *rawClient) readJSON() frame {
	c.t.Helper()
	f := c.next()
	if f.Header.OpCode != ws.OpText {
		c.t.Fatalf("got opcode %v, want text", f.Header.OpCode)
	}
	var fr frame
	if err := json.Unmarshal(f.Payload, &fr); err != nil {
		c.t.Fatal(err)
	}
	fr.Raw = string(f.Payload)
	return fr
}

// readClose expects a close frame with code, then the end of the stream.
func (c *rawClient) readClose(code int) {
	c.t.Helper()
	f := c.next()
	if f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 || int(binary.BigEndian.Uint16(f.Payload)) != code {
		c.t.Fatalf("got opcode %v payload %q, want close %d", f.Header.OpCode, f.Payload, code)
	}
	if _, err := c.br.ReadByte(); err == nil {
		c.t.Fatalf("the server kept the connection open after its close frame")
	}
}

func sendMessage(rid, content string) []byte {
	b, _ := json.Marshal(map[string]string{"Action": "SEND_MESSAGE", "RequestId": rid, "Content": content})
	return b
}

// readers runs f with each way of reading connections.
func readers(t *testing.T, f func(t *testing.T)) {
	for _, goroutine := range []bool{false, true} {
		name := map[bool]string{false: "Poller", true: "Goroutine"}[goroutine]
		t.Run(name, func(t *testing.T) {
			messaging.SetGoroutineReader(goroutine)
			defer messaging.SetGoroutineReader(false)
			f(t)
		})
	}
}

func TestWireFrames(t *testing.T) {
	readers(t, func(t *testing.T) {
		e := newEnv(t, nil)
		tok := func() string { return e.token(t, tokenOpts{user: "u", caps: allCaps}) }
		t.Run("PipelinedWithHandshake", func(t *testing.T) {
			c := e.dialRaw(t, tok(), messaging.ClientFrame(true, 0x1, sendMessage("early", "hi")))
			if f := c.readJSON(); f.RequestID != "early" || f.Type != parley.TypeMessage {
				t.Fatalf("got %s", f.Raw)
			}
		})
		t.Run("FragmentedWithPing", func(t *testing.T) {
			c := e.dialRaw(t, tok(), nil)
			msg := sendMessage("frag", "pieces")
			c.write(messaging.ClientFrame(false, 0x1, msg[:5]))
			c.write(messaging.ClientFrame(true, 0x9, []byte("p1")))
			c.write(messaging.ClientFrame(false, 0x0, msg[5:20]))
			last := messaging.ClientFrame(true, 0x0, msg[20:])
			for i := range last { // one byte at a time
				c.write(last[i : i+1])
			}
			if f := c.next(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "p1" {
				t.Fatalf("got opcode %v %q, want pong p1", f.Header.OpCode, f.Payload)
			}
			if f := c.readJSON(); f.RequestID != "frag" || f.Content != "pieces" {
				t.Fatalf("got %s", f.Raw)
			}
		})
		t.Run("OversizedFragments", func(t *testing.T) {
			c := e.dialRaw(t, tok(), nil)
			c.write(messaging.ClientFrame(false, 0x1, make([]byte, 9000)))
			c.write(messaging.ClientFrame(false, 0x0, make([]byte, 9000)))
			c.write(messaging.ClientFrame(true, 0x0, make([]byte, 9000)))
			if f := c.readJSON(); f.Type != parley.TypeError || f.ErrorCode != 413 {
				t.Fatalf("got %s, want ERROR 413", f.Raw)
			}
			c.write(messaging.ClientFrame(true, 0x1, sendMessage("after", "x")))
			if f := c.readJSON(); f.RequestID != "after" {
				t.Fatalf("got %s", f.Raw)
			}
		})
		t.Run("CloseEchoed", func(t *testing.T) {
			c := e.dialRaw(t, tok(), nil)
			c.write(messaging.ClientFrame(true, 0x8, []byte{0x03, 0xe9}))
			c.readClose(1001)
		})
	})
}

func TestWireProtocolErrors(t *testing.T) {
	readers(t, func(t *testing.T) {
		e := newEnv(t, nil)
		for _, tc := range []struct {
			name string
			data []byte
			code int
		}{
			{"Unmasked", messaging.ClientFrame(true, 0x1, []byte("{}"), "unmasked"), 1002},
			{"ReservedOpcode", messaging.ClientFrame(true, 0x3, nil), 1002},
			{"InvalidUTF8", messaging.ClientFrame(true, 0x1, []byte("\"\xff\"")), 1007},
			{"TooBig", messaging.LengthOnly(0x1, 2<<20), 1009},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := e.dialRaw(t, e.token(t, tokenOpts{user: "u"}), nil)
				c.write(tc.data)
				c.readClose(tc.code)
			})
		}
		poll.Until(t, "every connection to end", func() bool { return e.metric(t, "parley_ws_connections", nil) == 0 })
	})
}

// TestIdleConnectionsHoldNoGoroutine: with the poller, an open connection
// that sends nothing has no goroutine.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is Linux-only")
	}
	e := newEnv(t, nil)
	e.connect(t, tokenOpts{user: "warm-up"})
	before := runtime.NumGoroutine()
	const n = 100
	for i := range n {
		e.connect(t, tokenOpts{user: fmt.Sprint("idle-", i)})
	}
	poll.Until(t, "the handshake goroutines to end", func() bool { return runtime.NumGoroutine() < before+n/10 })
	if got := e.metric(t, "parley_ws_connections", nil); got != n+1 {
		t.Fatalf("%v connections, want %d", got, n+1)
	}
}
