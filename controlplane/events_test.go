package controlplane_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/ratelimit"
)

// eventFrame is an EVENT frame as clients decode it.
type eventFrame struct {
	Type       string
	Id         string
	RequestId  string
	EventName  string
	Attributes map[string]string
	SendTime   time.Time
}

func decodeFrame(t *testing.T, b []byte) eventFrame {
	t.Helper()
	var f eventFrame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode frame %s: %v", b, err)
	}
	return f
}

func TestEvents(t *testing.T) {
	now := time.Date(2025, 8, 14, 5, 50, 5, 533134508, time.UTC)
	e := newEnv(t, func(s *controlplane.Server) { s.Now = func() time.Time { return now } })
	ctx := context.Background()
	room := e.mustCreateRoom(t, nil)
	bus := e.subscribe(t, *room.Id)
	sent, err := e.client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("poll"),
		Attributes: map[string]string{"q": "yes?"}})
	if err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	deleted, err := e.client.DeleteMessage(ctx, &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("M2YcHkgffEvU"), Reason: aws.String("spam")})
	if err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if _, err := e.client.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u1"), Reason: aws.String("bye")}); err != nil {
		t.Fatalf("DisconnectUser: %v", err)
	}
	if _, err := e.client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("bare")}); err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	msgs := bus.wait(t, 4)
	kinds := []parley.BusKind{parley.Broadcast, parley.Broadcast, parley.DisconnectUser, parley.Broadcast}
	want := []eventFrame{
		{Type: "EVENT", Id: *sent.Id, EventName: "poll", Attributes: map[string]string{"q": "yes?"}, SendTime: now},
		{Type: "EVENT", Id: *deleted.Id, EventName: "aws:DELETE_MESSAGE",
			Attributes: map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU", "Reason": "spam"}, SendTime: now},
		{Type: "EVENT", EventName: "aws:DISCONNECT_USER", Attributes: map[string]string{"UserId": "u1", "Reason": "bye"}, SendTime: now},
		{Type: "EVENT", EventName: "bare", Attributes: map[string]string{}, SendTime: now},
	}
	recs := e.chatLog.records()
	if len(recs) != 4 {
		t.Fatalf("chat log has %d records, want 4", len(recs))
	}
	for i, m := range msgs {
		got := decodeFrame(t, m.Frame)
		if !parley.ValidID(got.Id) || m.Kind != kinds[i] || m.RoomID != *room.Id {
			t.Fatalf("message %d: kind=%d room=%s id=%q", i, m.Kind, m.RoomID, got.Id)
		}
		if diff := cmp.Diff(want[i], got, cmpopts.IgnoreFields(eventFrame{}, ifID(i, 2, 3)...)); diff != "" {
			t.Fatalf("frame %d (-want +got):\n%s", i, diff)
		}
		if r := recs[i]; r.Room == nil || r.Room.ARN != *room.Arn || r.Type != "EVENT" || !r.Time.Equal(now) || string(r.Payload) != string(m.Frame) {
			t.Fatalf("chat log record %d: %+v", i, r)
		}
	}
	if got := msgs[2].UserID; got != "u1" {
		t.Fatalf("DisconnectUser bus UserID=%q", got)
	}
}

// TestSystemEventsNoReason: without a reason, aws:DELETE_MESSAGE and
// aws:DISCONNECT_USER carry no Reason attribute at all (not "Reason":""),
// as the messaging actions send them.
func TestSystemEventsNoReason(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	room := e.mustCreateRoom(t, nil)
	bus := e.subscribe(t, *room.Id)
	if _, err := e.client.DeleteMessage(ctx, &ivschat.DeleteMessageInput{RoomIdentifier: room.Arn, Id: aws.String("M2YcHkgffEvU")}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if _, err := e.client.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: room.Arn, UserId: aws.String("u1")}); err != nil {
		t.Fatalf("DisconnectUser: %v", err)
	}
	msgs := bus.wait(t, 2)
	want := []map[string]string{
		{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU"},
		{"UserId": "u1"},
	}
	for i, m := range msgs {
		if diff := cmp.Diff(want[i], decodeFrame(t, m.Frame).Attributes); diff != "" {
			t.Errorf("event %d Attributes (-want +got):\n%s", i, diff)
		}
	}
}

// ifID ignores Id for the frames whose id the test cannot know.
func ifID(i int, unknown ...int) []string {
	for _, u := range unknown {
		if i == u {
			return []string{"Id"}
		}
	}
	return nil
}

