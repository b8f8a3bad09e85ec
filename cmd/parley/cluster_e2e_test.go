package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gorilla/websocket"

	"github.com/parleychat/parley/internal/clustertest"
)

// requireServices skips t loudly when what it needs is not here, or fails
// it when PARLEY_REQUIRE_SERVICES=1 (CI) says nothing may be skipped.
func requireServices(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("PARLEY_REQUIRE_SERVICES") == "1" {
		t.Fatalf("PARLEY_REQUIRE_SERVICES=1 and %v", err)
	}
	t.Skipf("!!! SKIPPED: %v (set PARLEY_REQUIRE_SERVICES=1 to fail instead)", err)
}

// startCluster starts three nodes behind nginx, sharing a new PostgreSQL
// schema and an embedded NATS server; extra flags go to every node.
func startCluster(t *testing.T, args ...string) *clustertest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster end-to-end tests run without -short")
	}
	dbURL := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if dbURL == "" {
		dbURL = clustertest.DefaultDatabaseURL
	}
	requireServices(t, clustertest.Available(context.Background(), dbURL))
	var log clusterLog
	c, err := clustertest.Start(context.Background(), clustertest.Options{
		Bin: buildParley(t), DatabaseURL: dbURL, Args: args, Log: &log, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("start cluster: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("cluster output:\n%s", log.String())
		}
	})
	return c
}

// clusterLog keeps the nodes' output, shown when a test fails.
type clusterLog struct {
	mu  sync.Mutex
	buf []byte
}

func (l *clusterLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	return len(b), nil
}

func (l *clusterLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

func clusterClient(addr string) *ivschat.Client {
	return newClient(addr, clustertest.AccessKeyID, clustertest.SecretAccessKey)
}

// mustCreateRoom creates a room through client.
func mustCreateRoom(t *testing.T, client *ivschat.Client, in *ivschat.CreateRoomInput) string {
	t.Helper()
	if in == nil {
		in = &ivschat.CreateRoomInput{}
	}
	out, err := client.CreateRoom(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return aws.ToString(out.Arn)
}

// mustToken creates a chat token with every capability.
func mustToken(t *testing.T, client *ivschat.Client, roomARN, user string) string {
	t.Helper()
	out, err := client.CreateChatToken(context.Background(), &ivschat.CreateChatTokenInput{
		RoomIdentifier: aws.String(roomARN), UserId: aws.String(user),
		Capabilities: []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage,
			types.ChatTokenCapabilityDeleteMessage, types.ChatTokenCapabilityDisconnectUser},
	})
	if err != nil {
		t.Fatalf("CreateChatToken: %v", err)
	}
	return aws.ToString(out.Token)
}

// dialWith connects to addr with tok, returning the HTTP status of a
// refused handshake (0 when it succeeded).
func dialWith(t *testing.T, addr, tok string) (*wsClient, int) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{tok}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial("ws://"+addr, nil)
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &wsClient{t: t, ws: ws, frames: make(chan wsFrame, 1024)}
	go c.read()
	t.Cleanup(func() { ws.Close() })
	return c, 0
}

// mustDial connects user to the room at a node (or the balancer).
func mustDial(t *testing.T, addr string, client *ivschat.Client, roomARN, user string) *wsClient {
	t.Helper()
	c, status := dialWith(t, addr, mustToken(t, client, roomARN, user))
	if status != 0 {
		t.Fatalf("handshake at %s refused with %d", addr, status)
	}
	return c
}

// nextOf returns the next frame of type typ, skipping others.
func (c *wsClient) nextOf(typ string, timeout time.Duration) wsFrame {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f := c.next(time.Until(deadline))
		if f.Type == typ {
			return f
		}
	}
}

// closed waits until the server has closed the connection, returning the
// frames received before.
func (c *wsClient) closed(timeout time.Duration) []wsFrame {
	c.t.Helper()
	var got []wsFrame
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return got
			}
			got = append(got, f)
		case <-deadline:
			c.t.Fatalf("connection still open after %v (frames %v)", timeout, got)
		}
	}
}

