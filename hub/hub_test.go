package hub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/hub"
	"github.com/parleychat/parley/internal/poll"
)

// fakeConn records what the hub does to it.
type fakeConn struct {
	user string
	max  int

	mu     sync.Mutex
	frames []string
	closed []hub.CloseReason
}

func (c *fakeConn) Enqueue(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max > 0 && len(c.frames) >= c.max {
		return false
	}
	c.frames = append(c.frames, string(frame))
	return true
}

func (c *fakeConn) Close(reason hub.CloseReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = append(c.closed, reason)
}

func (c *fakeConn) UserID() string { return c.user }

func (c *fakeConn) state() ([]string, []hub.CloseReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.frames...), append([]hub.CloseReason(nil), c.closed...)
}

// waitState polls until c has received frames and been closed for closes,
// since a bus may deliver after Publish has returned.
func waitState(t *testing.T, c *fakeConn, frames []string, closes []hub.CloseReason) {
	t.Helper()
	var f []string
	var cl []hub.CloseReason
	if !poll.Wait(poll.Timeout, func() bool {
		f, cl = c.state()
		return cmp.Equal(f, frames, cmpopts.EquateEmpty()) && cmp.Equal(cl, closes, cmpopts.EquateEmpty())
	}) {
		t.Fatalf("user %q: frames=%q closes=%v, want frames=%q closes=%v", c.user, f, cl, frames, closes)
	}
}

func mustJoin(t *testing.T, h *hub.Hub, room *parley.Room, c hub.Conn) *hub.Room {
	t.Helper()
	r, _, err := h.Join(room, c)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	return r
}

func publish(t *testing.T, b parley.Bus, m *parley.BusMessage) {
	t.Helper()
	if err := b.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func roomCounts(h *hub.Hub) map[string]int {
	got := map[string]int{}
	h.Rooms(func(id string, n int) { got[id] = n })
	return got
}

func TestHub(t *testing.T) {
	room := &parley.Room{ID: "roomAAAAAAAA", MaximumMessageLength: 500}
	t.Run("Broadcast", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		a, c := &fakeConn{user: "a"}, &fakeConn{user: "c"}
		other := &fakeConn{user: "o"}
		mustJoin(t, h, room, a)
		r := mustJoin(t, h, room, c)
		mustJoin(t, h, &parley.Room{ID: "roomBBBBBBBB"}, other)
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("1")})
		waitState(t, c, []string{"1"}, nil)
		h.Leave(r, c)
		h.Leave(r, c) // twice is harmless
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("2")})
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "roomBBBBBBBB", Frame: []byte("b")})
		waitState(t, a, []string{"1", "2"}, nil)
		// The other room gets its own frame and nothing of room's.
		waitState(t, other, []string{"b"}, nil)
		if fc, _ := c.state(); !cmp.Equal(fc, []string{"1"}) {
			t.Errorf("c frames=%q after leaving, want [1]", fc)
		}
		if diff := cmp.Diff(map[string]int{room.ID: 1, "roomBBBBBBBB": 1}, roomCounts(h)); diff != "" {
			t.Errorf("Rooms (-want +got):\n%s", diff)
		}
	})
	t.Run("UnsubscribeOnLastLeave", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		a := &fakeConn{user: "a"}
		r := mustJoin(t, h, room, a)
		h.Leave(r, a)
		if n := len(roomCounts(h)); n != 0 {
			t.Fatalf("%d rooms after last leave, want 0", n)
		}
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("x")})
		// Rejoining subscribes again; "y" is delivered, "x" (published while
		// no one was subscribed, and before "y") never is.
		mustJoin(t, h, room, a)
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("y")})
		waitState(t, a, []string{"y"}, nil)
	})
	t.Run("SlowConsumer", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		slow, fast := &fakeConn{user: "s", max: 1}, &fakeConn{user: "f"}
		mustJoin(t, h, room, slow)
		mustJoin(t, h, room, fast)
		for _, f := range []string{"1", "2"} {
			publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte(f)})
		}
		waitState(t, fast, []string{"1", "2"}, nil)
		waitState(t, slow, []string{"1"}, []hub.CloseReason{hub.CloseSlowConsumer})
		if n := h.SlowConsumerCloses(); n != 1 {
			t.Errorf("SlowConsumerCloses=%d, want 1", n)
		}
	})
	t.Run("DisconnectUser", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		u1, u2, v := &fakeConn{user: "u"}, &fakeConn{user: "u"}, &fakeConn{user: "v"}
		for _, c := range []*fakeConn{u1, u2, v} {
			mustJoin(t, h, room, c)
		}
		publish(t, b, &parley.BusMessage{Kind: parley.DisconnectUser, RoomID: room.ID, UserID: "u", Frame: []byte("ev")})
		for _, c := range []*fakeConn{u1, u2} {
			waitState(t, c, []string{"ev"}, []hub.CloseReason{hub.CloseDisconnected})
		}
		waitState(t, v, []string{"ev"}, nil)
	})
	t.Run("RoomUpdatedAndDeleted", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		a := &fakeConn{user: "a"}
		now := time.Now()
		r := mustJoin(t, h, &parley.Room{ID: room.ID, MaximumMessageLength: 500, UpdateTime: now}, a)
		publish(t, b, &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: room.ID,
			Room: &parley.Room{ID: room.ID, MaximumMessageLength: 5, UpdateTime: now.Add(time.Second)}})
		poll.Until(t, "maximumMessageLength 5 from RoomUpdated", func() bool {
			return r.Settings().MaximumMessageLength == 5
		})
		// A stale room loaded by a late joiner does not undo the update.
		mustJoin(t, h, &parley.Room{ID: room.ID, MaximumMessageLength: 500, UpdateTime: now}, &fakeConn{})
		if got := r.Settings().MaximumMessageLength; got != 5 {
			t.Fatalf("after stale join: maximumMessageLength=%d, want 5", got)
		}
		publish(t, b, &parley.BusMessage{Kind: parley.RoomDeleted, RoomID: room.ID})
		waitState(t, a, nil, []hub.CloseReason{hub.CloseRoomDeleted})
	})
}

