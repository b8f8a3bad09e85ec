package controlplane

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleychat/parley"
)

// eventInput is the input of SendEvent, DeleteMessage and DisconnectUser.
type eventInput struct {
	room       string
	eventName  string
	attributes map[string]string
	messageID  string
	userID     string
	reason     *string
}

func (in *eventInput) resourceARN() string { return in.room }

// eventFields decodes roomIdentifier and the other required members.
func eventFields(req *request, required ...string) (*fields, *eventInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, nil, err
	}
	f.required("roomIdentifier")
	for _, r := range required {
		f.required(r)
	}
	return f, &eventInput{room: deref(f.strOf("roomIdentifier", ruleRoomIdentifier))}, nil
}

func decodeSendEvent(s *Server, req *request) (*eventInput, error) {
	f, in, err := eventFields(req, "eventName")
	if err != nil {
		return nil, err
	}
	in.eventName = deref(f.strOf("eventName", ruleEventName))
	if strings.HasPrefix(in.eventName, "aws:") {
		f.fail("eventName", "must not start with aws:, which is reserved for system events")
	}
	in.attributes = f.attributes("attributes")
	return in, f.err()
}

func decodeDeleteMessage(s *Server, req *request) (*eventInput, error) {
	f, in, err := eventFields(req, "id")
	if err != nil {
		return nil, err
	}
	in.messageID = deref(f.strOf("id", ruleID))
	in.reason = f.strOf("reason", ruleReason)
	return in, f.err()
}

func decodeDisconnectUser(s *Server, req *request) (*eventInput, error) {
	f, in, err := eventFields(req, "userId")
	if err != nil {
		return nil, err
	}
	in.userID = deref(f.strOf("userId", ruleUserID))
	in.reason = f.strOf("reason", ruleReason)
	return in, f.err()
}

// idResponse is the output of SendEvent and DeleteMessage.
type idResponse struct {
	ID string `json:"id"`
}

func (s *Server) sendEvent(ctx context.Context, in *eventInput) (any, error) {
	id, err := s.emit(ctx, in.room, parley.Broadcast, "", in.eventName, in.attributes)
	if err != nil {
		return nil, err
	}
	return &idResponse{ID: id}, nil
}

func (s *Server) deleteMessage(ctx context.Context, in *eventInput) (any, error) {
	attrs := parley.DeleteMessageAttributes(in.messageID, deref(in.reason))
	id, err := s.emit(ctx, in.room, parley.Broadcast, "", parley.EventDeleteMessage, attrs)
	if err != nil {
		return nil, err
	}
	return &idResponse{ID: id}, nil
}

func (s *Server) disconnectUser(ctx context.Context, in *eventInput) (any, error) {
	attrs := parley.DisconnectUserAttributes(in.userID, deref(in.reason))
	if _, err := s.emit(ctx, in.room, parley.DisconnectUser, in.userID, parley.EventDisconnectUser, attrs); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// emit publishes an EVENT frame to the room, records it in the chat log and
// returns the event's ID.
func (s *Server) emit(ctx context.Context, roomARN string, kind parley.BusKind, userID, name string, attrs map[string]string) (string, error) {
	roomID, err := s.resolve(roomARN, parley.ResourceRoom)
	if err != nil {
		return "", err
	}
	room, err := s.Store.FindRoom(ctx, roomID)
	if err != nil {
		return "", fmt.Errorf("find room: %w", err)
	}
	ev := &parley.Event{ID: parley.NewID(), EventName: name, Attributes: attrs, SendTime: s.now().UTC()}
	frame := ev.AppendJSON(nil)
	msg := &parley.BusMessage{Kind: kind, RoomID: roomID, Frame: frame, UserID: userID}
	if err := s.Bus.Publish(ctx, msg); err != nil {
		return "", fmt.Errorf("publish event: %w", err)
	}
	if s.ChatLog != nil {
		rec := &parley.LogRecord{Room: room, Time: ev.SendTime, Type: parley.TypeEvent, Payload: frame}
		if err := s.ChatLog.Record(ctx, rec); err != nil {
			// The event reached the room; a failed log record must not
			// make the caller retry it.
			s.logger().ErrorContext(ctx, "record chat log", "room", roomID, "event", ev.ID, "error", err)
		}
	}
	return ev.ID, nil
}