func readyz(addr string) int {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCluster drives three nodes behind nginx with the official Go SDK and
// real WebSocket clients: every cross-node behaviour, then the failures.
func TestCluster(t *testing.T) {
	c := startCluster(t, "--api-rate-limits=false")
	lb := clusterClient(c.Nginx.Addr)
	nodes := make([]*ivschat.Client, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = clusterClient(n.Addr)
	}
	ctx := context.Background()

	t.Run("MessageReachesEveryNode", func(t *testing.T) {
		room := mustCreateRoom(t, lb, nil)
		var clients []*wsClient
		for i, n := range c.Nodes {
			clients = append(clients, mustDial(t, n.Addr, lb, room, fmt.Sprintf("user%d", i)))
		}
		rid := clients[0].sendMessage("hello cluster", map[string]string{"k": "v"})
		var id string
		for i, cl := range clients {
			f := cl.nextOf("MESSAGE", 5*time.Second)
			if f.Content != "hello cluster" || f.Attributes["k"] != "v" {
				t.Fatalf("node%d got %s", i+1, f.Raw)
			}
			if i == 0 && f.RequestID != rid {
				t.Fatalf("sender's echo RequestId=%q, want %q", f.RequestID, rid)
			}
			if id == "" {
				id = f.ID
			} else if f.ID != id {
				t.Fatalf("node%d got Id %s, want %s", i+1, f.ID, id)
			}
		}
	})

	t.Run("TokenUsedOnceAcrossNodes", func(t *testing.T) {
		room := mustCreateRoom(t, lb, nil)
		for round := range 10 {
			tok := mustToken(t, lb, room, fmt.Sprintf("once%d", round))
			var ok, refused atomic.Int32
			var wg sync.WaitGroup
			for _, n := range c.Nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := websocket.Dialer{Subprotocols: []string{tok}, HandshakeTimeout: 5 * time.Second}
					ws, resp, err := d.Dial("ws://"+n.Addr, nil)
					switch {
					case err == nil:
						ok.Add(1)
						ws.Close()
					case resp != nil && resp.StatusCode == http.StatusUnauthorized:
						refused.Add(1)
					default:
						t.Errorf("dial %s: %v", n.Addr, err)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 || refused.Load() != 2 {
				t.Fatalf("round %d: %d handshakes succeeded and %d were refused with 401, want 1 and 2", round, ok.Load(), refused.Load())
			}
		}
	})

	t.Run("ControlPlaneEventsReachEveryNode", func(t *testing.T) {
		room := mustCreateRoom(t, lb, nil)
		a := mustDial(t, c.Nodes[0].Addr, lb, room, "alice")
		b := mustDial(t, c.Nodes[2].Addr, lb, room, "bob")
		a.sendMessage("to delete", nil)
		msg := b.nextOf("MESSAGE", 5*time.Second)
		a.nextOf("MESSAGE", 5*time.Second)

		if _, err := nodes[1].SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: aws.String(room), EventName: aws.String("app:ping")}); err != nil {
			t.Fatalf("SendEvent: %v", err)
		}
		for _, cl := range []*wsClient{a, b} {
			if f := cl.nextOf("EVENT", 5*time.Second); f.EventName != "app:ping" {
				t.Fatalf("got %s, want the app:ping event", f.Raw)
			}
		}
		if _, err := nodes[1].DeleteMessage(ctx, &ivschat.DeleteMessageInput{RoomIdentifier: aws.String(room), Id: aws.String(msg.ID)}); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
		for _, cl := range []*wsClient{a, b} {
			if f := cl.nextOf("EVENT", 5*time.Second); f.EventName != "aws:DELETE_MESSAGE" || f.Attributes["MessageID"] != msg.ID {
				t.Fatalf("got %s, want aws:DELETE_MESSAGE of %s", f.Raw, msg.ID)
			}
		}
		if _, err := nodes[1].DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(room), UserId: aws.String("bob")}); err != nil {
			t.Fatalf("DisconnectUser: %v", err)
		}
		if f := a.nextOf("EVENT", 5*time.Second); f.EventName != "aws:DISCONNECT_USER" || f.Attributes["UserId"] != "bob" {
			t.Fatalf("alice got %s, want aws:DISCONNECT_USER of bob", f.Raw)
		}
		b.closed(5 * time.Second)
	})

	t.Run("UpdateRoomAppliesLiveEverywhere", func(t *testing.T) {
		room := mustCreateRoom(t, lb, nil)
		cl := mustDial(t, c.Nodes[2].Addr, lb, room, "carol")
		if _, err := nodes[0].UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: aws.String(room), MaximumMessageLength: aws.Int32(5)}); err != nil {
			t.Fatalf("UpdateRoom: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			cl.sendMessage("longer than five", nil)
			f := cl.next(5 * time.Second)
			if f.Type == "ERROR" && f.ErrorCode == 400 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node3 still accepts 16 code points 5 s after UpdateRoom set 5: %s", f.Raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("DeleteRoomEndsSessionsEverywhere", func(t *testing.T) {
		room := mustCreateRoom(t, lb, nil)
		var clients []*wsClient
		for i, n := range c.Nodes {
			clients = append(clients, mustDial(t, n.Addr, lb, room, fmt.Sprintf("d%d", i)))
		}
		late := mustToken(t, lb, room, "late")
		if _, err := nodes[1].DeleteRoom(ctx, &ivschat.DeleteRoomInput{Identifier: aws.String(room)}); err != nil {
			t.Fatalf("DeleteRoom: %v", err)
		}
		for _, cl := range clients {
			cl.closed(5 * time.Second)
		}
		for _, n := range c.Nodes {
			if _, status := dialWith(t, n.Addr, late); status != http.StatusNotFound {
				t.Fatalf("handshake for the deleted room at %s: status %d, want 404", n.Name, status)
			}
		}
	})

	t.Run("RoomRateHoldsAcrossNodes", func(t *testing.T) {
		testClusterRoomRate(t, c, lb)
	})
}

