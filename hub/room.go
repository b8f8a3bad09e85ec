package hub

import (
	"sync"
	"sync/atomic"

	"github.com/parleychat/parley"
)

// Room is one room's local connections and the settings they share.
type Room struct {
	hub *Hub
	id  string

	// Set by the creating Join before ready is closed; read-only after.
	ready chan struct{}
	unsub func()
	err   error

	// refs counts Joins not yet released; guarded by the shard's mutex.
	refs int

	settings  atomic.Pointer[parley.Room]
	refreshed atomic.Bool // a Refresh has run since the subscription

	mu      sync.RWMutex
	conns   []Conn       // delivery order: join order, with swap-removal
	index   map[Conn]int // position in conns
	deleted bool         // RoomDeleted seen: no one joins any more
}

func newRoom(h *Hub, room *parley.Room) *Room {
	r := &Room{hub: h, id: room.ID, ready: make(chan struct{}), index: make(map[Conn]int)}
	r.settings.Store(room)
	return r
}

// ID is the room's bare ID.
func (r *Room) ID() string { return r.id }

// Settings returns the room as last loaded or updated on the bus. It is
// shared and must not be modified.
func (r *Room) Settings() *parley.Room { return r.settings.Load() }

// offerSettings installs room if it is newer than the current settings.
func (r *Room) offerSettings(room *parley.Room) {
	for {
		cur := r.settings.Load()
		if cur == room || !newer(room, cur) {
			return
		}
		if r.settings.CompareAndSwap(cur, room) {
			return
		}
	}
}

// newer reports whether room is a later copy than cur. When both carry a
// Version (the store's count of changes) it decides, so copies published
// by different nodes, or read before and delivered after an update, are
// ordered without clocks; a Version of 0 is unknown, and then UpdateTime
// decides, the later or equal copy winning.
func newer(room, cur *parley.Room) bool {
	if room.Version != 0 && cur.Version != 0 {
		return room.Version > cur.Version
	}
	return !cur.UpdateTime.After(room.UpdateTime)
}

// add reports false when the room was deleted.
func (r *Room) add(c Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deleted {
		return false
	}
	if _, ok := r.index[c]; !ok {
		r.index[c] = len(r.conns)
		r.conns = append(r.conns, c)
	}
	return true
}

// Refresh applies room as read from the Store after a Join that asked for
// it: newer settings are installed (see RoomUpdated in Hub's doc), and nil
// (the room no longer exists) ends the room's connections as RoomDeleted
// would have.
func (r *Room) Refresh(room *parley.Room) {
	if room == nil {
		r.markDeleted()
	} else {
		r.offerSettings(room)
	}
	r.refreshed.Store(true)
}

// remove reports whether c was in the room.
func (r *Room) remove(c Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.index[c]
	if !ok {
		return false
	}
	last := len(r.conns) - 1
	r.conns[i] = r.conns[last]
	r.index[r.conns[i]] = i
	r.conns[last] = nil
	r.conns = r.conns[:last]
	delete(r.index, c)
	return true
}

// deliver is the room's bus subscription. It runs on the bus's delivery
// path and never blocks.
func (r *Room) deliver(m *parley.BusMessage) {
	switch m.Kind {
	case parley.Broadcast:
		if obs := r.hub.Observe; obs != nil {
			obs(m, r.Settings())
		}
		r.broadcast(m.Frame, "")
	case parley.DisconnectUser:
		r.broadcast(m.Frame, m.UserID)
	case parley.RoomUpdated:
		if m.Room != nil {
			r.offerSettings(m.Room)
		}
	case parley.RoomDeleted:
		r.markDeleted()
	}
}

// broadcast enqueues frame to every connection, closes those whose queue is
// full, and then closes the connections of user cleanly when user is set.
func (r *Room) broadcast(frame []byte, user string) {
	var slow, kicked []Conn
	r.mu.RLock()
	for _, c := range r.conns {
		if len(frame) > 0 && !c.Enqueue(frame) {
			slow = append(slow, c)
		} else if user != "" && c.UserID() == user {
			kicked = append(kicked, c)
		}
	}
	r.mu.RUnlock()
	for _, c := range slow {
		r.hub.slow.Add(1)
		c.Close(CloseSlowConsumer)
	}
	for _, c := range kicked {
		c.Close(CloseDisconnected)
	}
}

// markDeleted ends the room here: no one joins any more, and every
// connection is closed with CloseRoomDeleted.
func (r *Room) markDeleted() {
	r.mu.Lock()
	r.deleted = true
	conns := append([]Conn(nil), r.conns...)
	r.mu.Unlock()
	for _, c := range conns {
		c.Close(CloseRoomDeleted)
	}
}
