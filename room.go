package parley

import "time"

// FallbackResult is what happens to a message when the review handler gives no
// usable answer.
type FallbackResult string

// FallbackResult values.
const (
	FallbackAllow FallbackResult = "ALLOW"
	FallbackDeny  FallbackResult = "DENY"
)

// Room is a chat room.
type Room struct {
	ID   string
	ARN  string
	Name string

	MaximumMessageRatePerSecond int
	MaximumMessageLength        int

	// MessageReviewHandler is nil when the room has none.
	MessageReviewHandler *MessageReviewHandler

	// LoggingConfigurationIdentifiers are the ARNs of the attached logging
	// configurations, in the order they were given.
	LoggingConfigurationIdentifiers []string

	Tags map[string]string

	CreateTime time.Time
	UpdateTime time.Time

	// Version is assigned by the store and grows with every change to the
	// room, its tags or its logging configurations, so that of two copies
	// of a room the newer is known without comparing clocks (UpdateTime
	// comes from the node that made the change). It is not part of the API.
	Version int64
}

// MessageReviewHandler reviews every message of a room before it is
// broadcast. URI is a Lambda ARN or, as a Parley extension, an http(s) URL.
type MessageReviewHandler struct {
	URI            string
	FallbackResult FallbackResult
}

// RoomUpdate is a patch for UpdateRoom: a nil member leaves the room's value
// unchanged. MessageReviewHandler with an empty URI removes the handler;
// an empty non-nil LoggingConfigurationIdentifiers clears the list.
type RoomUpdate struct {
	Name                            *string
	MaximumMessageRatePerSecond     *int
	MaximumMessageLength            *int
	MessageReviewHandler            *MessageReviewHandler
	LoggingConfigurationIdentifiers *[]string
}

// RoomFilter selects rooms for FindRooms. Rooms come sorted by UpdateTime
// descending, then ID descending. Set filters are combined with AND.
type RoomFilter struct {
	Name                           *string // exact match
	MessageReviewHandlerURI        *string // exact match
	LoggingConfigurationIdentifier *string // ARN attached to the room

	// After, when set, returns only rooms that sort after it.
	After *Cursor
	// Limit is the most rooms returned. Zero means no limit.
	Limit int
}

// Cursor is a position in a list sorted by (UpdateTime desc, ID desc).
type Cursor struct {
	UpdateTime time.Time
	ID         string
}
