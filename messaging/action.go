package messaging

import (
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

// Client actions.
const (
	actionSendMessage    = "SEND_MESSAGE"
	actionDeleteMessage  = "DELETE_MESSAGE"
	actionDisconnectUser = "DISCONNECT_USER"
)

// request is a client frame. encoding/json matches keys without regard to
// case, as the real service seems to; a nil member was absent or null.
type request struct {
	Action     *string
	RequestID  *string `json:"RequestId"`
	Content    *string
	Attributes map[string]string
	ID         *string `json:"Id"`
	Reason     *string
	UserID     *string `json:"UserId"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// handle answers one client frame. Failures go back to this connection
// only, as an ERROR frame; the connection stays open.
func (c *conn) handle(data []byte) {
	c.mu.Lock()
	closing := c.state != stateOpen
	c.mu.Unlock()
	if closing { // requests that cross our close frame are dropped
		return
	}
	req, rid, err := decodeRequest(data)
	if err != nil {
		c.fail(rid, err)
		return
	}
	switch action := *req.Action; action {
	case actionSendMessage, actionDeleteMessage, actionDisconnectUser:
		if !c.allowConn() {
			err = parley.Errorf(parley.ThrottlingException, "too many requests on this connection")
			break
		}
		switch action {
		case actionSendMessage:
			err = c.sendMessage(rid, req)
		case actionDeleteMessage:
			err = c.deleteMessage(rid, req)
		default:
			err = c.disconnectUser(rid, req)
		}
	default:
		err = parley.FieldErrorf("Action", "unknown action %q", action)
	}
	if err != nil {
		c.fail(rid, err)
	}
}

// decodeRequest decodes a client frame into a request that has an Action,
// or returns the error to answer with; rid is the RequestId to echo.
func decodeRequest(data []byte) (req *request, rid string, err error) {
	req = new(request)
	if err := json.Unmarshal(data, req); err != nil {
		return nil, deref(req.RequestID), decodeError(err)
	}
	rid = deref(req.RequestID)
	if len(rid) > maxRequestIDLength {
		return nil, "", parley.Errorf(parley.PayloadTooLarge, "RequestId is longer than %d bytes", maxRequestIDLength)
	}
	if req.Action == nil {
		return nil, rid, parley.FieldErrorf("Action", "is required")
	}
	return req, rid, nil
}

// decodeError describes why a frame could not be decoded.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return parley.Errorf(parley.ValidationException, "request must be a JSON object")
		}
		return parley.FieldErrorf(te.Field, "must not be a JSON %s", te.Value)
	}
	return parley.Errorf(parley.ValidationException, "request is not valid JSON")
}

func capabilityError(c parley.Capability) error {
	return parley.Errorf(parley.AccessDeniedException, "the chat token does not grant the %s capability", c)
}

// checkReason validates an optional Reason.
func checkReason(r *string) (string, error) {
	reason := deref(r)
	if utf8.RuneCountInString(reason) > maxReasonLength {
		return "", parley.Errorf(parley.PayloadTooLarge, "Reason is longer than %d characters", maxReasonLength)
	}
	return reason, nil
}

func (c *conn) sendMessage(rid string, req *request) error {
	if !c.token.Can(parley.CapabilitySendMessage) {
		return capabilityError(parley.CapabilitySendMessage)
	}
	if req.Content == nil {
		return parley.FieldErrorf("Content", "is required")
	}
	room := c.room.Settings()
	maxLen := orDefault(room.MaximumMessageLength, parley.DefaultMaximumMessageLength)
	if n := utf8.RuneCountInString(*req.Content); n > maxLen {
		return parley.FieldErrorf("Content", "is %d characters long; this room allows at most %d", n, maxLen)
	}
	if parley.AttributesSize(req.Attributes) > parley.MaxAttributesSize {
		return parley.Errorf(parley.PayloadTooLarge, "Attributes exceed %d bytes in total", parley.MaxAttributesSize)
	}
	if !c.allowRoom(room) {
		return parley.Errorf(parley.ThrottlingException, "the room's message rate is exceeded")
	}
	id := parley.NewID()
	content, attrs, err := c.review(room, id, *req.Content, req.Attributes)
	if err != nil {
		return err
	}
	msg := &parley.Message{
		ID: id, RequestID: rid, Attributes: attrs, Content: content, SendTime: c.srv.now().UTC(),
		Sender: parley.Sender{UserID: c.token.UserID, Attributes: c.token.Attributes},
	}
	return c.srv.events.SendMessage(c.ctx, c.room.Settings(), msg)
}

func (c *conn) deleteMessage(rid string, req *request) error {
	if !c.token.Can(parley.CapabilityDeleteMessage) {
		return capabilityError(parley.CapabilityDeleteMessage)
	}
	if req.ID == nil {
		return parley.FieldErrorf("Id", "is required")
	}
	if !parley.ValidID(*req.ID) {
		return parley.FieldErrorf("Id", "must be the 12-character Id of a message")
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return err
	}
	_, err = c.srv.events.DeleteMessage(c.ctx, c.room.Settings(), rid, *req.ID, reason)
	return err
}

func (c *conn) disconnectUser(rid string, req *request) error {
	if !c.token.Can(parley.CapabilityDisconnectUser) {
		return capabilityError(parley.CapabilityDisconnectUser)
	}
	user := deref(req.UserID)
	if user == "" {
		return parley.FieldErrorf("UserId", "is required")
	}
	if utf8.RuneCountInString(user) > maxUserIDLength {
		return parley.Errorf(parley.PayloadTooLarge, "UserId is longer than %d characters", maxUserIDLength)
	}
	reason, err := checkReason(req.Reason)
	if err != nil {
		return err
	}
	_, err = c.srv.events.DisconnectUser(c.ctx, c.room.Settings(), rid, user, reason)
	return err
}

// allowConn counts one request against the connection's rate, in windows
// of one second.
func (c *conn) allowConn() bool {
	rate := orDefault(c.srv.ConnectionRate, defaultConnectionRate)
	if c.srv.Limiter == nil || rate < 0 {
		return true
	}
	now := c.srv.now()
	if now.Sub(c.rateStart) >= time.Second || now.Before(c.rateStart) {
		c.rateStart, c.rateCount = now, 0
	}
	if c.rateCount >= rate {
		return false
	}
	c.rateCount++
	return true
}

// allowRoom counts one message against the room's rate, shared by every
// connection of the room on every node.
func (c *conn) allowRoom(room *parley.Room) bool {
	if c.srv.Limiter == nil {
		return true
	}
	return c.srv.Limiter.Allow("room:"+room.ID, roomRate(room, c.srv.MaxRoomRate))
}

// roomRate is the limit applied to room: its maximumMessageRatePerSecond,
// except that an operator ceiling above the model's maximum (100) lifts
// rooms configured at 100 to it, and one below caps every room.
func roomRate(room *parley.Room, ceiling int) int {
	const modelMax = 100
	limit := orDefault(room.MaximumMessageRatePerSecond, parley.DefaultMaximumMessageRatePerSecond)
	ceiling = orDefault(ceiling, modelMax)
	switch {
	case ceiling > modelMax && limit == modelMax:
		return ceiling
	case ceiling < limit:
		return ceiling
	}
	return limit
}
