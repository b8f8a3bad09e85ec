package storetest

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testRoom(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		c0, c1, c2 := mustCreateLC(t, s, newLC(t0)), mustCreateLC(t, s, newLC(t0)), mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.Name = "full room"
		r.MaximumMessageRatePerSecond = 7
		r.MaximumMessageLength = 321
		r.MessageReviewHandler = &parley.MessageReviewHandler{
			URI:            "arn:aws:lambda:us-east-1:123456789012:function:review",
			FallbackResult: parley.FallbackDeny,
		}
		r.LoggingConfigurationIdentifiers = []string{c2.ARN, c0.ARN, c1.ARN} // not sorted
		r.Tags = map[string]string{"team": "chat", "empty": ""}
		// A zone other than UTC and nanoseconds: the instant must survive.
		r.CreateTime = time.Date(2023, 1, 2, 3, 4, 5, 987654321, time.FixedZone("X", -7*3600))
		r.UpdateTime = r.CreateTime.Add(time.Nanosecond)
		want := clone(r)
		mustCreateRoom(t, s, r)
		wantRoom(t, mustFindRoom(t, s, r.ID), want)
	})
	t.Run("NoReviewHandler", func(t *testing.T) {
		s := open(t)
		r := mustCreateRoom(t, s, newRoom(t0))
		got := mustFindRoom(t, s, r.ID)
		if got.MessageReviewHandler != nil {
			t.Fatalf("messageReviewHandler=%+v, want nil", got.MessageReviewHandler)
		}
		wantRoom(t, got, r)
	})
	t.Run("ReturnsCopies", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.Tags = map[string]string{"a": "1"}
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "https://review.example/", FallbackResult: parley.FallbackAllow}
		want := clone(r)
		mustCreateRoom(t, s, r)
		// Changing what was passed in or what came out changes nothing stored.
		r.Tags["a"], r.Name = "changed", "changed"
		got := mustFindRoom(t, s, r.ID)
		got.Tags["a"], got.LoggingConfigurationIdentifiers[0] = "changed", "changed"
		got.MessageReviewHandler.URI = "changed"
		wantRoom(t, mustFindRoom(t, s, r.ID), want)
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		_, err := s.FindRoom(ctx, id)
		wantError(t, err, parley.ResourceNotFoundException, id)
	})
	t.Run("ErrLoggingConfigurationNotFound", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		missing := parley.NewID()
		r := newRoom(t0)
		r.LoggingConfigurationIdentifiers = []string{c.ARN, lcARN(missing)}
		err := s.CreateRoom(ctx, r, 0)
		wantError(t, err, parley.ResourceNotFoundException, missing)
		_, err = s.FindRoom(ctx, r.ID)
		wantError(t, err, parley.ResourceNotFoundException, r.ID)
		// The configuration that exists is not left attached to anything.
		if err := s.DeleteLoggingConfiguration(ctx, c.ID); err != nil {
			t.Fatalf("DeleteLoggingConfiguration: %v", err)
		}
	})
	t.Run("ErrServiceQuotaExceeded", func(t *testing.T) { testRoomQuota(t, open(t)) })
}

