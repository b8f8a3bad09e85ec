package messaging

import (
	"context"
	"unicode/utf8"

	"github.com/parleychat/parley"
)

var errDenied = parley.Errorf(parley.MessageRejected, "message rejected by the room's review handler")

// review runs the room's message review handler, if any, and returns the
// content and attributes to broadcast, or MessageRejected. A failed,
// late or invalid review yields the room's fallbackResult: ALLOW delivers
// the original message. It runs on the connection's reader and holds no
// lock, so a slow handler delays only this connection.
func (c *conn) review(room *parley.Room, id, content string, attrs map[string]string) (string, map[string]string, error) {
	h := room.MessageReviewHandler
	if h == nil || h.URI == "" {
		return content, attrs, nil
	}
	resp, err := c.askReviewer(room, h.URI, id, content, attrs)
	if err != nil {
		c.srv.logger().Warn("message review failed; applying fallbackResult",
			"room", room.ID, "handler", h.URI, "fallback", h.FallbackResult, "err", err)
		deny := h.FallbackResult == parley.FallbackDeny
		c.srv.metrics.countFallback(deny)
		if deny {
			return "", nil, errDenied
		}
		return content, attrs, nil
	}
	if resp.ReviewResult == parley.ReviewDeny {
		return "", nil, errDenied
	}
	if resp.Content != nil {
		content = *resp.Content
	}
	if resp.Attributes != nil {
		attrs = resp.Attributes
	}
	return content, attrs, nil
}

// askReviewer invokes the handler within ReviewTimeout and checks the
// reply; any problem is an error.
func (c *conn) askReviewer(room *parley.Room, uri, id, content string, attrs map[string]string) (*parley.ReviewResponse, error) {
	s := c.srv
	if s.Reviewer == nil {
		return nil, parley.Errorf(parley.InternalServerException, "no reviewer configured")
	}
	ctx, cancel := context.WithTimeout(c.ctx, orDefault(s.ReviewTimeout, defaultReviewTimeout))
	defer cancel()
	maxLen := orDefault(room.MaximumMessageLength, parley.DefaultMaximumMessageLength)
	req := &parley.ReviewRequest{
		Content:    content,
		MessageID:  id,
		RoomARN:    room.ARN,
		Attributes: orEmpty(attrs),
		Sender:     parley.ReviewSender{Attributes: orEmpty(c.token.Attributes), UserID: c.token.UserID, IP: c.ip},
	}
	resp, err := s.Reviewer.Review(ctx, uri, req)
	if err == nil {
		err = ctx.Err() // a reviewer that ignored the deadline is late all the same
	}
	if err != nil {
		return nil, err
	}
	if resp == nil || (resp.ReviewResult != parley.ReviewAllow && resp.ReviewResult != parley.ReviewDeny) {
		return nil, parley.Errorf(parley.InternalServerException, "invalid review reply: ReviewResult must be ALLOW or DENY")
	}
	if resp.Content != nil && utf8.RuneCountInString(*resp.Content) > maxLen {
		return nil, parley.Errorf(parley.InternalServerException, "invalid review reply: Content longer than %d characters", maxLen)
	}
	return resp, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
