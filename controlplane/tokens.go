package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// tokenInput is the input of CreateChatToken.
type tokenInput struct {
	room         string
	userID       string
	capabilities []parley.Capability
	minutes      int
	attributes   map[string]string
}

func (in *tokenInput) resourceARN() string { return in.room }

func decodeCreateChatToken(s *Server, req *request) (*tokenInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	f.required("roomIdentifier")
	f.required("userId")
	in := &tokenInput{
		room:       deref(f.strOf("roomIdentifier", ruleRoomIdentifier)),
		userID:     deref(f.strOf("userId", ruleUserID)),
		minutes:    parley.DefaultSessionDurationInMinutes,
		attributes: f.attributes("attributes"),
	}
	for _, c := range deref(f.listOf("capabilities", -1, ruleCapability)) {
		in.capabilities = append(in.capabilities, parley.Capability(c))
	}
	if m := f.intIn("sessionDurationInMinutes", 1, 180); m != nil {
		in.minutes = *m
	}
	return in, f.err()
}

// tokenResponse is the output of CreateChatToken.
type tokenResponse struct {
	Token                 string `json:"token"`
	TokenExpirationTime   string `json:"tokenExpirationTime"`
	SessionExpirationTime string `json:"sessionExpirationTime"`
}

// appendJSON appends r as encoding/json would (no member needs HTML
// escaping: tokens are base64url, times RFC 3339).
func (r *tokenResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"token":`...)
	b = parley.AppendJSONString(b, r.Token)
	b = append(b, `,"tokenExpirationTime":`...)
	b = parley.AppendJSONString(b, r.TokenExpirationTime)
	b = append(b, `,"sessionExpirationTime":`...)
	b = parley.AppendJSONString(b, r.SessionExpirationTime)
	return append(b, '}')
}

func (s *Server) createChatToken(ctx context.Context, in *tokenInput) (any, error) {
	id, err := s.resolve(in.room, parley.ResourceRoom)
	if err != nil {
		return nil, err
	}
	room, err := s.Store.FindRoom(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find room: %w", err)
	}
	now := s.stamp()
	session := time.Duration(in.minutes) * time.Minute
	t := &parley.ChatToken{
		ID:     parley.NewTokenID(),
		RoomID: room.ID, RoomARN: room.ARN, UserID: in.userID,
		Capabilities: in.capabilities, Attributes: in.attributes,
		SessionExpiry:   now.Add(session),
		ConnectDeadline: parley.ConnectDeadlineFor(now, session),
	}
	sealed, err := s.Tokens.Seal(t)
	if err != nil {
		return nil, fmt.Errorf("seal chat token: %w", err)
	}
	return &tokenResponse{
		Token:                 sealed,
		TokenExpirationTime:   parley.FormatTime(t.ConnectDeadline),
		SessionExpirationTime: parley.FormatTime(t.SessionExpiry),
	}, nil
}
