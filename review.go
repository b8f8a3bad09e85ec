package parley

import "context"

// ReviewRequest is what a message review handler receives (PascalCase keys,
// as IVS sends them).
type ReviewRequest struct {
	Content    string            `json:"Content"`
	MessageID  string            `json:"MessageId"`
	RoomARN    string            `json:"RoomArn"`
	Attributes map[string]string `json:"Attributes"`
	Sender     ReviewSender      `json:"Sender"`
}

// ReviewSender describes the author of a reviewed message.
type ReviewSender struct {
	Attributes map[string]string `json:"Attributes"`
	UserID     string            `json:"UserId"`
	IP         string            `json:"Ip"`
}

// ReviewResult values.
const (
	ReviewAllow = "ALLOW"
	ReviewDeny  = "DENY"
)

// ReviewResponse is a handler's answer. Content and Attributes, when
// present, replace the message's own.
type ReviewResponse struct {
	ReviewResult string            `json:"ReviewResult"`
	Content      *string           `json:"Content,omitempty"`
	Attributes   map[string]string `json:"Attributes,omitempty"`
}

// Reviewer invokes the message review handler at uri. Any error (timeout,
// invocation failure, function error, invalid reply) makes the room's
// fallbackResult apply. The reply is checked against the response syntax;
// the caller checks it against the room (a rewritten Content longer than
// the room's maximumMessageLength is invalid too).
type Reviewer interface {
	Review(ctx context.Context, uri string, req *ReviewRequest) (*ReviewResponse, error)
}
