// Package parley is the vocabulary of Parley, a self-hosted chat service that
// speaks the Amazon IVS Chat API: rooms, logging configurations, chat tokens,
// the frames sent over the messaging WebSocket, the error type whose codes are
// the IVS exception names, and the interfaces that the adapters implement
// (Store, Bus, Limiter, Reviewer, ChatLog).
//
// It imports only the standard library. Everything that talks to the outside
// world lives in a package of its own and is wired together in cmd/parley.
package parley

import "time"

// Version is the Parley release, set at link time with
// -ldflags "-X github.com/parleychat/parley.Version=…".
var Version = "dev"

// Defaults documented by IVS Chat.
const (
	DefaultMaximumMessageRatePerSecond = 10
	DefaultMaximumMessageLength        = 500
	DefaultSessionDurationInMinutes    = 60
	DefaultMaxResults                  = 50

	// MaxLoggingConfigurationsPerRoom is the length limit of a room's
	// loggingConfigurationIdentifiers.
	MaxLoggingConfigurationsPerRoom = 3
	// MaxTagsPerResource is the number of tags a room or logging
	// configuration may carry.
	MaxTagsPerResource = 50
	// MaxAttributesSize is the "1 KB total" limit of chat token and event
	// attributes: the sum of the UTF-8 lengths of every key and value.
	MaxAttributesSize = 1024
	// TokenLifetime is the longest time a chat token may be used to connect
	// (tokenExpirationTime − issue time); shorter sessions shorten it.
	TokenLifetime = 60 * time.Minute
)

// TimeFormat is how control-plane timestamps are written: RFC 3339 in UTC
// with millisecond precision and a trailing Z, accepted by every AWS SDK.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime writes t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
