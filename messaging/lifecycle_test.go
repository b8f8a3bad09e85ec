package messaging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/poll"
	"github.com/parleychat/parley/messaging"
	"github.com/parleychat/parley/ratelimit"
)

func TestDisconnectUser(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.connect(t, tokenOpts{user: "mod", caps: allCaps})
	bad1 := e.connect(t, tokenOpts{user: "bad"})
	bad2 := e.connect(t, tokenOpts{user: "bad"})
	other := e.connect(t, tokenOpts{user: "other"})
	mod.send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "k1", "UserId": "bad", "Reason": "Spam"})
	ev := mod.read()
	if ev.Type != parley.TypeEvent || ev.EventName != parley.EventDisconnectUser || ev.RequestID != "k1" {
		t.Fatalf("got %s", ev.Raw)
	}
	if diff := cmp.Diff(map[string]string{"UserId": "bad", "Reason": "Spam"}, ev.Attributes); diff != "" {
		t.Fatalf("Attributes (-want +got):\n%s", diff)
	}
	for _, c := range []*client{bad1, bad2} {
		if f := c.read(); f.Raw != ev.Raw {
			t.Fatalf("target got %s, want the event", f.Raw)
		}
		if code := c.readClose(); code != websocket.CloseNormalClosure {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	if f := other.read(); f.Raw != ev.Raw {
		t.Fatalf("other got %s", f.Raw)
	}
	mod.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "after", "Content": "still here"})
	for _, c := range []*client{mod, other} {
		if f := c.read(); f.RequestID != "after" {
			t.Fatalf("got %s, want the MESSAGE", f.Raw)
		}
	}
}

func TestRoomUpdatedAndDeleted(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t, tokenOpts{user: "u", caps: allCaps})
	upd := *e.room
	upd.MaximumMessageLength = 3
	upd.UpdateTime = upd.UpdateTime.Add(time.Second)
	upd.Version++
	if err := e.bus.Publish(context.Background(), &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: e.room.ID, Room: &upd}); err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "long", "Content": "four"})
	c.readError(400, "long")
	if err := e.bus.Publish(context.Background(), &parley.BusMessage{Kind: parley.RoomDeleted, RoomID: e.room.ID}); err != nil {
		t.Fatal(err)
	}
	c.readError(404, "")
	if code := c.readClose(); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t, tokenOpts{user: "u", session: time.Second})
	f, err := c.tryRead(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != parley.TypeError || f.ErrorCode != 401 {
		t.Fatalf("got %s, want ERROR 401", f.Raw)
	}
	if code := c.readClose(); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t, tokenOpts{user: "u"})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	c.readError(401, "")
	if code := c.readClose(); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want 1000", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if code, _ := e.dialStatus(t, e.token(t, tokenOpts{user: "late"})); code != 503 {
		t.Fatalf("dial after Shutdown: status %d, want 503", code)
	}
}

func TestKeepalive(t *testing.T) {
	e := newEnv(t, func(s *messaging.Server) { s.PingInterval = 250 * time.Millisecond })
	// A client that reads answers pings and stays.
	alive := e.connect(t, tokenOpts{user: "alive", caps: allCaps})
	frames := make(chan string, 1)
	go func() {
		for {
			_, b, err := alive.ws.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			frames <- string(b)
		}
	}()
	// A client that never reads never answers and is dropped.
	e.connect(t, tokenOpts{user: "dead"})
	poll.Until(t, "the dead peer to be dropped", func() bool {
		return e.metric(t, "parley_ws_connections", nil) == 1
	})
	alive.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "still", "Content": "here"})
	if f, ok := <-frames; !ok || !strings.Contains(f, `"RequestId":"still"`) {
		t.Fatalf("alive client: got %q, open=%v", f, ok)
	}
}

