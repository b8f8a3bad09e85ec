package roomevent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/internal/poll"
	"github.com/parleychat/parley/roomevent"
)

// chatLog keeps every record, or fails with err.
type chatLog struct {
	mu   sync.Mutex
	recs []parley.LogRecord
	err  error
}

func (l *chatLog) Record(_ context.Context, r *parley.LogRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.recs = append(l.recs, *r)
	return nil
}

func (l *chatLog) records() []parley.LogRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]parley.LogRecord(nil), l.recs...)
}

// store is a RoomWriter that remembers its calls.
type store struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (s *store) UpdateRoom(_ context.Context, id string, upd parley.RoomUpdate, now time.Time) (*parley.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "update "+id)
	if s.err != nil {
		return nil, s.err
	}
	return &parley.Room{ID: id, Name: *upd.Name, UpdateTime: now}, nil
}

func (s *store) DeleteRoom(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "delete "+id)
	return s.err
}

// received collects what the bus delivers to a room.
type received struct {
	mu   sync.Mutex
	msgs []*parley.BusMessage
}

func subscribe(t *testing.T, b parley.Bus, roomID string) *received {
	t.Helper()
	r := &received{}
	unsub, err := b.Subscribe(roomID, func(m *parley.BusMessage) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.msgs = append(r.msgs, m)
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(unsub)
	return r
}

func (r *received) wait(t *testing.T, n int) []*parley.BusMessage {
	t.Helper()
	var got []*parley.BusMessage
	poll.Until(t, "bus messages", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append(got[:0], r.msgs...)
		return len(got) >= n
	})
	return got
}

var now = time.Date(2025, 3, 4, 5, 6, 7, 891000000, time.UTC)

func newService(t *testing.T) (*roomevent.Service, *chatLog, *store, *bytes.Buffer) {
	b := inmem.New()
	t.Cleanup(func() { b.Close(context.Background()) })
	var logs bytes.Buffer
	cl, st := &chatLog{}, &store{}
	s := &roomevent.Service{Store: st, Bus: b, ChatLog: cl, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Now: func() time.Time { return now }}
	return s, cl, st, &logs
}

