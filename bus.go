package parley

import "context"

// BusKind says what a BusMessage asks the nodes to do.
type BusKind uint8

// BusKind values.
const (
	// Broadcast delivers Frame (a MESSAGE or EVENT) to every connection in
	// the room.
	Broadcast BusKind = iota + 1
	// DisconnectUser delivers Frame (the aws:DISCONNECT_USER EVENT) to the
	// room, then closes every connection of UserID in the room cleanly.
	DisconnectUser
	// RoomUpdated carries the room's new settings in Room; live connections
	// apply them at once.
	RoomUpdated
	// RoomDeleted ends every session in the room.
	RoomDeleted
)

// BusMessage is what travels on the Bus. Frame is serialised once by the
// publisher and shared, read-only, by every recipient.
type BusMessage struct {
	Kind   BusKind
	RoomID string
	Frame  []byte
	UserID string
	Room   *Room
}

// Bus carries room traffic between the nodes of a deployment: every node
// that subscribed to a room gets every message published to it, in the
// order one publisher published them, including the publisher's own node.
type Bus interface {
	// Publish sends m to every subscriber of m.RoomID.
	Publish(ctx context.Context, m *BusMessage) error

	// Subscribe calls fn for every message published to roomID until the
	// returned function is called. fn must not block: it runs on the bus's
	// delivery path. Messages to one subscription are delivered one at a
	// time, in order.
	Subscribe(roomID string, fn func(*BusMessage)) (unsubscribe func(), err error)

	// Close stops delivery. A networked bus flushes what was published
	// before it returns, until ctx is done.
	Close(ctx context.Context) error
}

// Limiter answers whether one more event fits a rate. Keys name what is
// limited (an API operation, a room); limit is events per second.
type Limiter interface {
	// Allow reports whether an event under key fits limit per second, and
	// counts it when it does.
	Allow(key string, limit int) bool
}