// testClusterRoomRate sends far past a room's rate from senders on three
// nodes and counts what was accepted: at most limit × seconds plus one
// burst (limit) per node, and no less than the limit sustained.
func testClusterRoomRate(t *testing.T, c *clustertest.Cluster, lb *ivschat.Client) {
	const limit, perConnRate, seconds = 5, 10, 3
	room := mustCreateRoom(t, lb, &ivschat.CreateRoomInput{MaximumMessageRatePerSecond: aws.Int32(limit)})
	var senders []*wsClient
	for i, n := range c.Nodes {
		for j := range 2 {
			senders = append(senders, mustDial(t, n.Addr, lb, room, fmt.Sprintf("r%d-%d", i, j)))
		}
	}
	var accepted, throttled atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := map[string]bool{}
			tick := time.NewTicker(time.Second / perConnRate)
			defer tick.Stop()
			for time.Since(start) < seconds*time.Second {
				<-tick.C
				sent[s.sendMessage("rate", nil)] = true
			}
			// Count the answers to this connection's own requests.
			for answered := 0; answered < len(sent); {
				f := s.next(5 * time.Second)
				if !sent[f.RequestID] {
					continue
				}
				answered++
				switch {
				case f.Type == "MESSAGE":
					accepted.Add(1)
				case f.Type == "ERROR" && f.ErrorCode == 429:
					throttled.Add(1)
				default:
					t.Errorf("unexpected answer %s", f.Raw)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	maxAccepted := int32(limit*elapsed) + limit*int32(len(c.Nodes))
	minAccepted := int32(limit * (seconds - 1))
	t.Logf("accepted %d, throttled %d in %.1fs (limit %d/s, bound %d)", accepted.Load(), throttled.Load(), elapsed, limit, maxAccepted)
	if a := accepted.Load(); a > maxAccepted || a < minAccepted {
		t.Fatalf("accepted %d messages in %.1f s at a room rate of %d/s with senders on %d nodes, want %d..%d",
			a, elapsed, limit, len(c.Nodes), minAccepted, maxAccepted)
	}
}

// TestCluster_Failures takes PostgreSQL, then NATS, then a node away from a
// running cluster: live chat and readiness behave as docs/deploy.md says,
// and everything recovers without a restart.
func TestCluster_Failures(t *testing.T) {
	c := startCluster(t, "--api-rate-limits=false", "--room-refresh-interval=1s")
	lb := clusterClient(c.Nginx.Addr)
	ctx := context.Background()
	room := mustCreateRoom(t, lb, nil)
	a := mustDial(t, c.Nodes[0].Addr, lb, room, "alice")
	b := mustDial(t, c.Nodes[1].Addr, lb, room, "bob")
	exchange := func(t *testing.T, content string) {
		t.Helper()
		a.sendMessage(content, nil)
		for _, cl := range []*wsClient{a, b} {
			if f := cl.nextOf("MESSAGE", 5*time.Second); f.Content != content {
				t.Fatalf("got %s, want %q", f.Raw, content)
			}
		}
	}
	allReady := func(want int) func() bool {
		return func() bool {
			for _, n := range c.Nodes {
				if readyz(n.Addr) != want {
					return false
				}
			}
			return true
		}
	}

	t.Run("PostgresUnreachable", func(t *testing.T) {
		spare := mustToken(t, lb, room, "carol")
		c.Database.Cut()
		waitFor(t, 10*time.Second, "every /readyz 503 without the database", allReady(http.StatusServiceUnavailable))
		exchange(t, "chat flows without the database")
		if _, status := dialWith(t, c.Nodes[2].Addr, spare); status < 500 {
			t.Fatalf("handshake without the database: status %d, want 5xx", status)
		}
		if _, err := clusterClient(c.Nodes[2].Addr).GetRoom(ctx, &ivschat.GetRoomInput{Identifier: aws.String(room)}); err == nil {
			t.Fatal("GetRoom without the database succeeded")
		}
		c.Database.Restore()
		waitFor(t, 15*time.Second, "every /readyz 200 once the database is back", allReady(http.StatusOK))
		if _, status := dialWith(t, c.Nodes[2].Addr, spare); status != 0 {
			t.Fatalf("handshake after the database came back: status %d, want success (the refused try must not have used the token)", status)
		}
	})

	t.Run("NATSUnreachable", func(t *testing.T) {
		c.NATS.Stop()
		waitFor(t, 15*time.Second, "every /readyz 503 without NATS", allReady(http.StatusServiceUnavailable))
		rid := a.sendMessage("into the void", nil)
		if f := a.next(5 * time.Second); f.Type != "ERROR" || f.RequestID != rid {
			t.Fatalf("send without NATS answered %s, want an ERROR for %s", f.Raw, rid)
		}
		// A change made while NATS is down reaches no node by the bus; the
		// re-read after the reconnect applies it.
		if _, err := clusterClient(c.Nodes[2].Addr).UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: aws.String(room), MaximumMessageLength: aws.Int32(3)}); err == nil {
			t.Log("UpdateRoom succeeded without NATS (the store has it; the bus did not carry it)")
		}
		if err := c.NATS.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "every /readyz 200 once NATS is back", allReady(http.StatusOK))
		waitFor(t, 10*time.Second, "the length limit re-read on node1", func() bool {
			a.sendMessage("long again", nil)
			f := a.next(5 * time.Second)
			return f.Type == "ERROR" && f.ErrorCode == 400
		})
		if _, err := clusterClient(c.Nodes[2].Addr).UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: aws.String(room), MaximumMessageLength: aws.Int32(500)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "chat across nodes after NATS came back", func() bool {
			a.sendMessage("back", nil)
			f := a.next(5 * time.Second)
			if f.Type != "MESSAGE" {
				return false
			}
			g := b.nextOf("MESSAGE", 5*time.Second)
			return g.Content == "back"
		})
	})

	t.Run("NodeKilled", func(t *testing.T) {
		created := mustCreateRoom(t, clusterClient(c.Nodes[1].Addr), nil)
		c.Nodes[1].Kill()
		b.closed(5 * time.Second)
		// The client comes back through the balancer, which skips the dead
		// node, and hears what is sent on the others.
		back := mustDial(t, c.Nginx.Addr, lb, room, "bob")
		waitFor(t, 10*time.Second, "a message from node1 to bob on another node", func() bool {
			a.sendMessage("after the kill", nil)
			a.nextOf("MESSAGE", 5*time.Second)
			select {
			case f := <-back.frames:
				return f.Type == "MESSAGE"
			case <-time.After(500 * time.Millisecond):
				return false
			}
		})
		if _, err := lb.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: aws.String(created)}); err != nil {
			t.Fatalf("a room created through the killed node is gone: %v", err)
		}
	})
}