func testRoomQuota(t *testing.T, s parley.Store) {
	a, b := mustCreateRoomMax(t, s, 2), mustCreateRoomMax(t, s, 2)
	r := newRoom(t0)
	pe := wantError(t, s.CreateRoom(ctx, r, 2), parley.ServiceQuotaExceededException, "")
	if pe.Limit != 2 {
		t.Fatalf("limit=%d, want 2", pe.Limit)
	}
	if _, err := s.FindRoom(ctx, r.ID); err == nil {
		t.Fatal("room over the quota was stored")
	}
	// Zero means no quota.
	c := mustCreateRoomMax(t, s, 0)
	pe = wantError(t, s.CreateRoom(ctx, newRoom(t0), 3), parley.ServiceQuotaExceededException, "")
	if pe.Limit != 3 {
		t.Fatalf("limit=%d, want 3", pe.Limit)
	}
	// Deleting a room makes room for another.
	if err := s.DeleteRoom(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	d := mustCreateRoomMax(t, s, 3)
	rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 3 {
		t.Fatalf("len(rooms)=%d, want 3 (%v, %v, %v)", len(rooms), a.ID, c.ID, d.ID)
	}
}

func mustCreateRoomMax(t *testing.T, s parley.Store, quota int) *parley.Room {
	t.Helper()
	r := newRoom(t0)
	if err := s.CreateRoom(ctx, r, quota); err != nil {
		t.Fatalf("CreateRoom(max=%d): %v", quota, err)
	}
	return r
}

func testUpdateRoom(t *testing.T, open func(t *testing.T) parley.Store) {
	now := t0.Add(time.Hour + 5*time.Nanosecond)
	t.Run("Fields", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.Tags = map[string]string{"k": "v"}
		mustCreateRoom(t, s, r)
		h := &parley.MessageReviewHandler{URI: "https://review.example/hook", FallbackResult: parley.FallbackAllow}
		got, err := s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{
			Name:                            ptr("renamed"),
			MaximumMessageRatePerSecond:     ptr(3),
			MaximumMessageLength:            ptr(42),
			MessageReviewHandler:            h,
			LoggingConfigurationIdentifiers: &[]string{c.ARN},
		}, now)
		if err != nil {
			t.Fatalf("UpdateRoom: %v", err)
		}
		want := clone(r)
		want.Name, want.MaximumMessageRatePerSecond, want.MaximumMessageLength = "renamed", 3, 42
		want.MessageReviewHandler = &parley.MessageReviewHandler{URI: h.URI, FallbackResult: h.FallbackResult}
		want.LoggingConfigurationIdentifiers = []string{c.ARN}
		want.UpdateTime = now
		wantRoom(t, got, want)
		wantRoom(t, mustFindRoom(t, s, r.ID), want)
	})
	t.Run("NilMembersUnchanged", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "https://r.example/", FallbackResult: parley.FallbackDeny}
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		r.Tags = map[string]string{"k": "v"}
		want := clone(r)
		mustCreateRoom(t, s, r)
		got, err := s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{}, now)
		if err != nil {
			t.Fatalf("UpdateRoom: %v", err)
		}
		want.UpdateTime = now
		wantRoom(t, got, want)
		wantRoom(t, mustFindRoom(t, s, r.ID), want)
	})
	t.Run("ReviewHandler", func(t *testing.T) { testUpdateReviewHandler(t, open(t)) })
	t.Run("LoggingConfigurations", func(t *testing.T) { testUpdateRoomLCs(t, open(t)) })
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		_, err := s.UpdateRoom(ctx, id, parley.RoomUpdate{Name: ptr("x")}, now)
		wantError(t, err, parley.ResourceNotFoundException, id)
		if _, err := s.FindRoom(ctx, id); err == nil {
			t.Fatal("UpdateRoom created a room")
		}
	})
	t.Run("ErrLoggingConfigurationNotFound", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		want := clone(r)
		mustCreateRoom(t, s, r)
		missing := parley.NewID()
		_, err := s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{
			Name:                            ptr("renamed"),
			LoggingConfigurationIdentifiers: &[]string{lcARN(missing)},
		}, now)
		wantError(t, err, parley.ResourceNotFoundException, missing)
		wantRoom(t, mustFindRoom(t, s, r.ID), want) // nothing changed, not even the name
	})
}

