package sqlite

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/parleychat/parley"
)

// selectRoomVersion reads the number that changes with every change to a
// room, its tags or its logging configurations (migration 0002).
const selectRoomVersion = `SELECT version FROM room_version WHERE id = 1`

// maxCachedRooms bounds the room cache. When it is full it is emptied.
const maxCachedRooms = 10000

// roomCache holds rooms read at one room_version. FindRoom reads the version
// first (one small read transaction, which sees every commit of every
// process on the file) and uses the cache only when the version is the one
// its rooms were read at, so that a room updated or deleted by any process
// is never answered from the cache once the change has committed.
//
// A room is put only under the version read before it was queried, so it
// holds that version's state or a newer one: a commit between the two reads
// changes the version, and the next reader drops the cache.
type roomCache struct {
	mu      sync.Mutex
	version int64
	rooms   map[string]*parley.Room
}

// get returns the cached room id if version is the cache's version. A
// different version empties the cache and becomes its version.
func (c *roomCache) get(version int64, id string) *parley.Room {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version || c.rooms == nil {
		c.version = version
		c.rooms = make(map[string]*parley.Room)
		return nil
	}
	return c.rooms[id]
}

// put caches r, read after version was read, unless the cache has moved to
// another version since.
func (c *roomCache) put(version int64, r *parley.Room) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version || c.rooms == nil {
		return
	}
	if len(c.rooms) >= maxCachedRooms {
		clear(c.rooms)
	}
	c.rooms[r.ID] = r
}

// roomVersion reads room_version.
func (s *Store) roomVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.findRoomVersion.QueryRowContext(ctx).Scan(&v)
	return v, err
}

// cloneRoom returns a copy of r that shares no maps, slices or pointers with
// it, so that a caller may change what FindRoom returned.
func cloneRoom(r *parley.Room) *parley.Room {
	c := *r
	c.Tags = maps.Clone(r.Tags)
	c.LoggingConfigurationIdentifiers = slices.Clone(r.LoggingConfigurationIdentifiers)
	if r.MessageReviewHandler != nil {
		h := *r.MessageReviewHandler
		c.MessageReviewHandler = &h
	}
	return &c
}
