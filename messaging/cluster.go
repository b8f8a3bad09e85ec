package messaging

import (
	"context"

	"github.com/parleychat/parley"
)

// charger is a limiter that can count events allowed elsewhere
// (ratelimit.Local).
type charger interface {
	Charge(key string, limit int)
}

// chargeRemote counts a room message that another node accepted against
// the room's rate here, so that the rate holds across the cluster without a
// round trip per message: each node admits what its own bucket allows and
// learns of the others' messages as they arrive on the bus. Over T seconds a
// room accepts at most limit × T plus one burst (limit) per node that
// accepted before it heard of the others.
func (s *Server) chargeRemote(m *parley.BusMessage, room *parley.Room) {
	if !m.Rated || m.Origin == s.NodeName || room == nil {
		return
	}
	if c, ok := s.Limiter.(charger); ok {
		c.Charge("room:"+room.ID, roomRate(room, s.MaxRoomRate))
	}
}

// RefreshRooms re-reads from the store every room this node holds
// connections in and applies what changed, ending the sessions of rooms
// that were deleted. A node calls it after its bus reconnected and on a
// period, to repair a RoomUpdated or RoomDeleted it missed.
func (s *Server) RefreshRooms(ctx context.Context) error {
	s.init()
	return s.hub.RefreshRooms(ctx, s.Store.FindRoom)
}
