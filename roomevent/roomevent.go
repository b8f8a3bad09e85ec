// Package roomevent is the one path a room event takes, whichever edge it
// starts from: a chat message or a DELETE_MESSAGE / DISCONNECT_USER action
// on the messaging WebSocket, SendEvent, DeleteMessage, DisconnectUser,
// UpdateRoom or DeleteRoom on the control plane. An event is written to the
// Store when it changes a room, then published on the Bus (which reaches the
// connections of the room on every node), then, when it is a frame that
// clients receive, recorded in the chat log, once, on the node where it
// originated.
//
// A Service is built from plain fields by the edges that use it
// (messaging.Server and controlplane.Server build theirs from their own
// Store, Bus and ChatLog fields).
package roomevent

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleychat/parley"
)

// RoomWriter is what a Service needs of the Store: the two writes that are
// announced to live rooms. A parley.Store is one.
type RoomWriter interface {
	UpdateRoom(ctx context.Context, id string, upd parley.RoomUpdate, now time.Time) (*parley.Room, error)
	DeleteRoom(ctx context.Context, id string) error
}

// Service publishes room events. Set the fields before first use; the zero
// value of each optional one is documented.
type Service struct {
	// Store receives UpdateRoom and DeleteRoom. Nil: those two fail; the
	// other events need no store (the messaging side has none to write).
	Store RoomWriter
	// Bus carries the events to the room's connections on every node.
	Bus parley.Bus
	// ChatLog records every MESSAGE and EVENT after it was published. Nil:
	// no chat logging.
	ChatLog parley.ChatLog
	// Logger receives chat-log failures, which do not fail the event (it
	// has reached the room already). Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of SendTime. Nil means time.Now.
	Now func() time.Time
	// Origin names this node on the messages it publishes, so that the
	// others can tell its room messages from their own. Empty on a single
	// node.
	Origin string
}

// SendMessage publishes the MESSAGE msg, whose ID and SendTime are set, to
// room, then records it in the chat log with room (the room as the caller
// knows it: for a connection, the hub's live copy).
func (s *Service) SendMessage(ctx context.Context, room *parley.Room, msg *parley.Message) error {
	frame := msg.AppendJSON(make([]byte, 0, 256+len(msg.RequestID)+len(msg.Content)+2*parley.AttributesSize(msg.Attributes)))
	m := &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: frame, Origin: s.Origin, Rated: true}
	return s.publishFrame(ctx, room, m, parley.TypeMessage, msg.SendTime)
}

// SendEvent publishes an application EVENT to room and returns it.
// requestID is "" for a control-plane SendEvent.
func (s *Service) SendEvent(ctx context.Context, room *parley.Room, requestID, name string, attrs map[string]string) (*parley.Event, error) {
	return s.event(ctx, room, parley.Broadcast, "", requestID, name, attrs)
}

// DeleteMessage publishes the aws:DELETE_MESSAGE EVENT for messageID to
// room and returns it. reason "" means none.
func (s *Service) DeleteMessage(ctx context.Context, room *parley.Room, requestID, messageID, reason string) (*parley.Event, error) {
	attrs := parley.DeleteMessageAttributes(messageID, reason)
	return s.event(ctx, room, parley.Broadcast, "", requestID, parley.EventDeleteMessage, attrs)
}

// DisconnectUser publishes the aws:DISCONNECT_USER EVENT for userID to
// room, after which every node closes that user's connections in the room,
// and returns the event. reason "" means none.
func (s *Service) DisconnectUser(ctx context.Context, room *parley.Room, requestID, userID, reason string) (*parley.Event, error) {
	attrs := parley.DisconnectUserAttributes(userID, reason)
	return s.event(ctx, room, parley.DisconnectUser, userID, requestID, parley.EventDisconnectUser, attrs)
}

// UpdateRoom applies upd to the room in the Store, then publishes
// RoomUpdated, so that live connections apply the new settings, and returns
// the updated room. Store errors are returned as they are (wrapped).
func (s *Service) UpdateRoom(ctx context.Context, id string, upd parley.RoomUpdate, now time.Time) (*parley.Room, error) {
	if s.Store == nil {
		return nil, fmt.Errorf("update room %s: no store", id)
	}
	r, err := s.Store.UpdateRoom(ctx, id, upd, now)
	if err != nil {
		return nil, fmt.Errorf("update room: %w", err)
	}
	if err := s.Bus.Publish(ctx, &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: id, Room: r}); err != nil {
		return nil, fmt.Errorf("publish room update: %w", err)
	}
	return r, nil
}

// DeleteRoom deletes the room from the Store, then publishes RoomDeleted,
// which ends the room's sessions on every node.
func (s *Service) DeleteRoom(ctx context.Context, id string) error {
	if s.Store == nil {
		return fmt.Errorf("delete room %s: no store", id)
	}
	if err := s.Store.DeleteRoom(ctx, id); err != nil {
		return fmt.Errorf("delete room: %w", err)
	}
	if err := s.Bus.Publish(ctx, &parley.BusMessage{Kind: parley.RoomDeleted, RoomID: id}); err != nil {
		return fmt.Errorf("publish room deletion: %w", err)
	}
	return nil
}

// event serialises an EVENT once, with a fresh Id, and publishes it as
// kind.
func (s *Service) event(ctx context.Context, room *parley.Room, kind parley.BusKind, user, requestID, name string, attrs map[string]string) (*parley.Event, error) {
	ev := &parley.Event{ID: parley.NewID(), RequestID: requestID, EventName: name, Attributes: attrs, SendTime: s.now().UTC()}
	frame := ev.AppendJSON(make([]byte, 0, 192+len(requestID)+len(name)+2*parley.AttributesSize(attrs)))
	m := &parley.BusMessage{Kind: kind, RoomID: room.ID, Frame: frame, UserID: user}
	if err := s.publishFrame(ctx, room, m, parley.TypeEvent, ev.SendTime); err != nil {
		return nil, err
	}
	return ev, nil
}

// publishFrame puts m on the bus, then hands its frame to chat logging. A
// failed record is logged only: the frame has reached the room, and a
// caller that retried would deliver it twice.
func (s *Service) publishFrame(ctx context.Context, room *parley.Room, m *parley.BusMessage, typ string, at time.Time) error {
	if err := s.Bus.Publish(ctx, m); err != nil {
		return fmt.Errorf("publish to room %s: %w", m.RoomID, err)
	}
	if s.ChatLog == nil {
		return nil
	}
	rec := &parley.LogRecord{Room: room, Time: at, Type: typ, Payload: m.Frame}
	if err := s.ChatLog.Record(ctx, rec); err != nil {
		s.logger().ErrorContext(ctx, "record chat log", "room", m.RoomID, "type", typ, "err", err)
	}
	return nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
