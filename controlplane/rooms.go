package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// DefaultMaxRooms is the room quota when Quotas.MaxRooms is zero.
const DefaultMaxRooms = 50000

// roomInput is the input of CreateRoom and UpdateRoom (identifier is unset
// for CreateRoom, tags for UpdateRoom).
type roomInput struct {
	identifier string
	name       *string
	rate       *int
	length     *int
	handler    *handlerInput
	tags       map[string]string
	logging    *[]string
}

type handlerInput struct {
	uri      *string
	fallback *string
}

func (in *roomInput) resourceARN() string { return in.identifier }

// identifierInput is the input of GetRoom, DeleteRoom and the logging
// configuration operations that take only an identifier.
type identifierInput struct{ identifier string }

func (in *identifierInput) resourceARN() string { return in.identifier }

func (s *Server) maxRoomRate() int {
	if s.MaxRoomRate > 0 {
		return s.MaxRoomRate
	}
	return 100
}

// roomMembers decodes the members CreateRoom and UpdateRoom share.
func (s *Server) roomMembers(f *fields) *roomInput {
	in := &roomInput{
		name:    f.strOf("name", ruleName),
		rate:    f.intIn("maximumMessageRatePerSecond", 1, s.maxRoomRate()),
		length:  f.intIn("maximumMessageLength", 1, 500),
		logging: f.listOf("loggingConfigurationIdentifiers", parley.MaxLoggingConfigurationsPerRoom, ruleLogIdentifier),
	}
	if in.logging != nil && hasDuplicates(*in.logging) {
		f.fail("loggingConfigurationIdentifiers", "must not contain duplicates")
	}
	if h := f.object("messageReviewHandler"); h != nil {
		in.handler = &handlerInput{
			uri:      h.strOf("uri", ruleLambdaArn),
			fallback: h.strOf("fallbackResult", ruleFallback),
		}
	}
	return in
}

func hasDuplicates(l []string) bool {
	seen := make(map[string]bool, len(l))
	for _, s := range l {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

func decodeCreateRoom(s *Server, req *request) (*roomInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	in := s.roomMembers(f)
	in.tags = f.mapOf("tags", parley.MaxTagsPerResource, ruleTagKey, ruleTagValue)
	return in, f.err()
}

func decodeUpdateRoom(s *Server, req *request) (*roomInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	f.required("identifier")
	id := f.strOf("identifier", ruleRoomIdentifier)
	in := s.roomMembers(f)
	in.identifier = deref(id)
	return in, f.err()
}

func decodeRoomIdentifier(s *Server, req *request) (*identifierInput, error) {
	return decodeIdentifier(req, ruleRoomIdentifier)
}

func decodeIdentifier(req *request, r strRule) (*identifierInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	f.required("identifier")
	id := f.strOf("identifier", r)
	return &identifierInput{identifier: deref(id)}, f.err()
}

// loggingIDs checks that every ARN names a logging configuration of this
// server; the store checks that they exist.
func (s *Server) loggingIDs(arns []string) ([]string, error) {
	for _, a := range arns {
		if _, err := s.resolve(a, parley.ResourceLoggingConfiguration); err != nil {
			return nil, err
		}
	}
	return append([]string{}, arns...), nil
}

func (s *Server) createRoom(ctx context.Context, in *roomInput) (any, error) {
	now := s.stamp()
	id := parley.NewID()
	r := &parley.Room{
		ID: id, ARN: s.arn(parley.ResourceRoom, id), Name: deref(in.name),
		MaximumMessageRatePerSecond: parley.DefaultMaximumMessageRatePerSecond,
		MaximumMessageLength:        parley.DefaultMaximumMessageLength,
		Tags:                        in.tags,
		CreateTime:                  now, UpdateTime: now,
	}
	if in.rate != nil {
		r.MaximumMessageRatePerSecond = *in.rate
	}
	if in.length != nil {
		r.MaximumMessageLength = *in.length
	}
	if in.handler != nil && deref(in.handler.uri) != "" {
		r.MessageReviewHandler = newHandler(*in.handler.uri, in.handler.fallback)
	}
	var err error
	if r.LoggingConfigurationIdentifiers, err = s.loggingIDs(deref(in.logging)); err != nil {
		return nil, err
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	if err := s.Store.CreateRoom(ctx, r, quota(s.Quotas.MaxRooms, DefaultMaxRooms)); err != nil {
		return nil, fmt.Errorf("create room: %w", err)
	}
	return roomResponse(r), nil
}

func newHandler(uri string, fallback *string) *parley.MessageReviewHandler {
	fb := parley.FallbackAllow
	if fallback != nil {
		fb = parley.FallbackResult(*fallback)
	}
	return &parley.MessageReviewHandler{URI: uri, FallbackResult: fb}
}

func (s *Server) getRoom(ctx context.Context, in *identifierInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceRoom)
	if err != nil {
		return nil, err
	}
	r, err := s.Store.FindRoom(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find room: %w", err)
	}
	return roomResponse(r), nil
}

func (s *Server) updateRoom(ctx context.Context, in *roomInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceRoom)
	if err != nil {
		return nil, err
	}
	cur, err := s.Store.FindRoom(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find room: %w", err)
	}
	upd := parley.RoomUpdate{
		Name: in.name, MaximumMessageRatePerSecond: in.rate, MaximumMessageLength: in.length,
		MessageReviewHandler: handlerPatch(cur.MessageReviewHandler, in.handler),
	}
	if in.logging != nil {
		ids, err := s.loggingIDs(*in.logging)
		if err != nil {
			return nil, err
		}
		upd.LoggingConfigurationIdentifiers = &ids
	}
	now := s.stamp()
	if next := cur.UpdateTime.Add(time.Millisecond); now.Before(next) {
		now = next
	}
	r, err := s.events.UpdateRoom(ctx, id, upd, now)
	if err != nil {
		return nil, err
	}
	return roomResponse(r), nil
}

// handlerPatch turns the messageReviewHandler member of UpdateRoom into the
// store's patch: a uri replaces the handler ("" removes it); a
// fallbackResult alone changes the current handler's.
func handlerPatch(cur *parley.MessageReviewHandler, in *handlerInput) *parley.MessageReviewHandler {
	switch {
	case in == nil:
		return nil
	case in.uri != nil && *in.uri == "":
		return &parley.MessageReviewHandler{}
	case in.uri != nil:
		return newHandler(*in.uri, in.fallback)
	case cur != nil && in.fallback != nil:
		return newHandler(cur.URI, in.fallback)
	}
	return nil
}

func (s *Server) deleteRoom(ctx context.Context, in *identifierInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceRoom)
	if err != nil {
		return nil, err
	}
	if err := s.events.DeleteRoom(ctx, id); err != nil {
		return nil, err
	}
	return noContent{}, nil
}