// TestConnectionMetrics: parley_ws_connections is one total by default and
// one series per room with PerRoomMetrics.
func TestConnectionMetrics(t *testing.T) {
	series := func(t *testing.T, e *env) map[string]float64 {
		t.Helper()
		mfs, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "parley_ws_connections" {
				continue
			}
			for _, m := range mf.GetMetric() {
				key := ""
				for _, lp := range m.GetLabel() {
					key += lp.GetName() + "=" + lp.GetValue()
				}
				got[key] = m.GetGauge().GetValue()
			}
		}
		return got
	}
	for _, perRoom := range []bool{false, true} {
		t.Run(fmt.Sprintf("PerRoom=%v", perRoom), func(t *testing.T) {
			e := newEnv(t, func(s *messaging.Server) { s.PerRoomMetrics = perRoom })
			other := e.createRoom(t, func(*parley.Room) {})
			e.connect(t, tokenOpts{user: "a"})
			e.connect(t, tokenOpts{user: "b"})
			e.connect(t, tokenOpts{room: other, user: "c"})
			want := map[string]float64{"": 3}
			if perRoom {
				want = map[string]float64{"room=" + e.room.ID: 2, "room=" + other.ID: 1}
			}
			if diff := cmp.Diff(want, series(t, e)); diff != "" {
				t.Fatalf("parley_ws_connections series (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	// A frozen clock: nothing refills during the test.
	now := time.Now()
	local := ratelimit.NewLocal()
	local.Now = func() time.Time { return now }
	lim := &recordingLimiter{Limiter: local, asked: map[string]int{}}
	e := newEnv(t, func(s *messaging.Server) {
		s.Limiter = lim
		s.ConnectionRate = 3
		s.Now = func() time.Time { return now }
	})
	t.Run("Connection", func(t *testing.T) {
		c := e.connect(t, tokenOpts{user: "u", caps: allCaps})
		for i := range 3 {
			c.send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": fmt.Sprint(i), "Id": "abcdefABCDEF"})
			c.read()
		}
		c.send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "over", "Id": "abcdefABCDEF"})
		c.readError(429, "over")
	})
	t.Run("Room", func(t *testing.T) {
		room := e.createRoom(t, func(r *parley.Room) { r.MaximumMessageRatePerSecond = 2 })
		a := e.connect(t, tokenOpts{room: room, user: "a", caps: allCaps})
		b := e.connect(t, tokenOpts{room: room, user: "b", caps: allCaps})
		for _, c := range []*client{a, b} {
			c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "m", "Content": "x"})
			a.read()
			b.read()
		}
		b.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "over", "Content": "x"})
		b.readError(429, "over")
		if diff := cmp.Diff(map[string]int{"room:" + room.ID: 2}, lim.limits()); diff != "" {
			t.Fatalf("limits asked (-want +got):\n%s", diff)
		}
	})
}

// recordingLimiter remembers the limit asked for each key.
type recordingLimiter struct {
	parley.Limiter
	mu    sync.Mutex
	asked map[string]int
}

func (l *recordingLimiter) Allow(key string, limit int) bool {
	l.mu.Lock()
	l.asked[key] = limit
	l.mu.Unlock()
	return l.Limiter.Allow(key, limit)
}

func (l *recordingLimiter) limits() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.asked)
}

// TestSlowConsumer: a client that never reads, with a small queue, is
// closed without delaying a client that reads.
func TestSlowConsumer(t *testing.T) {
	e := newEnv(t, func(s *messaging.Server) { s.QueueSize = 4 })
	d := websocket.Dialer{
		Subprotocols: []string{e.token(t, tokenOpts{user: "slow"})},
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(4096)
			}
			return c, err
		},
	}
	slow, _, err := d.Dial(e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast := e.connect(t, tokenOpts{user: "fast", caps: allCaps})
	content := strings.Repeat("😀", 500)
	start := time.Now()
	for i := 0; e.metric(t, "parley_ws_slow_consumer_closes_total", nil) == 0; i++ {
		if time.Since(start) > 8*time.Second {
			t.Fatalf("slow consumer not closed after %d messages", i)
		}
		rid := fmt.Sprint(i)
		fast.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": rid, "Content": content})
		if f := fast.read(); f.RequestID != rid {
			t.Fatalf("fast got %q, want %q", f.RequestID, rid)
		}
	}
	poll.Until(t, "one connection left", func() bool { return e.metric(t, "parley_ws_connections", nil) == 1 })
}

// TestFanOut: 1,000 connections in one room each receive every message of
// a burst exactly once, in each sender's order.
func TestFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	conns, senders, perSender := 1000, 5, 20
	if messaging.RaceEnabled {
		conns = 200
	}
	e := newEnv(t, nil)
	clients := make([]*client, conns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := tokenOpts{user: fmt.Sprint("user-", i)}
			if i < senders {
				o.caps = allCaps
			}
			clients[i] = e.connect(t, o)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for s := range senders {
		go func() {
			for m := range perSender {
				clients[s].send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": fmt.Sprintf("%d-%d", s, m), "Content": "burst"})
			}
		}()
	}
	errs := make(chan error, conns)
	for _, c := range clients {
		go func() { errs <- c.receiveBurst(senders, perSender) }()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// receiveBurst reads senders×perSender MESSAGE frames and checks that each
// sender's arrive once, in order.
func (c *client) receiveBurst(senders, perSender int) error {
	next := make([]int, senders)
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range senders * perSender {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		var s, m int
		fmt.Sscanf(f.RequestID, "%d-%d", &s, &m)
		if s >= senders || m != next[s] {
			return fmt.Errorf("got %s after message %d of sender %d", f.RequestID, next[s], s)
		}
		next[s]++
	}
	return nil
}
