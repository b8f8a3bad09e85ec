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
	room, err := s.findRoom(ctx, in.room)
	if err != nil {
		return nil, err
	}
	ev, err := s.events.SendEvent(ctx, room, "", in.eventName, in.attributes)
	if err != nil {
		return nil, err
	}
	return &idResponse{ID: ev.ID}, nil
}

func (s *Server) deleteMessage(ctx context.Context, in *eventInput) (any, error) {
	room, err := s.findRoom(ctx, in.room)
	if err != nil {
		return nil, err
	}
	ev, err := s.events.DeleteMessage(ctx, room, "", in.messageID, deref(in.reason))
	if err != nil {
		return nil, err
	}
	return &idResponse{ID: ev.ID}, nil
}

func (s *Server) disconnectUser(ctx context.Context, in *eventInput) (any, error) {
	room, err := s.findRoom(ctx, in.room)
	if err != nil {
		return nil, err
	}
	if _, err := s.events.DisconnectUser(ctx, room, "", in.userID, deref(in.reason)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// findRoom returns the room named by the ARN roomARN.
func (s *Server) findRoom(ctx context.Context, roomARN string) (*parley.Room, error) {
	id, err := s.resolve(roomARN, parley.ResourceRoom)
	if err != nil {
		return nil, err
	}
	room, err := s.Store.FindRoom(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find room: %w", err)
	}
	return room, nil
}
