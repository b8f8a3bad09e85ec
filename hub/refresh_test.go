package hub_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/hub"
)

// TestRoomVersion: RoomUpdated applies only a higher Version when both
// copies have one, whatever their UpdateTime; with a Version of 0 the
// later or equal UpdateTime wins, as before versions.
func TestRoomVersion(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name        string
		held, offer parley.Room
		applied     bool
	}{
		{"Newer", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{Version: 6, UpdateTime: t0}, true},
		{"NewerWithEarlierClock", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{Version: 6, UpdateTime: t0.Add(-time.Hour)}, true},
		{"StaleWithLaterClock", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{Version: 4, UpdateTime: t0.Add(time.Hour)}, false},
		{"SameVersion", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{Version: 5, UpdateTime: t0.Add(time.Hour)}, false},
		{"UnknownOfferLater", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{UpdateTime: t0.Add(time.Second)}, true},
		{"UnknownOfferEarlier", parley.Room{Version: 5, UpdateTime: t0}, parley.Room{UpdateTime: t0.Add(-time.Second)}, false},
		{"UnknownHeldLater", parley.Room{UpdateTime: t0}, parley.Room{Version: 1, UpdateTime: t0.Add(time.Second)}, true},
		{"UnknownBothEqual", parley.Room{UpdateTime: t0}, parley.Room{UpdateTime: t0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := inmem.New()
			h := hub.New(b)
			held, offer := tc.held, tc.offer
			held.ID, offer.ID = "R", "R"
			held.MaximumMessageLength, offer.MaximumMessageLength = 1, 2
			r := mustJoin(t, h, &held, &fakeConn{user: "a"})
			publish(t, b, &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: "R", Room: &offer})
			want := 1
			if tc.applied {
				want = 2
			}
			if got := r.Settings().MaximumMessageLength; got != want {
				t.Fatalf("maximumMessageLength=%d, want %d", got, want)
			}
		})
	}
}

// store is a FindRoom over a map; a missing room is not found, and err,
// when set for an ID, is returned instead.
type store struct {
	mu    sync.Mutex
	rooms map[string]*parley.Room
	errs  map[string]error
	reads []string
}

func (s *store) find(_ context.Context, id string) (*parley.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, id)
	if err := s.errs[id]; err != nil {
		return nil, err
	}
	r, ok := s.rooms[id]
	if !ok {
		return nil, parley.NotFound("room", id)
	}
	return r, nil
}

func TestRefreshRooms(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		kept, gone, failing := &fakeConn{user: "k"}, &fakeConn{user: "g"}, &fakeConn{user: "f"}
		rk := mustJoin(t, h, &parley.Room{ID: "kept", Version: 3, MaximumMessageLength: 1}, kept)
		mustJoin(t, h, &parley.Room{ID: "gone", Version: 3}, gone)
		rf := mustJoin(t, h, &parley.Room{ID: "failing", Version: 3, MaximumMessageLength: 1}, failing)
		rs := mustJoin(t, h, &parley.Room{ID: "stale", Version: 9, MaximumMessageLength: 1}, &fakeConn{})
		boom := errors.New("store down")
		st := &store{
			rooms: map[string]*parley.Room{
				"kept":  {ID: "kept", Version: 4, MaximumMessageLength: 2},
				"stale": {ID: "stale", Version: 8, MaximumMessageLength: 2},
			},
			errs: map[string]error{"failing": boom},
		}
		err := h.RefreshRooms(context.Background(), st.find)
		if !errors.Is(err, boom) {
			t.Fatalf("RefreshRooms: %v, want the store's error", err)
		}
		if got := rk.Settings().MaximumMessageLength; got != 2 {
			t.Errorf("kept: maximumMessageLength=%d, want 2 (the newer room)", got)
		}
		if got := rs.Settings().MaximumMessageLength; got != 1 {
			t.Errorf("stale: maximumMessageLength=%d, want 1 (the store's copy is older)", got)
		}
		if got := rf.Settings().MaximumMessageLength; got != 1 {
			t.Errorf("failing: maximumMessageLength=%d, want 1 (unchanged)", got)
		}
		if _, closed := gone.state(); !cmp.Equal(closed, []hub.CloseReason{hub.CloseRoomDeleted}) {
			t.Errorf("gone: closes=%v, want [CloseRoomDeleted]", closed)
		}
		if _, closed := kept.state(); len(closed) != 0 {
			t.Errorf("kept: closes=%v, want none", closed)
		}
		if _, _, err := h.Join(&parley.Room{ID: "gone"}, &fakeConn{}); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
			t.Errorf("Join of the deleted room: %v, want ResourceNotFoundException", err)
		}
		// A refreshed room no longer asks its joiners to read it.
		if _, refresh, err := h.Join(&parley.Room{ID: "kept"}, &fakeConn{}); err != nil || refresh {
			t.Errorf("Join after RefreshRooms: refresh=%v err=%v, want false, nil", refresh, err)
		}
		if _, refresh, _ := h.Join(&parley.Room{ID: "failing"}, &fakeConn{}); !refresh {
			t.Errorf("Join of a room whose read failed: refresh=false, want true")
		}
		// A deleted room is not read again.
		st.reads = nil
		h.RefreshRooms(context.Background(), st.find)
		for _, id := range st.reads {
			if id == "gone" {
				t.Errorf("the deleted room was read again")
			}
		}
	})
	t.Run("Empty", func(t *testing.T) {
		h := hub.New(inmem.New())
		if err := h.RefreshRooms(context.Background(), (&store{}).find); err != nil {
			t.Fatalf("RefreshRooms of an empty hub: %v", err)
		}
	})
	t.Run("ErrContextDone", func(t *testing.T) {
		h := hub.New(inmem.New())
		for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
			mustJoin(t, h, &parley.Room{ID: id}, &fakeConn{})
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		st := &store{rooms: map[string]*parley.Room{}}
		if err := h.RefreshRooms(ctx, st.find); !errors.Is(err, context.Canceled) {
			t.Fatalf("RefreshRooms with a done context: %v, want context.Canceled", err)
		}
		if len(st.reads) != 0 {
			t.Fatalf("read %q with a done context", st.reads)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		b := inmem.New()
		h := hub.New(b)
		st := &store{rooms: map[string]*parley.Room{}}
		var ra *hub.Room
		for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			r := mustJoin(t, h, &parley.Room{ID: id, Version: 1}, &fakeConn{})
			if id == "a" {
				ra = r
			}
			st.rooms[id] = &parley.Room{ID: id, Version: 2}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 50 {
				publish(t, b, &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: "a", Room: &parley.Room{ID: "a", Version: 3}})
			}
		})
		for range 3 {
			wg.Go(func() {
				if err := h.RefreshRooms(context.Background(), st.find); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := len(st.reads); got != 27 {
			t.Fatalf("%d reads, want 27", got)
		}
		if v := ra.Settings().Version; v != 3 {
			t.Fatalf("room a: version %d, want 3 (the bus's, newer than the store's)", v)
		}
	})
}
