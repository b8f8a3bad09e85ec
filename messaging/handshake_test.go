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
