package nats_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/bustest"
	"github.com/parleychat/parley/bus/nats"
)

// startServer runs a NATS server in the process on port (-1: any free
// port) until the test ends, and returns it with its client URL.
func startServer(t *testing.T, port int) (*server.Server, string) {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats server on port %d not ready", port)
	}
	t.Cleanup(s.Shutdown)
	return s, s.ClientURL()
}

func serverPort(t *testing.T, s *server.Server) int {
	t.Helper()
	return s.Addr().(*net.TCPAddr).Port
}

// open opens a Bus on url, closed when the test ends.
func open(t *testing.T, url string, configure func(*nats.Bus)) *nats.Bus {
	t.Helper()
	b := nats.New(url)
	b.Dispatchers = 2
	b.Logger = slog.New(slog.DiscardHandler)
	b.ReconnectWait = 50 * time.Millisecond
	if configure != nil {
		configure(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		<-tick.C
	}
}

func broadcast(room, frame string) *parley.BusMessage {
	return &parley.BusMessage{Kind: parley.Broadcast, RoomID: room, Frame: []byte(frame)}
}

// TestContract runs the Bus contract suite: each subtest has its own
// server, and each node is a Bus of its own on it.
func TestContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T) func() parley.Bus {
		_, url := startServer(t, -1)
		return func() parley.Bus { return open(t, url, nil) }
	})
}

func TestOpen(t *testing.T) {
	t.Run("ErrUnreachable", func(t *testing.T) {
		s, url := startServer(t, -1)
		s.Shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := nats.New(url).Open(ctx); err == nil {
			t.Fatal("Open of a stopped server: nil error")
		}
	})
	t.Run("Connected", func(t *testing.T) {
		_, url := startServer(t, -1)
		b := open(t, url, nil)
		if !b.Connected() {
			t.Fatal("Connected()=false after Open")
		}
		b.Close(context.Background())
		if b.Connected() {
			t.Fatal("Connected()=true after Close")
		}
	})
}

func TestErrInvalidRoomID(t *testing.T) {
	_, url := startServer(t, -1)
	b := open(t, url, nil)
	for _, id := range []string{"", "a.b", "a*", ">", "a b", "röom", string(make([]byte, 129))} {
		if _, err := b.Subscribe(id, func(*parley.BusMessage) {}); err == nil {
			t.Errorf("Subscribe(%q): nil error", id)
		}
		if err := b.Publish(context.Background(), broadcast(id, "x")); err == nil {
			t.Errorf("Publish to %q: nil error", id)
		}
	}
}

// TestMalformed: a message that is not the codec's, or that names another
// room than its subject, is dropped; later messages still arrive.
func TestMalformed(t *testing.T) {
	_, url := startServer(t, -1)
	b := open(t, url, nil)
	r := bustest.NewRecorder(t)
	if _, err := b.Subscribe("roomA", r.Fn); err != nil {
		t.Fatal(err)
	}
	raw, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	other, _ := broadcast("roomB", "misrouted").MarshalBinary()
	for _, data := range [][]byte{[]byte("garbage"), nil, other} {
		if err := raw.Publish("parley.room.roomA", data); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := broadcast("roomA", "good").MarshalBinary()
	raw.Publish("parley.room.roomA", good)
	raw.Flush()
	if got := bustest.Frames(r.Wait(t, 1)); len(got) != 1 || got[0] != "good" {
		t.Fatalf("got %q, want [good]", got)
	}
	// The valid message came last, so the others were handled before it.
	if n := len(r.Messages()); n != 1 {
		t.Fatalf("%d messages delivered, want 1", n)
	}
}

// TestCloseDrains: what a node published before Close reaches the others.
func TestCloseDrains(t *testing.T) {
	_, url := startServer(t, -1)
	a, b := open(t, url, nil), open(t, url, nil)
	r := bustest.NewRecorder(t)
	if _, err := b.Subscribe("roomD", r.Fn); err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := range n {
		if err := a.Publish(context.Background(), broadcast("roomD", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r.Wait(t, n)
}

// TestOutage: while the server is down Publish and Subscribe fail at once;
// when it comes back (on the same port) OnReconnect is called and the
// subscriptions made before the outage deliver again.
func TestOutage(t *testing.T) {
	s, url := startServer(t, -1)
	port := serverPort(t, s)
	var reconnects [2]atomic.Int32
	a := open(t, url, func(b *nats.Bus) { b.OnReconnect = func() { reconnects[0].Add(1) } })
	b := open(t, url, func(b *nats.Bus) { b.OnReconnect = func() { reconnects[1].Add(1) } })
	r := bustest.NewRecorder(t)
	if _, err := b.Subscribe("roomR", r.Fn); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(context.Background(), broadcast("roomR", "before")); err != nil {
		t.Fatal(err)
	}
	r.Wait(t, 1)

	s.Shutdown()
	s.WaitForShutdown()
	waitUntil(t, "disconnected", 10*time.Second, func() bool { return !a.Connected() && !b.Connected() })
	err := a.Publish(context.Background(), broadcast("roomR", "during"))
	if !errors.Is(err, nats.ErrNotConnected) {
		t.Fatalf("Publish while the server is down: %v, want ErrNotConnected", err)
	}
	if _, err := a.Subscribe("roomR", r.Fn); err == nil {
		t.Fatal("Subscribe while the server is down: nil error")
	}

	startServer(t, port)
	waitUntil(t, "OnReconnect called on both nodes", 10*time.Second, func() bool {
		return reconnects[0].Load() >= 1 && reconnects[1].Load() >= 1
	})
	if !a.Connected() || !b.Connected() {
		t.Fatalf("Connected()=%v,%v after OnReconnect", a.Connected(), b.Connected())
	}
	if err := a.Publish(context.Background(), broadcast("roomR", "after")); err != nil {
		t.Fatalf("Publish after the server came back: %v", err)
	}
	if got := bustest.Frames(r.Wait(t, 2)); got[1] != "after" || len(got) != 2 {
		t.Fatalf("got %q, want [before after]", got)
	}
}
