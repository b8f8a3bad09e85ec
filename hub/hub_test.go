package hub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/hub"
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
		h.Leave(r, c)
		h.Leave(r, c) // twice is harmless
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("2")})
		fa, _ := a.state()
		fc, _ := c.state()
		fo, _ := other.state()
		if diff := cmp.Diff([]string{"1", "2"}, fa); diff != "" {
			t.Errorf("a frames (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1"}, fc); diff != "" {
			t.Errorf("c frames (-want +got):\n%s", diff)
		}
		if len(fo) != 0 {
			t.Errorf("other room got %q", fo)
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
		if f, _ := a.state(); len(f) != 0 {
			t.Fatalf("left connection got %q", f)
		}
		// Rejoining subscribes again.
		r = mustJoin(t, h, room, a)
		publish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: []byte("y")})
		if f, _ := a.state(); !cmp.Equal(f, []string{"y"}) {
			t.Fatalf("frames=%q, want [y]", f)
		}
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
		_, closed := slow.state()
		if diff := cmp.Diff([]hub.CloseReason{hub.CloseSlowConsumer}, closed); diff != "" {
			t.Errorf("slow closes (-want +got):\n%s", diff)
		}
		if f, c := fast.state(); len(f) != 2 || len(c) != 0 {
			t.Errorf("fast: frames=%q closes=%v", f, c)
		}
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
			f, closed := c.state()
			if !cmp.Equal(f, []string{"ev"}) || !cmp.Equal(closed, []hub.CloseReason{hub.CloseDisconnected}) {
				t.Errorf("user u: frames=%q closes=%v", f, closed)
			}
		}
		if f, closed := v.state(); !cmp.Equal(f, []string{"ev"}) || len(closed) != 0 {
			t.Errorf("user v: frames=%q closes=%v", f, closed)
		}
	})
	t.Run("RoomUpdatedAndDeleted", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		a := &fakeConn{user: "a"}
		now := time.Now()
		r := mustJoin(t, h, &parley.Room{ID: room.ID, MaximumMessageLength: 500, UpdateTime: now}, a)
		publish(t, b, &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: room.ID,
			Room: &parley.Room{ID: room.ID, MaximumMessageLength: 5, UpdateTime: now.Add(time.Second)}})
		if got := r.Settings().MaximumMessageLength; got != 5 {
			t.Fatalf("maximumMessageLength=%d, want 5", got)
		}
		// A stale room loaded by a late joiner does not undo the update.
		mustJoin(t, h, &parley.Room{ID: room.ID, MaximumMessageLength: 500, UpdateTime: now}, &fakeConn{})
		if got := r.Settings().MaximumMessageLength; got != 5 {
			t.Fatalf("after stale join: maximumMessageLength=%d, want 5", got)
		}
		publish(t, b, &parley.BusMessage{Kind: parley.RoomDeleted, RoomID: room.ID})
		if _, closed := a.state(); !cmp.Equal(closed, []hub.CloseReason{hub.CloseRoomDeleted}) {
			t.Fatalf("closes=%v, want [CloseRoomDeleted]", closed)
		}
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
	if f, _ := steady.state(); len(f) != 800 {
		t.Fatalf("steady got %d frames, want 800", len(f))
	}
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
		if _, closed := c.state(); !cmp.Equal(closed, []hub.CloseReason{hub.CloseRoomDeleted}) {
			t.Fatalf("%s closed %v, want [CloseRoomDeleted]", c.user, closed)
		}
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