func testUpdateReviewHandler(t *testing.T, s parley.Store) {
	r := mustCreateRoom(t, s, newRoom(t0))
	steps := []struct {
		name string
		upd  *parley.MessageReviewHandler
		want *parley.MessageReviewHandler
	}{
		{"Set", &parley.MessageReviewHandler{URI: "https://a.example/", FallbackResult: parley.FallbackAllow},
			&parley.MessageReviewHandler{URI: "https://a.example/", FallbackResult: parley.FallbackAllow}},
		{"Replace", &parley.MessageReviewHandler{URI: "https://b.example/", FallbackResult: parley.FallbackDeny},
			&parley.MessageReviewHandler{URI: "https://b.example/", FallbackResult: parley.FallbackDeny}},
		{"NilUnchanged", nil,
			&parley.MessageReviewHandler{URI: "https://b.example/", FallbackResult: parley.FallbackDeny}},
		{"EmptyURIRemoves", &parley.MessageReviewHandler{}, nil},
	}
	for i, st := range steps {
		now := t0.Add(time.Duration(i+1) * time.Second)
		got, err := s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{MessageReviewHandler: st.upd}, now)
		if err != nil {
			t.Fatalf("%s: UpdateRoom: %v", st.name, err)
		}
		r.MessageReviewHandler, r.UpdateTime = st.want, now
		wantRoom(t, got, r)
		found := mustFindRoom(t, s, r.ID)
		wantRoom(t, found, r)
		if st.want == nil && found.MessageReviewHandler != nil {
			t.Fatalf("%s: messageReviewHandler=%+v, want nil", st.name, found.MessageReviewHandler)
		}
	}
}

func testUpdateRoomLCs(t *testing.T, s parley.Store) {
	a, b, c := mustCreateLC(t, s, newLC(t0)), mustCreateLC(t, s, newLC(t0)), mustCreateLC(t, s, newLC(t0))
	r := newRoom(t0)
	r.LoggingConfigurationIdentifiers = []string{a.ARN}
	mustCreateRoom(t, s, r)
	steps := []struct {
		name string
		upd  *[]string
		want []string
	}{
		{"Replace", &[]string{c.ARN, a.ARN, b.ARN}, []string{c.ARN, a.ARN, b.ARN}},
		{"NilUnchanged", nil, []string{c.ARN, a.ARN, b.ARN}},
		{"Reorder", &[]string{b.ARN, c.ARN}, []string{b.ARN, c.ARN}},
		{"EmptyClears", &[]string{}, nil},
	}
	for i, st := range steps {
		now := t0.Add(time.Duration(i+1) * time.Second)
		got, err := s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: st.upd}, now)
		if err != nil {
			t.Fatalf("%s: UpdateRoom: %v", st.name, err)
		}
		r.LoggingConfigurationIdentifiers, r.UpdateTime = st.want, now
		wantRoom(t, got, r)
		wantRoom(t, mustFindRoom(t, s, r.ID), r)
	}
	// Nothing is attached any more: all three can be deleted.
	for _, lc := range []*parley.LoggingConfiguration{a, b, c} {
		if err := s.DeleteLoggingConfiguration(ctx, lc.ID); err != nil {
			t.Fatalf("DeleteLoggingConfiguration(%s) after clearing: %v", lc.ID, err)
		}
	}
}

func testDeleteRoom(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		r := newRoom(t0)
		r.Tags = map[string]string{"k": "v"}
		mustCreateRoom(t, s, r)
		other := mustCreateRoom(t, s, newRoom(t0))
		if err := s.DeleteRoom(ctx, r.ID); err != nil {
			t.Fatalf("DeleteRoom: %v", err)
		}
		_, err := s.FindRoom(ctx, r.ID)
		wantError(t, err, parley.ResourceNotFoundException, r.ID)
		_, err = s.FindTags(ctx, parseARN(t, r.ARN))
		wantError(t, err, parley.ResourceNotFoundException, r.ID)
		mustFindRoom(t, s, other.ID)
		err = s.DeleteRoom(ctx, r.ID)
		wantError(t, err, parley.ResourceNotFoundException, r.ID)
	})
	t.Run("DetachesLoggingConfigurations", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		mustCreateRoom(t, s, r)
		if err := s.DeleteRoom(ctx, r.ID); err != nil {
			t.Fatalf("DeleteRoom: %v", err)
		}
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{LoggingConfigurationIdentifier: &c.ARN})
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, roomIDs(rooms), nil)
		if err := s.DeleteLoggingConfiguration(ctx, c.ID); err != nil {
			t.Fatalf("DeleteLoggingConfiguration after DeleteRoom: %v", err)
		}
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		wantError(t, s.DeleteRoom(ctx, id), parley.ResourceNotFoundException, id)
	})
}
