package parley

import (
	"context"
	"time"
)

// Store keeps rooms, logging configurations, tags and the record of used
// chat tokens. A nil error from a method that writes means the change is
// durable. Every implementation passes store/storetest.
//
// Errors are *Error values with these codes; anything else is an internal
// failure.
type Store interface {
	// CreateRoom inserts r, whose ID, ARN and times are set. Its
	// LoggingConfigurationIdentifiers must name existing logging
	// configurations (ResourceNotFoundException with the bare ID otherwise).
	// When maxRooms > 0 and that many rooms exist already it returns
	// ServiceQuotaExceededException with Limit = maxRooms.
	CreateRoom(ctx context.Context, r *Room, maxRooms int) error

	// FindRoom returns the room with the bare ID id, or
	// ResourceNotFoundException.
	FindRoom(ctx context.Context, id string) (*Room, error)

	// FindRooms returns the rooms that match f, in its documented order.
	FindRooms(ctx context.Context, f RoomFilter) ([]*Room, error)

	// UpdateRoom applies upd to the room and sets its UpdateTime to now,
	// returning the updated room. ResourceNotFoundException for an unknown
	// room or logging configuration.
	UpdateRoom(ctx context.Context, id string, upd RoomUpdate, now time.Time) (*Room, error)

	// DeleteRoom deletes the room and its tags. ResourceNotFoundException
	// when it does not exist.
	DeleteRoom(ctx context.Context, id string) error

	// CreateLoggingConfiguration inserts c. When max > 0 and that many
	// configurations exist it returns ServiceQuotaExceededException.
	CreateLoggingConfiguration(ctx context.Context, c *LoggingConfiguration, max int) error

	// FindLoggingConfiguration returns one configuration or
	// ResourceNotFoundException.
	FindLoggingConfiguration(ctx context.Context, id string) (*LoggingConfiguration, error)

	// FindLoggingConfigurations returns configurations in the filter's order.
	FindLoggingConfigurations(ctx context.Context, f LoggingConfigurationFilter) ([]*LoggingConfiguration, error)

	// UpdateLoggingConfiguration applies upd, sets UpdateTime to now and
	// returns the result. ResourceNotFoundException when unknown.
	UpdateLoggingConfiguration(ctx context.Context, id string, upd LoggingConfigurationUpdate, now time.Time) (*LoggingConfiguration, error)

	// DeleteLoggingConfiguration deletes a configuration.
	// ResourceNotFoundException when unknown; ConflictException while a
	// room still has it attached.
	DeleteLoggingConfiguration(ctx context.Context, id string) error

	// FindTags returns the tags of the room or logging configuration named
	// by arn (never nil). ResourceNotFoundException when it does not exist.
	FindTags(ctx context.Context, arn ARN) (map[string]string, error)

	// TagResource adds or overwrites tags. When the result would hold more
	// than maxTags tags it changes nothing and returns ValidationException.
	TagResource(ctx context.Context, arn ARN, tags map[string]string, maxTags int) error

	// UntagResource removes the keys that exist and ignores the others.
	UntagResource(ctx context.Context, arn ARN, keys []string) error

	// UseToken records that the chat token tokenID was used to connect. It
	// returns ConflictException when it was used before. The record may be
	// forgotten after expiresAt, when the token can no longer be used.
	UseToken(ctx context.Context, tokenID string, expiresAt time.Time) error

	// Close releases the store. It waits for work in flight until ctx is
	// done.
	Close(ctx context.Context) error
}

// SecretStore keeps the values that every node of a deployment must share:
// the key that seals chat tokens, the API key pair generated on a first
// start. A store shared by several nodes implements it; the embedded store
// does not (a single node keeps those in files of its data dir).
type SecretStore interface {
	// LoadOrCreateSecret returns the secret stored under name. When there is
	// none it stores the result of create and returns it. When several nodes
	// race on a first start, every one of them gets the value stored first.
	LoadOrCreateSecret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)
}