func TestEvents(t *testing.T) {
	s, cl, _, _ := newService(t)
	room := &parley.Room{ID: "roomAAAAAAAA", ARN: "arn:aws:ivschat:us-east-1:000000000000:room/roomAAAAAAAA"}
	got := subscribe(t, s.Bus, room.ID)
	ctx := context.Background()
	msg := &parley.Message{ID: parley.NewID(), RequestID: "r0", Content: "hi", SendTime: now, Sender: parley.Sender{UserID: "u"}}
	if err := s.SendMessage(ctx, room, msg); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	var evs []*parley.Event
	for _, send := range []func() (*parley.Event, error){
		func() (*parley.Event, error) { return s.SendEvent(ctx, room, "", "poll", map[string]string{"q": "?"}) },
		func() (*parley.Event, error) { return s.DeleteMessage(ctx, room, "r1", msg.ID, "") },
		func() (*parley.Event, error) { return s.DisconnectUser(ctx, room, "r2", "bad", "spam") },
	} {
		ev, err := send()
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		evs = append(evs, ev)
	}
	msgs := got.wait(t, 4)
	want := []struct {
		kind   parley.BusKind
		user   string
		frame  []byte
		typ    string
		sentAt time.Time
	}{
		{parley.Broadcast, "", msg.AppendJSON(nil), parley.TypeMessage, now},
		{parley.Broadcast, "", (&parley.Event{ID: evs[0].ID, EventName: "poll", Attributes: map[string]string{"q": "?"}, SendTime: now}).AppendJSON(nil), parley.TypeEvent, now},
		{parley.Broadcast, "", (&parley.Event{ID: evs[1].ID, RequestID: "r1", EventName: parley.EventDeleteMessage,
			Attributes: map[string]string{"MessageID": msg.ID, "MessageId": msg.ID}, SendTime: now}).AppendJSON(nil), parley.TypeEvent, now},
		{parley.DisconnectUser, "bad", (&parley.Event{ID: evs[2].ID, RequestID: "r2", EventName: parley.EventDisconnectUser,
			Attributes: map[string]string{"UserId": "bad", "Reason": "spam"}, SendTime: now}).AppendJSON(nil), parley.TypeEvent, now},
	}
	recs := cl.records()
	if len(recs) != len(want) {
		t.Fatalf("%d chat log records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.Kind != w.kind || m.UserID != w.user || m.RoomID != room.ID {
			t.Errorf("message %d: kind=%d user=%q room=%q, want %d %q %q", i, m.Kind, m.UserID, m.RoomID, w.kind, w.user, room.ID)
		}
		if diff := cmp.Diff(string(w.frame), string(m.Frame)); diff != "" {
			t.Errorf("frame %d (-want +got):\n%s", i, diff)
		}
		if r := recs[i]; r.Room != room || r.Type != w.typ || !r.Time.Equal(w.sentAt) || string(r.Payload) != string(m.Frame) {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	for _, ev := range evs {
		if !parley.ValidID(ev.ID) {
			t.Errorf("event Id %q", ev.ID)
		}
	}
}

func TestChatLogFailure(t *testing.T) {
	s, cl, _, logs := newService(t)
	cl.err = errors.New("spool full")
	room := &parley.Room{ID: "roomAAAAAAAA"}
	got := subscribe(t, s.Bus, room.ID)
	if _, err := s.SendEvent(context.Background(), room, "", "e", nil); err != nil {
		t.Fatalf("SendEvent with a failing chat log: %v, want nil (the event reached the room)", err)
	}
	got.wait(t, 1)
	if !bytes.Contains(logs.Bytes(), []byte("err=\"spool full\"")) {
		t.Fatalf("log %q does not report the failure under err", logs.String())
	}
}

func TestPublishFailure(t *testing.T) {
	s, cl, _, _ := newService(t)
	s.Bus.Close(context.Background())
	_, err := s.SendEvent(context.Background(), &parley.Room{ID: "roomAAAAAAAA"}, "", "e", nil)
	if !errors.Is(err, inmem.ErrClosed) {
		t.Fatalf("SendEvent on a closed bus: err=%v, want inmem.ErrClosed", err)
	}
	if n := len(cl.records()); n != 0 {
		t.Fatalf("%d chat log records of an event that was not published", n)
	}
}

func TestRoomChanges(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s, cl, st, _ := newService(t)
		got := subscribe(t, s.Bus, "roomAAAAAAAA")
		name := "new"
		r, err := s.UpdateRoom(ctx, "roomAAAAAAAA", parley.RoomUpdate{Name: &name}, now)
		if err != nil || r.Name != "new" {
			t.Fatalf("UpdateRoom: %+v, %v", r, err)
		}
		if err := s.DeleteRoom(ctx, "roomAAAAAAAA"); err != nil {
			t.Fatalf("DeleteRoom: %v", err)
		}
		msgs := got.wait(t, 2)
		if msgs[0].Kind != parley.RoomUpdated || msgs[0].Room == nil || msgs[0].Room.Name != "new" || msgs[1].Kind != parley.RoomDeleted {
			t.Fatalf("bus messages %+v %+v", msgs[0], msgs[1])
		}
		if diff := cmp.Diff([]string{"update roomAAAAAAAA", "delete roomAAAAAAAA"}, st.calls); diff != "" {
			t.Fatalf("store calls (-want +got):\n%s", diff)
		}
		if n := len(cl.records()); n != 0 {
			t.Fatalf("room changes made %d chat log records", n)
		}
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		s, _, st, _ := newService(t)
		st.err = parley.NotFound("room", "roomAAAAAAAA")
		got := subscribe(t, s.Bus, "roomAAAAAAAA")
		name := "new"
		if _, err := s.UpdateRoom(ctx, "roomAAAAAAAA", parley.RoomUpdate{Name: &name}, now); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
			t.Fatalf("UpdateRoom: err=%v, want ResourceNotFoundException", err)
		}
		if err := s.DeleteRoom(ctx, "roomAAAAAAAA"); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
			t.Fatalf("DeleteRoom: err=%v, want ResourceNotFoundException", err)
		}
		// A marker published after both shows that nothing came before it.
		if _, err := s.SendEvent(ctx, &parley.Room{ID: "roomAAAAAAAA"}, "", "marker", nil); err != nil {
			t.Fatal(err)
		}
		if msgs := got.wait(t, 1); len(msgs) != 1 || msgs[0].Kind != parley.Broadcast {
			t.Fatalf("a failed store write was published: %+v", msgs)
		}
	})
}

// TestFrameJSON: the frames are valid JSON whatever the attributes.
func TestFrameJSON(t *testing.T) {
	s, _, _, _ := newService(t)
	room := &parley.Room{ID: "roomAAAAAAAA"}
	got := subscribe(t, s.Bus, room.ID)
	if _, err := s.DisconnectUser(context.Background(), room, "", "ü\"\n", ""); err != nil {
		t.Fatal(err)
	}
	var f struct{ Attributes map[string]string }
	if err := json.Unmarshal(got.wait(t, 1)[0].Frame, &f); err != nil || f.Attributes["UserId"] != "ü\"\n" {
		t.Fatalf("frame: %+v, %v", f, err)
	}
}
