package messaging

import (
	"net"
	"net/http"
	"net/http/httptest"
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

// TestWriteBatchCoalesces checks that a batch of frames, a ping and a close
// frame leave in one write, and that the client reads them all.
func TestWriteBatchCoalesces(t *testing.T) {
	got := make(chan *countingConn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr, err := upgrade(w, r, "tok", 1<<20)
		if err != nil {
			t.Error(err)
			return
		}
		gt := tr.(*gorillaTransport)
		cc := &countingConn{Conn: gt.bc.Conn}
		gt.bc.Conn = cc
		frames := [][]byte{[]byte(`{"n":1}`), []byte(`{"n":2}`), []byte(strings.Repeat("x", 10000))}
		if err := tr.WriteBatch(frames, true, websocket.CloseNormalClosure, "bye", time.Now().Add(time.Second)); err != nil {
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
	pinged := false
	ws.SetPingHandler(func(string) error { pinged = true; return nil })
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
	if len(sizes) != 3 || sizes[2] != 10000 || !pinged {
		t.Fatalf("read frames of sizes %v, ping=%v; want 3 frames and a ping", sizes, pinged)
	}
	if n := (<-got).writes.Load(); n != 1 {
		t.Fatalf("batch took %d writes, want 1", n)
	}
}
