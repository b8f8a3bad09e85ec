package storetest

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// testRoomVersion checks that the store gives a room a version and that
// every change to the room, its tags or its logging configurations gives it
// a strictly greater one, as FindRoom, FindRooms and UpdateRoom report it.
func testRoomVersion(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("GrowsWithEveryChange", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := mustCreateRoom(t, s, newRoom(t0))
		arn := parseARN(t, r.ARN)
		last := mustFindRoom(t, s, r.ID).Version
		if last <= 0 {
			t.Fatalf("version=%d after CreateRoom, want > 0", last)
		}
		steps := []struct {
			name   string
			change func() (updated *parley.Room, err error)
		}{
			{"UpdateRoomName", func() (*parley.Room, error) {
				return s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{Name: ptr("renamed")}, t0.Add(time.Second))
			}},
			{"UpdateRoomNothing", func() (*parley.Room, error) {
				return s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{}, t0.Add(2*time.Second))
			}},
			{"UpdateRoomLoggingConfigurations", func() (*parley.Room, error) {
				return s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: &[]string{c.ARN}}, t0)
			}},
			{"TagResource", func() (*parley.Room, error) {
				return nil, s.TagResource(ctx, arn, map[string]string{"a": "1", "b": "2"}, parley.MaxTagsPerResource)
			}},
			{"TagResourceOverwrite", func() (*parley.Room, error) {
				return nil, s.TagResource(ctx, arn, map[string]string{"a": "one"}, parley.MaxTagsPerResource)
			}},
			{"UntagResource", func() (*parley.Room, error) { return nil, s.UntagResource(ctx, arn, []string{"a"}) }},
			{"DetachLoggingConfigurations", func() (*parley.Room, error) {
				return s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: &[]string{}}, t0)
			}},
		}
		for _, st := range steps {
			updated, err := st.change()
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			got := mustFindRoom(t, s, r.ID).Version
			if got <= last {
				t.Fatalf("%s: version=%d, want > %d", st.name, got, last)
			}
			if updated != nil && updated.Version != got {
				t.Fatalf("%s: UpdateRoom returned version %d, FindRoom %d", st.name, updated.Version, got)
			}
			rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
			if err != nil || len(rooms) != 1 {
				t.Fatalf("%s: FindRooms: %d rooms, %v; want 1", st.name, len(rooms), err)
			}
			if rooms[0].Version != got {
				t.Fatalf("%s: FindRooms gives version %d, FindRoom %d", st.name, rooms[0].Version, got)
			}
			last = got
		}
	})
}
