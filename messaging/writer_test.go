package messaging

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/poll"
)

// poolConn returns a connection of s that writes through the write pool
// to a loopback TCP socket, and the client end of that socket.
func poolConn(t testing.TB, s *Server) (*conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	s.init()
	c := newConn(s, &parley.ChatToken{RoomID: "r", UserID: "u"}, &parley.Room{ID: "r"}, "127.0.0.1")
	if !s.track(c) {
		t.Fatal("server draining")
	}
	c.nc, c.wr = nc, newRawWriter(nc)
	return c, client
}

// TestWritePoolBlockedSocket queues more than the socket takes on a
// connection whose client does not read yet: the write pool must hand the
// rest to a blocking write with a deadline, and the client must then read
// every frame once, in order, after which the writer role is released.
func TestWritePoolBlockedSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the write pool is Linux-only")
	}
	c, client := poolConn(t, &Server{QueueSize: 1000})
	client.(*net.TCPConn).SetReadBuffer(1 << 16)
	c.nc.(*net.TCPConn).SetWriteBuffer(1 << 16)
	const n, size = 400, 8000 // 3.2 MB: far more than both socket buffers
	for i := range n {
		f := fmt.Appendf(nil, "%06d%s", i, strings.Repeat("x", size-6))
		if !c.Enqueue(f) {
			t.Fatalf("queue full at frame %d", i)
		}
	}
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	hdr := make([]byte, 4)
	payload := make([]byte, size)
	for i := range n {
		if _, err := io.ReadFull(client, hdr); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if hdr[0] != 0x80|opText || hdr[1] != 126 || int(hdr[2])<<8|int(hdr[3]) != size {
			t.Fatalf("frame %d: header % x", i, hdr)
		}
		if _, err := io.ReadFull(client, payload); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if want := fmt.Sprintf("%06d", i); string(payload[:6]) != want {
			t.Fatalf("frame %d: got %q first", i, payload[:6])
		}
	}
	poll.Until(t, "the writer role to be released", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.writing
	})
	if c.wdl.IsZero() {
		t.Fatal("no write was handed to a blocking write with a deadline")
	}
}

// TestWritePoolAllocs: delivering a queued frame through the write pool
// (enqueue, a worker's write system call, the writer role released)
// allocates nothing per recipient.
func TestWritePoolAllocs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the write pool is Linux-only")
	}
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	c, client := poolConn(t, &Server{})
	frame := []byte(`{"Type":"MESSAGE","Id":"abcdefghijkl","Content":"hello"}`)
	got := make([]byte, 2+len(frame))
	deliver := func() {
		if !c.Enqueue(frame) {
			t.Fatal("queue full")
		}
		if _, err := io.ReadFull(client, got); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 { // warm the pools
		deliver()
	}
	// AllocsPerRun counts the whole process's allocations, so leave room
	// for stray ones (timers of connections other tests left closing); one
	// allocation per delivery would count 1.
	if n := testing.AllocsPerRun(1000, deliver); n >= 0.5 {
		t.Fatalf("%.2f allocations per delivered frame, want 0", n)
	}
	if string(got[2:]) != string(frame) {
		t.Fatalf("client got %q", got)
	}
}

// BenchmarkWritePool delivers one frame at a time through the write pool
// to a loopback socket and reads it back: the per-recipient cost of a
// broadcast, system calls included.
func BenchmarkWritePool(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the write pool is Linux-only")
	}
	c, client := poolConn(b, &Server{})
	frame := []byte(`{"Type":"MESSAGE","Id":"abcdefghijkl","RequestId":"r","Attributes":null,"Content":"hello","SendTime":"2026-11-27T05:00:00.123456789Z","Sender":{"UserId":"u","Attributes":{}}}`)
	got := make([]byte, 4+len(frame)) // 126 to 65535 bytes: a 4-byte header
	b.ReportAllocs()
	b.SetBytes(int64(len(got)))
	for b.Loop() {
		if !c.Enqueue(frame) {
			b.Fatal("queue full")
		}
		if _, err := io.ReadFull(client, got); err != nil {
			b.Fatal(err)
		}
	}
}
