package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/messaging"
)

// chatLog records what the server logs.
type chatLog struct {
	recs chan *parley.LogRecord
}

func (l *chatLog) Record(_ context.Context, r *parley.LogRecord) error {
	l.recs <- r
	return nil
}

func TestSendMessage(t *testing.T) {
	log := &chatLog{recs: make(chan *parley.LogRecord, 10)}
	e := newEnv(t, func(s *messaging.Server) { s.ChatLog = log })
	senderAttrs := map[string]string{"username": "Ann"}
	a := e.connect(t, tokenOpts{user: "ann", caps: allCaps, attrs: senderAttrs})
	a2 := e.connect(t, tokenOpts{user: "ann"}) // same user, second connection
	b := e.connect(t, tokenOpts{user: "bob"})

	t.Run("OK", func(t *testing.T) {
		before := time.Now().UTC()
		a.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "req-1", "Content": "héllo \u2028 \"q\"", "Attributes": map[string]string{"k": "v"}})
		got := a.read()
		after := time.Now().UTC()
		sent, err := time.Parse(time.RFC3339Nano, got.SendTime)
		if err != nil || sent.Before(before) || sent.After(after) || !strings.HasSuffix(got.SendTime, "Z") {
			t.Fatalf("SendTime=%q, want UTC between %v and %v", got.SendTime, before, after)
		}
		want := (&parley.Message{
			ID: got.ID, RequestID: "req-1", Attributes: map[string]string{"k": "v"}, Content: "héllo \u2028 \"q\"",
			SendTime: sent, Sender: parley.Sender{UserID: "ann", Attributes: senderAttrs},
		}).AppendJSON(nil)
		if diff := cmp.Diff(string(want), got.Raw); diff != "" {
			t.Fatalf("MESSAGE (-want +got):\n%s", diff)
		}
		if !parley.ValidID(got.ID) {
			t.Fatalf("Id=%q is not an IVS id", got.ID)
		}
		for _, c := range []*client{a2, b} {
			if f := c.read(); f.Raw != got.Raw {
				t.Fatalf("other connection got %s, want the same frame", f.Raw)
			}
		}
		rec := <-log.recs
		if rec.Type != parley.TypeMessage || string(rec.Payload) != got.Raw || rec.Room == nil || rec.Room.ARN != e.room.ARN || !rec.Time.Equal(sent) {
			t.Fatalf("chat log record %+v", rec)
		}
	})
	t.Run("NoAttributesNoRequestId", func(t *testing.T) {
		a.sendRaw(`{"action":"SEND_MESSAGE","content":"lower-case keys"}`)
		got := a.read()
		if !strings.Contains(got.Raw, `"RequestId":"","Attributes":null,"Content":"lower-case keys"`) {
			t.Fatalf("got %s", got.Raw)
		}
		b.read()
		a2.read()
		<-log.recs
		a.send(map[string]any{"Action": "SEND_MESSAGE", "Content": "x"})
		if next := a.read(); next.ID == got.ID {
			t.Fatalf("two messages share Id %s", got.ID)
		}
		b.read()
		a2.read()
		<-log.recs
	})
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t, func(s *messaging.Server) { s.MaxFrameSize = 4096 })
	small := e.createRoom(t, func(r *parley.Room) { r.MaximumMessageLength = 5 })
	c := e.connect(t, tokenOpts{room: small, user: "u", caps: allCaps})
	bigAttrs := map[string]string{"k": strings.Repeat("v", parley.MaxAttributesSize)}
	for _, tc := range []struct {
		name  string
		frame any
		code  int
		rid   string
	}{
		{"NotJSON", "hello", 400, ""},
		{"NotObject", `["SEND_MESSAGE"]`, 400, ""},
		{"NoAction", map[string]any{"RequestId": "r1", "Content": "x"}, 400, "r1"},
		{"UnknownAction", map[string]any{"Action": "SEND_EVENT", "RequestId": "r2"}, 400, "r2"},
		{"MissingContent", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r3"}, 400, "r3"},
		{"MistypedContent", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r4", "Content": 5}, 400, "r4"},
		{"NonStringAttribute", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r5", "Content": "x", "Attributes": map[string]any{"n": 1}}, 400, "r5"},
		{"ContentTooLong", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r6", "Content": "ééééé!"}, 400, "r6"},
		{"AttributesTooLarge", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r7", "Content": "x", "Attributes": bigAttrs}, 413, "r7"},
		{"RequestIdTooLong", map[string]any{"Action": "SEND_MESSAGE", "RequestId": strings.Repeat("r", 129), "Content": "x"}, 413, ""},
		{"DeleteMissingId", map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "r8"}, 400, "r8"},
		{"DeleteBadId", map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "r9", "Id": "short"}, 400, "r9"},
		{"DeleteReasonTooLong", map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "r10", "Id": "abcdefABCDEF", "Reason": strings.Repeat("x", 257)}, 413, "r10"},
		{"DisconnectMissingUser", map[string]any{"Action": "DISCONNECT_USER", "RequestId": "r11"}, 400, "r11"},
		{"DisconnectUserTooLong", map[string]any{"Action": "DISCONNECT_USER", "RequestId": "r12", "UserId": strings.Repeat("u", 129)}, 413, "r12"},
		{"FrameTooLarge", map[string]any{"Action": "SEND_MESSAGE", "RequestId": "r13", "Content": strings.Repeat("x", 5000)}, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, ok := tc.frame.(string); ok {
				c.sendRaw(s)
			} else {
				c.send(tc.frame)
			}
			c.readError(tc.code, tc.rid)
		})
	}
	t.Run("Binary", func(t *testing.T) {
		if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		c.readError(400, "")
	})
	t.Run("StillOpen", func(t *testing.T) {
		c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "ok", "Content": "ééééé"})
		if f := c.read(); f.Type != parley.TypeMessage || f.Content != "ééééé" {
			t.Fatalf("got %s, want the MESSAGE", f.Raw)
		}
	})
	if got := e.metric(t, "parley_ws_errors_total", map[string]string{"code": "413"}); got != 5 {
		t.Errorf("parley_ws_errors_total{code=413}=%v, want 5", got)
	}
}

