package parley

import "time"

// Capability is a permission a chat token grants. Receiving messages needs
// none.
type Capability string

// Capability values.
const (
	CapabilitySendMessage    Capability = "SEND_MESSAGE"
	CapabilityDisconnectUser Capability = "DISCONNECT_USER"
	CapabilityDeleteMessage  Capability = "DELETE_MESSAGE"
)

// ChatToken is what a sealed chat token carries (package token seals it in
// a compact binary form).
type ChatToken struct {
	// ID is unique to the token; the Store records it when the token is
	// used, so that it opens one session only.
	ID           string
	RoomID       string
	RoomARN      string
	UserID       string
	Capabilities []Capability
	Attributes   map[string]string
	// ConnectDeadline is tokenExpirationTime: the token must be used by then.
	ConnectDeadline time.Time
	// SessionExpiry is sessionExpirationTime: the session ends then.
	SessionExpiry time.Time
}

// Can reports whether the token grants c.
func (t *ChatToken) Can(c Capability) bool {
	for _, x := range t.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// ConnectDeadlineFor returns tokenExpirationTime for a token issued at now
// whose session lasts session: min(TokenLifetime, session) after now. See
// docs/compatibility.md for why.
func ConnectDeadlineFor(now time.Time, session time.Duration) time.Time {
	return now.Add(min(TokenLifetime, session))
}

// AttributesSize is the size counted against MaxAttributesSize.
func AttributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}