func TestEventErrors(t *testing.T) {
	e := newEnv(t, func(s *controlplane.Server) {
		// A stopped clock: the bucket never refills, so exactly the burst
		// of 2 passes.
		l := ratelimit.NewLocal()
		l.Now = func() time.Time { return time.Unix(1e9, 0) }
		s.Limiter = l
		s.RateLimits = map[string]int{"SendEvent": 2}
	})
	ctx := context.Background()
	room := e.mustCreateRoom(t, nil)
	t.Run("ErrReservedName", func(t *testing.T) {
		_, err := e.client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("aws:DELETE_MESSAGE")})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || *ve.FieldList[0].Name != "eventName" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
	t.Run("ErrAttributesTooLarge", func(t *testing.T) {
		big := string(make([]byte, parley.MaxAttributesSize))
		_, err := e.client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("e"), Attributes: map[string]string{"k": big}})
		ve := as[*types.ValidationException](t, err)
		if *ve.FieldList[0].Name != "attributes" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		arn := roomARN("NoSuchRoom12")
		_, err := e.client.DeleteMessage(ctx, &ivschat.DeleteMessageInput{RoomIdentifier: &arn, Id: aws.String("M2YcHkgffEvU")})
		as[*types.ResourceNotFoundException](t, err)
		_, err = e.client.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: &arn, UserId: aws.String("u")})
		as[*types.ResourceNotFoundException](t, err)
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		in := &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("e")}
		for i := 0; i < 2; i++ {
			if _, err := e.client.SendEvent(ctx, in); err != nil {
				t.Fatalf("SendEvent %d: %v", i, err)
			}
		}
		_, err := e.client.SendEvent(ctx, in)
		te := as[*types.ThrottlingException](t, err)
		if te.Limit != 2 || aws.ToString(te.ResourceId) != *room.Id || te.ResourceType != types.ResourceTypeRoom {
			t.Fatalf("limit=%d resourceId=%q resourceType=%q", te.Limit, aws.ToString(te.ResourceId), te.ResourceType)
		}
	})
}

func TestCreateChatToken(t *testing.T) {
	now := time.Date(2024, 1, 19, 16, 22, 35, 123456789, time.UTC)
	e := newEnv(t, func(s *controlplane.Server) { s.Now = func() time.Time { return now } })
	ctx := context.Background()
	room := e.mustCreateRoom(t, nil)
	ms := now.Truncate(time.Millisecond)
	tests := []struct {
		name    string
		in      ivschat.CreateChatTokenInput
		session time.Duration
		token   time.Duration
	}{
		{"Defaults", ivschat.CreateChatTokenInput{UserId: aws.String("u")}, time.Hour, time.Hour},
		{"Short", ivschat.CreateChatTokenInput{UserId: aws.String("u"), SessionDurationInMinutes: aws.Int32(1)}, time.Minute, time.Minute},
		{"Long", ivschat.CreateChatTokenInput{UserId: aws.String("ü"), SessionDurationInMinutes: aws.Int32(180),
			Capabilities: []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage, types.ChatTokenCapabilityDeleteMessage},
			Attributes:   map[string]string{"name": "Ann"}}, 3 * time.Hour, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.RoomIdentifier = room.Arn
			out, err := e.client.CreateChatToken(ctx, &in)
			if err != nil {
				t.Fatalf("CreateChatToken: %v", err)
			}
			if !out.SessionExpirationTime.Equal(ms.Add(tt.session)) || !out.TokenExpirationTime.Equal(ms.Add(tt.token)) {
				t.Fatalf("session=%v token=%v", out.SessionExpirationTime, out.TokenExpirationTime)
			}
			var caps []parley.Capability
			for _, c := range in.Capabilities {
				caps = append(caps, parley.Capability(c))
			}
			want := &parley.ChatToken{RoomID: *room.Id, RoomARN: *room.Arn, UserID: *in.UserId, Capabilities: caps,
				Attributes: in.Attributes, ConnectDeadline: ms.Add(tt.token), SessionExpiry: ms.Add(tt.session)}
			got := e.unseal(t, *out.Token)
			if len(got.ID) != 24 {
				t.Fatalf("token id %q", got.ID)
			}
			got.ID = ""
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("claims (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		_, err := e.client.CreateChatToken(ctx, &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(roomARN("NoSuchRoom12")), UserId: aws.String("u")})
		as[*types.ResourceNotFoundException](t, err)
	})
	t.Run("ErrCapability", func(t *testing.T) {
		_, err := e.client.CreateChatToken(ctx, &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("u"),
			Capabilities: []types.ChatTokenCapability{"VIEW"}})
		ve := as[*types.ValidationException](t, err)
		if *ve.FieldList[0].Name != "capabilities" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
}
