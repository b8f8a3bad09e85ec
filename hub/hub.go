// Package hub knows which local connections are in which room and fans bus
// traffic out to them without ever blocking: each connection has its own
// bounded queue, and one whose queue is full is closed as a slow consumer.
//
// A room is subscribed to the Bus while it has at least one local
// connection: on the first Join and until the last Leave.
//
// A room's settings change with RoomUpdated only to a newer copy: the
// higher Version when both copies have one (copies published by different
// nodes may arrive out of order), else the later or equal UpdateTime. A
// bus that may lose messages (NATS across a reconnect) is made good by
// RefreshRooms, after each reconnect and on a period.
//
// Lock order: shard.mu, then Room.mu. Neither is held while subscribing to
// or unsubscribing from the Bus, nor while a connection is closed.
package hub

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/parleychat/parley"
)

// CloseReason says why the hub closes a connection.
type CloseReason uint8

// CloseReason values.
const (
	// CloseSlowConsumer: the connection's queue was full. Close at once; the
	// client may reconnect.
	CloseSlowConsumer CloseReason = iota + 1
	// CloseDisconnected: DisconnectUser named the connection's user. Close
	// cleanly after the frames already queued, so the client stays away.
	CloseDisconnected
	// CloseRoomDeleted: the room was deleted. Close cleanly.
	CloseRoomDeleted
)

// Conn is what the hub needs of a connection.
type Conn interface {
	// Enqueue adds frame to the connection's send queue without blocking;
	// frame is shared with other connections and must not be modified. It
	// returns false when the queue is full.
	Enqueue(frame []byte) bool
	// Close ends the connection for reason without blocking.
	Close(reason CloseReason)
	// UserID is the user the connection belongs to.
	UserID() string
}

const numShards = 32

// Hub is the set of rooms with local connections. Create it with New.
type Hub struct {
	// Observe, when set before the first Join, is called with every
	// Broadcast a room receives and the room's settings as the hub holds
	// them, before the frame is fanned out. It must not block.
	Observe func(m *parley.BusMessage, room *parley.Room)

	bus   parley.Bus
	seed  maphash.Seed
	slow  atomic.Uint64
	shard [numShards]shard
}

type shard struct {
	mu    sync.Mutex
	rooms map[string]*Room
}

// New returns a Hub whose rooms receive their traffic from bus.
func New(bus parley.Bus) *Hub {
	h := &Hub{bus: bus, seed: maphash.MakeSeed()}
	for i := range h.shard {
		h.shard[i].rooms = make(map[string]*Room)
	}
	return h
}

func (h *Hub) shardOf(roomID string) *shard {
	return &h.shard[maphash.String(h.seed, roomID)%numShards]
}

// SlowConsumerCloses is the number of connections closed because their
// queue was full.
func (h *Hub) SlowConsumerCloses() uint64 { return h.slow.Load() }

// Join adds c to the room described by room (as the caller loaded it from
// the Store), subscribing the room to the bus when c is its first local
// connection. The returned Room holds the settings shared by the room's
// connections; pass it to Leave when c ends.
//
// A room's settings loaded before the hub subscribed may have missed an
// update or a deletion published in between. Until one Refresh after the
// subscription has happened, Join returns refresh true: the caller should
// read the room from the Store and pass it to Refresh (every joiner is
// asked, so that a failed read is retried by the next). Joining a room
// whose deletion the hub has seen fails with ResourceNotFoundException.
func (h *Hub) Join(room *parley.Room, c Conn) (r *Room, refresh bool, err error) {
	s := h.shardOf(room.ID)
	s.mu.Lock()
	r = s.rooms[room.ID]
	creator := r == nil
	if creator {
		r = newRoom(h, room)
		s.rooms[room.ID] = r
	}
	r.refs++
	s.mu.Unlock()

	if creator {
		r.unsub, r.err = h.bus.Subscribe(room.ID, r.deliver)
		close(r.ready)
	} else {
		<-r.ready
	}
	if r.err != nil {
		h.release(r)
		return nil, false, r.err
	}
	if !r.add(c) {
		h.release(r)
		return nil, false, parley.NotFound("room", room.ID)
	}
	r.offerSettings(room)
	return r, !r.refreshed.Load(), nil
}

// Leave removes c from r and unsubscribes the room from the bus when it
// was the last local connection. Leaving twice is harmless.
func (h *Hub) Leave(r *Room, c Conn) {
	if r.remove(c) {
		h.release(r)
	}
}

// release drops one reference to r taken by Join.
func (h *Hub) release(r *Room) {
	s := h.shardOf(r.id)
	s.mu.Lock()
	r.refs--
	last := r.refs == 0
	if last && s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	s.mu.Unlock()
	if last && r.unsub != nil {
		r.unsub()
	}
}

// Rooms calls fn with every room that has local connections and their
// number. fn must not call the Hub.
func (h *Hub) Rooms(fn func(roomID string, conns int)) {
	for i := range h.shard {
		s := &h.shard[i]
		s.mu.Lock()
		for id, r := range s.rooms {
			r.mu.RLock()
			n := len(r.conns)
			r.mu.RUnlock()
			if n > 0 {
				fn(id, n)
			}
		}
		s.mu.Unlock()
	}
}