func TestCapabilities(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect(t, tokenOpts{user: "viewer"})
	for _, req := range []map[string]any{
		{"Action": "SEND_MESSAGE", "RequestId": "a", "Content": "x"},
		{"Action": "DELETE_MESSAGE", "RequestId": "a", "Id": "abcdefABCDEF"},
		{"Action": "DISCONNECT_USER", "RequestId": "a", "UserId": "x"},
	} {
		c.send(req)
		c.readError(403, "a")
	}
}

func TestDeleteMessage(t *testing.T) {
	log := &chatLog{recs: make(chan *parley.LogRecord, 10)}
	e := newEnv(t, func(s *messaging.Server) { s.ChatLog = log })
	mod := e.connect(t, tokenOpts{user: "mod", caps: allCaps})
	viewer := e.connect(t, tokenOpts{user: "viewer"})
	mod.send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "del-1", "Id": "M2YcHkgffEvU", "Reason": "Spam"})
	got := mod.read()
	want := map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU", "Reason": "Spam"}
	if got.Type != parley.TypeEvent || got.EventName != parley.EventDeleteMessage || got.RequestID != "del-1" || !parley.ValidID(got.ID) {
		t.Fatalf("got %s", got.Raw)
	}
	if diff := cmp.Diff(want, got.Attributes); diff != "" {
		t.Fatalf("Attributes (-want +got):\n%s", diff)
	}
	if f := viewer.read(); f.Raw != got.Raw {
		t.Fatalf("viewer got %s", f.Raw)
	}
	if rec := <-log.recs; rec.Type != parley.TypeEvent || string(rec.Payload) != got.Raw {
		t.Fatalf("chat log record %+v", rec)
	}
}

// TestSystemEventsNoReason: DELETE_MESSAGE and DISCONNECT_USER without a
// Reason send events without a Reason attribute, as the control plane does.
func TestSystemEventsNoReason(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.connect(t, tokenOpts{user: "mod", caps: allCaps})
	mod.send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "d", "Id": "M2YcHkgffEvU"})
	if got := mod.read(); !cmp.Equal(got.Attributes, map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU"}) {
		t.Fatalf("aws:DELETE_MESSAGE without Reason: %s", got.Raw)
	}
	mod.send(map[string]any{"Action": "DISCONNECT_USER", "RequestId": "k", "UserId": "someone"})
	if got := mod.read(); got.EventName != parley.EventDisconnectUser || !cmp.Equal(got.Attributes, map[string]string{"UserId": "someone"}) {
		t.Fatalf("aws:DISCONNECT_USER without Reason: %s", got.Raw)
	}
}
