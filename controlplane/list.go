package controlplane

import (
	"context"
	"fmt"

	"github.com/parleychat/parley"
)

// listInput is the input of ListRooms and ListLoggingConfigurations (the
// filters belong to ListRooms only). An empty filter string means no filter.
type listInput struct {
	nextToken  string
	maxResults int
	name       string
	handlerURI string
	logging    string
}

func decodeList(f *fields) *listInput {
	in := &listInput{maxResults: parley.DefaultMaxResults}
	in.nextToken = deref(f.strOf("nextToken", rulePaginationTok))
	if n := f.intIn("maxResults", 1, parley.DefaultMaxResults); n != nil {
		in.maxResults = *n
	}
	return in
}

func decodeListRooms(s *Server, req *request) (*listInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	in := decodeList(f)
	in.name = deref(f.strOf("name", ruleName))
	in.handlerURI = deref(f.strOf("messageReviewHandlerUri", ruleLambdaArn))
	in.logging = deref(f.strOf("loggingConfigurationIdentifier", ruleLogIdentifier))
	return in, f.err()
}

func decodeListLogging(s *Server, req *request) (*listInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	in := decodeList(f)
	return in, f.err()
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// roomsResponse is the output of ListRooms.
type roomsResponse struct {
	Rooms     []*roomJSON `json:"rooms"`
	NextToken *string     `json:"nextToken,omitempty"`
}

func (s *Server) listRooms(ctx context.Context, in *listInput) (any, error) {
	if in.logging != "" {
		id, err := s.resolve(in.logging, parley.ResourceLoggingConfiguration)
		if err != nil {
			return nil, err
		}
		if _, err := s.Store.FindLoggingConfiguration(ctx, id); err != nil {
			return nil, fmt.Errorf("find logging configuration: %w", err)
		}
	}
	filter := filterHash("rooms", in.name, in.handlerURI, in.logging)
	after, err := s.decodeCursor(in.nextToken, filter)
	if err != nil {
		return nil, err
	}
	rooms, err := s.Store.FindRooms(ctx, parley.RoomFilter{
		Name: optional(in.name), MessageReviewHandlerURI: optional(in.handlerURI),
		LoggingConfigurationIdentifier: optional(in.logging),
		After:                          after, Limit: in.maxResults + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("find rooms: %w", err)
	}
	rooms, next := page(s, rooms, in.maxResults, filter, func(r *parley.Room) parley.Cursor {
		return parley.Cursor{UpdateTime: r.UpdateTime, ID: r.ID}
	})
	out := &roomsResponse{Rooms: make([]*roomJSON, len(rooms)), NextToken: next}
	for i, r := range rooms {
		out.Rooms[i] = roomSummary(r)
	}
	return out, nil
}

// loggingListResponse is the output of ListLoggingConfigurations.
type loggingListResponse struct {
	LoggingConfigurations []*loggingJSON `json:"loggingConfigurations"`
	NextToken             *string        `json:"nextToken,omitempty"`
}

func (s *Server) listLogging(ctx context.Context, in *listInput) (any, error) {
	filter := filterHash("logging-configurations")
	after, err := s.decodeCursor(in.nextToken, filter)
	if err != nil {
		return nil, err
	}
	cs, err := s.Store.FindLoggingConfigurations(ctx, parley.LoggingConfigurationFilter{
		After: after, Limit: in.maxResults + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("find logging configurations: %w", err)
	}
	cs, next := page(s, cs, in.maxResults, filter, func(c *parley.LoggingConfiguration) parley.Cursor {
		return parley.Cursor{UpdateTime: c.UpdateTime, ID: c.ID}
	})
	out := &loggingListResponse{LoggingConfigurations: make([]*loggingJSON, len(cs)), NextToken: next}
	for i, c := range cs {
		out.LoggingConfigurations[i] = loggingResponse(c)
	}
	return out, nil
}
