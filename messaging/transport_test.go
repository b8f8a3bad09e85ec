package messaging

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// countingConn counts the Write calls that reach the network.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestWriteBatchCoalesces checks that a batch of frames of every length
// encoding, a pong, a ping and a close frame leave in one write, and that
// the client reads them all.
func TestWriteBatchCoalesces(t *testing.T) {
	got := make(chan *countingConn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, err := upgrade(w, r, "tok")
		if err != nil {
			t.Error(err)
			return
		}
		cc := &countingConn{Conn: nc}
		frames := [][]byte{[]byte(`{"n":1}`), []byte(`{"n":2}`), []byte(strings.Repeat("x", 10000)), []byte(strings.Repeat("y", 70000))}
		b := &batch{frames: frames, ping: true, pong: []byte("p"), closeCode: closeNormal, closeText: "bye"}
		if err := writeBatch(cc, b, time.Now().Add(time.Second)); err != nil {
			t.Error(err)
		}
		got <- cc
	}))
	defer hs.Close()
	d := websocket.Dialer{Subprotocols: []string{"tok"}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	pinged, ponged := false, false
	ws.SetPingHandler(func(string) error { pinged = true; return nil })
	ws.SetPongHandler(func(p string) error { ponged = p == "p"; return nil })
	var sizes []int
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("read: %v", err)
			}
			break
		}
		sizes = append(sizes, len(b))
	}
	if want := []int{7, 7, 10000, 70000}; !slices.Equal(sizes, want) || !pinged || !ponged {
		t.Fatalf("read frames of sizes %v, ping=%v, pong=%v; want %v, a ping and a pong", sizes, pinged, ponged, want)
	}
	if n := (<-got).writes.Load(); n != 1 {
		t.Fatalf("batch took %d writes, want 1", n)
	}
}
