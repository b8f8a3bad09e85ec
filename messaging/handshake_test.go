package messaging_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/messaging"
)

func TestHandshake(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("OK", func(t *testing.T) {
		c := e.connect(t, tokenOpts{user: "u1", caps: allCaps})
		c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r", "Content": "hi"})
		if f := c.read(); f.Type != parley.TypeMessage {
			t.Fatalf("got %s, want MESSAGE", f.Raw)
		}
	})
	t.Run("ErrTokenReused", func(t *testing.T) {
		tok := e.token(t, tokenOpts{user: "u1"})
		e.dial(t, tok)
		if code, body := e.dialStatus(t, tok); code != http.StatusUnauthorized || !strings.Contains(body, "used") {
			t.Fatalf("reuse: status=%d body=%q, want 401 'already used'", code, body)
		}
	})
	t.Run("ErrMissingToken", func(t *testing.T) {
		if code, _ := e.dialStatus(t, ""); code != http.StatusUnauthorized {
			t.Fatalf("status=%d, want 401", code)
		}
	})
	t.Run("ErrForgedToken", func(t *testing.T) {
		if code, _ := e.dialStatus(t, "AQICAHforged-token"); code != http.StatusUnauthorized {
			t.Fatalf("status=%d, want 401", code)
		}
	})
	t.Run("ErrTokenExpired", func(t *testing.T) {
		now := time.Now()
		tok := e.seal(t, &parley.ChatToken{ID: parley.NewID(), RoomID: e.room.ID, UserID: "u",
			ConnectDeadline: now.Add(-time.Second), SessionExpiry: now.Add(time.Hour)})
		if code, body := e.dialStatus(t, tok); code != http.StatusUnauthorized || !strings.Contains(body, "expired") {
			t.Fatalf("status=%d body=%q, want 401 expired", code, body)
		}
	})
	t.Run("ErrSessionExpired", func(t *testing.T) {
		now := time.Now()
		tok := e.seal(t, &parley.ChatToken{ID: parley.NewID(), RoomID: e.room.ID, UserID: "u",
			ConnectDeadline: now.Add(time.Hour), SessionExpiry: now.Add(-time.Second)})
		if code, _ := e.dialStatus(t, tok); code != http.StatusUnauthorized {
			t.Fatalf("status=%d, want 401", code)
		}
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		r := e.createRoom(t, func(*parley.Room) {})
		if err := e.store.DeleteRoom(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.dialStatus(t, e.token(t, tokenOpts{room: r, user: "u"})); code != http.StatusNotFound {
			t.Fatalf("status=%d, want 404", code)
		}
	})
	t.Run("ErrNotUpgrade", func(t *testing.T) {
		resp, err := http.Get("http" + strings.TrimPrefix(e.url, "ws") + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			t.Fatalf("status=%d, want 426", resp.StatusCode)
		}
	})
}

func TestIsUpgrade(t *testing.T) {
	for _, tc := range []struct {
		conn, upgrade string
		want          bool
	}{
		{"Upgrade", "websocket", true},
		{"keep-alive, Upgrade", "WebSocket", true},
		{"keep-alive", "websocket", false},
		{"Upgrade", "h2c", false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Connection", tc.conn)
		r.Header.Set("Upgrade", tc.upgrade)
		if got := messaging.IsUpgrade(r); got != tc.want {
			t.Errorf("IsUpgrade(%q, %q)=%v, want %v", tc.conn, tc.upgrade, got, tc.want)
		}
	}
}

// racingStore changes the room in the store, as a control plane on another
// node would, after the handshake loaded it and before the connection
// joins: the bus message of that change reaches no one here, since no
// connection of the room has subscribed yet.
type racingStore struct {
	messaging.Store
	change func()
}

func (s *racingStore) UseToken(ctx context.Context, id string, exp time.Time) error {
	if s.change != nil {
		s.change()
		s.change = nil
	}
	return s.Store.UseToken(ctx, id, exp)
}

// TestHandshake_RoomChangedBeforeJoin: the first connection of a room reads
// the room again once subscribed, so a change that landed in between is
// not lost.
func TestHandshake_RoomChangedBeforeJoin(t *testing.T) {
	ctx := context.Background()
	rs := &racingStore{}
	e := newEnv(t, func(s *messaging.Server) { rs.Store = s.Store; s.Store = rs })
	t.Run("Deleted", func(t *testing.T) {
		r := e.createRoom(t, func(*parley.Room) {})
		rs.change = func() {
			if err := e.store.DeleteRoom(ctx, r.ID); err != nil {
				t.Error(err)
			}
		}
		if code, _ := e.dialStatus(t, e.token(t, tokenOpts{room: r, user: "u"})); code != http.StatusNotFound {
			t.Fatalf("status=%d, want 404 for a room deleted during the handshake", code)
		}
	})
	t.Run("Updated", func(t *testing.T) {
		r := e.createRoom(t, func(*parley.Room) {})
		rs.change = func() {
			five := 5
			if _, err := e.store.UpdateRoom(ctx, r.ID, parley.RoomUpdate{MaximumMessageLength: &five}, time.Now()); err != nil {
				t.Error(err)
			}
		}
		c := e.connect(t, tokenOpts{room: r, user: "u", caps: allCaps})
		c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "long", "Content": "longer than five"})
		c.readError(400, "long")
	})
}