// TestHubConcurrent joins, leaves and broadcasts at once (run with -race).
func TestHubConcurrent(t *testing.T) {
	b := inmem.New()
	h := hub.New(b)
	steady := &fakeConn{user: "s"}
	mustJoin(t, h, &parley.Room{ID: "R"}, steady)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 200 {
				c := &fakeConn{user: "x"}
				r, _, err := h.Join(&parley.Room{ID: "R"}, c)
				if err != nil {
					t.Error(err)
					return
				}
				h.Leave(r, c)
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				b.Publish(context.Background(), &parley.BusMessage{Kind: parley.Broadcast, RoomID: "R", Frame: []byte("f")})
			}
		}()
	}
	wg.Wait()
	poll.Until(t, "800 frames to the steady connection", func() bool {
		f, _ := steady.state()
		return len(f) == 800
	})
	if diff := cmp.Diff(map[string]int{"R": 1}, roomCounts(h)); diff != "" {
		t.Fatalf("Rooms (-want +got):\n%s", diff)
	}
}

// TestJoinAfterDeletion: Join asks for a Refresh until one has run since
// the subscription; once the hub has seen RoomDeleted (from the bus or from
// Refresh(nil)), a Join that loaded the room before the deletion is
// refused.
func TestJoinAfterDeletion(t *testing.T) {
	b := inmem.New()
	defer b.Close(context.Background())
	h := hub.New(b)
	room := &parley.Room{ID: "R", UpdateTime: time.Unix(100, 0)}

	a := &fakeConn{user: "a"}
	r, refresh, err := h.Join(room, a)
	if err != nil || !refresh {
		t.Fatalf("first Join: refresh=%v err=%v, want true, nil", refresh, err)
	}
	b2 := &fakeConn{user: "b"}
	if _, refresh, err := h.Join(room, b2); err != nil || !refresh {
		t.Fatalf("second Join before any Refresh: refresh=%v err=%v, want true, nil", refresh, err)
	}
	newer := &parley.Room{ID: "R", MaximumMessageLength: 7, UpdateTime: time.Unix(200, 0)}
	r.Refresh(newer)
	r.Refresh(room) // older: ignored
	if got := r.Settings(); got != newer {
		t.Fatalf("settings %+v, want the newer room", got)
	}
	b3 := &fakeConn{user: "b"}
	if _, refresh, err := h.Join(room, b3); err != nil || refresh {
		t.Fatalf("Join after a Refresh: refresh=%v err=%v, want false, nil", refresh, err)
	}

	publish(t, b, &parley.BusMessage{Kind: parley.RoomDeleted, RoomID: "R"})
	for _, c := range []*fakeConn{a, b2, b3} {
		waitState(t, c, nil, []hub.CloseReason{hub.CloseRoomDeleted})
	}
	late := &fakeConn{user: "late"}
	if _, _, err := h.Join(room, late); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
		t.Fatalf("Join after RoomDeleted: err=%v, want ResourceNotFoundException", err)
	}

	// Refresh(nil) ends a room whose deletion the bus never delivered.
	other := &parley.Room{ID: "S"}
	c := &fakeConn{user: "c"}
	rs, _, err := h.Join(other, c)
	if err != nil {
		t.Fatal(err)
	}
	rs.Refresh(nil)
	if _, closed := c.state(); !cmp.Equal(closed, []hub.CloseReason{hub.CloseRoomDeleted}) {
		t.Fatalf("closed %v after Refresh(nil), want [CloseRoomDeleted]", closed)
	}
	if _, _, err := h.Join(other, &fakeConn{}); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
		t.Fatalf("Join after Refresh(nil): err=%v, want ResourceNotFoundException", err)
	}
}
