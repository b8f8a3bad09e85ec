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

// versionRequest is one roomVersion call waiting for the version reader.
type versionRequest struct {
	version int64
	err     error
	done    chan struct{} // buffered: the reader never blocks on it
}

var versionRequests = sync.Pool{New: func() any { return &versionRequest{done: make(chan struct{}, 1)} }}

// maxVersionBatch is the most roomVersion calls that one read answers.
const maxVersionBatch = 1024

// roomVersion returns room_version as read after the call began. The read
// runs on the version reader goroutine rather than the caller's: SQLite's
// code needs a deep stack, and callers are often new goroutines (one per
// WebSocket upgrade) or ones whose stack the garbage collector has shrunk,
// so reading in place would grow and copy a stack on most calls. The reader
// also answers all the calls waiting when it starts with one read: they all
// began before it.
func (s *Store) roomVersion(ctx context.Context) (int64, error) {
	req := versionRequests.Get().(*versionRequest)
	select {
	case s.versions <- req:
	case <-ctx.Done():
		versionRequests.Put(req)
		return 0, ctx.Err()
	case <-s.done:
		versionRequests.Put(req)
		return 0, errClosed
	}
	select {
	case <-req.done:
		v, err := req.version, req.err
		versionRequests.Put(req)
		return v, err
	case <-ctx.Done():
		// The reader still answers into req.done; leave req to the garbage
		// collector rather than reuse it.
		return 0, ctx.Err()
	}
}

// readVersions is the version reader: it takes one request, gathers the
// requests already waiting, reads room_version once and answers them all.
// Because s.versions is unbuffered, every request it receives is answered.
func (s *Store) readVersions() {
	defer s.wg.Done()
	batch := make([]*versionRequest, 0, 64)
	for {
		select {
		case <-s.done:
			return
		case req := <-s.versions:
			batch = append(batch[:0], req)
		gather:
			for len(batch) < maxVersionBatch {
				select {
				case req := <-s.versions:
					batch = append(batch, req)
				default:
					break gather
				}
			}
			var v int64
			err := s.findRoomVersion.QueryRowContext(context.Background()).Scan(&v)
			for _, req := range batch {
				req.version, req.err = v, err
				req.done <- struct{}{}
			}
			clear(batch)
		}
	}
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
