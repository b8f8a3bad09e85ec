package hub

import (
	"context"
	"fmt"
	"sync"

	"github.com/parleychat/parley"
)

// refreshWorkers is the number of rooms RefreshRooms reads at once.
const refreshWorkers = 4

// FindRoom reads a room from the Store; it returns an error with code
// ResourceNotFoundException when the room does not exist.
type FindRoom func(ctx context.Context, id string) (*parley.Room, error)

// RefreshRooms reads every room the hub holds again with find and applies
// the result as Room.Refresh does: a newer room replaces the settings, as
// RoomUpdated would, and a room find reports as ResourceNotFoundException
// ends its sessions and refuses later joins, as RoomDeleted would.
//
// It repairs what a bus that lost messages (a NATS reconnect) or a store
// that changed behind the bus leaves stale: a hub refreshed every P is
// stale by at most P plus one read. Only rooms whose bus subscription is
// complete are read, so a change made after a room's read is delivered by
// the bus. A room that find fails for with another error is left as it is
// and the others are still read; the errors are returned together with
// their count. Reads run a few at a time and stop when ctx is done.
func (h *Hub) RefreshRooms(ctx context.Context, find FindRoom) error {
	rooms := h.subscribedRooms()
	work := make(chan *Room)
	var (
		mu     sync.Mutex
		failed int
		first  error
		wg     sync.WaitGroup
	)
	for range min(refreshWorkers, len(rooms)) {
		wg.Go(func() {
			for r := range work {
				if err := refreshRoom(ctx, r, find); err != nil {
					mu.Lock()
					failed++
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	var err error
feed:
	for _, r := range rooms {
		select {
		case work <- r:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil && failed > 0 {
		err = fmt.Errorf("refresh rooms: %d of %d failed, the first: %w", failed, len(rooms), first)
	}
	return err
}

func refreshRoom(ctx context.Context, r *Room, find FindRoom) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	room, err := find(ctx, r.id)
	switch {
	case parley.ErrorCodeOf(err) == parley.ResourceNotFoundException:
		r.Refresh(nil)
	case err != nil:
		return fmt.Errorf("room %s: %w", r.id, err)
	case room == nil || room.ID != r.id:
		return fmt.Errorf("room %s: find returned another room", r.id)
	default:
		r.Refresh(room)
	}
	return nil
}

// subscribedRooms returns the rooms whose subscription to the bus is in
// place and that are not deleted.
func (h *Hub) subscribedRooms() []*Room {
	var rooms []*Room
	for i := range h.shard {
		s := &h.shard[i]
		s.mu.Lock()
		for _, r := range s.rooms {
			select {
			case <-r.ready:
			default:
				continue // its first Join is still subscribing
			}
			r.mu.RLock()
			deleted := r.deleted
			r.mu.RUnlock()
			if r.err == nil && !deleted {
				rooms = append(rooms, r)
			}
		}
		s.mu.Unlock()
	}
	return rooms
}
