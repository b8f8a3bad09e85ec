package storetest

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// orderFixture creates rooms whose UpdateTimes tie in places and returns
// their IDs in the documented order: UpdateTime desc, then ID desc. The IDs
// are chosen so that creation order, ID order and time order all differ.
func orderFixture(t *testing.T, s parley.Store) []string {
	t.Helper()
	specs := []struct {
		id int
		at time.Duration
	}{
		{5, 1 * time.Second}, {2, 3 * time.Second}, {7, 2 * time.Second},
		{1, 2 * time.Second}, {9, 1*time.Second + time.Nanosecond}, {4, 2 * time.Second},
		{3, 0},
	}
	for _, sp := range specs {
		r := newRoom(t0.Add(sp.at))
		r.ID, r.ARN = fixedID(sp.id), roomARN(fixedID(sp.id))
		r.CreateTime = t0 // create order must not matter
		mustCreateRoom(t, s, r)
	}
	return []string{fixedID(2), fixedID(7), fixedID(4), fixedID(1), fixedID(9), fixedID(5), fixedID(3)}
}

func testFindRooms(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Empty", func(t *testing.T) {
		rooms, err := open(t).FindRooms(ctx, parley.RoomFilter{})
		if err != nil {
			t.Fatalf("FindRooms: %v", err)
		}
		wantIDs(t, roomIDs(rooms), nil)
	})
	t.Run("Order", func(t *testing.T) {
		s := open(t)
		want := orderFixture(t, s)
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
		if err != nil {
			t.Fatalf("FindRooms: %v", err)
		}
		wantIDs(t, roomIDs(rooms), want)
	})
	t.Run("FullRooms", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.Tags = map[string]string{"k": "v"}
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "https://r.example/", FallbackResult: parley.FallbackAllow}
		want := clone(r)
		mustCreateRoom(t, s, r)
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
		if err != nil || len(rooms) != 1 {
			t.Fatalf("FindRooms: %d rooms, %v; want 1", len(rooms), err)
		}
		wantRoom(t, rooms[0], want)
	})
	t.Run("MovesToFrontOnUpdate", func(t *testing.T) {
		s := open(t)
		want := orderFixture(t, s)
		last := want[len(want)-1]
		if _, err := s.UpdateRoom(ctx, last, parley.RoomUpdate{}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, roomIDs(rooms), append([]string{last}, want[:len(want)-1]...))
	})
	t.Run("Filters", func(t *testing.T) { testRoomFilters(t, open(t)) })
	t.Run("Pagination", func(t *testing.T) {
		s := open(t)
		all := orderFixture(t, s)
		for _, limit := range []int{1, 2, 3, 7, 8} {
			wantIDs(t, paginateRooms(t, s, parley.RoomFilter{}, limit), all)
		}
	})
	t.Run("LimitWithoutCursor", func(t *testing.T) {
		s := open(t)
		all := orderFixture(t, s)
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, roomIDs(rooms), all[:3])
	})
}

// paginateRooms walks every page of f with page size limit and returns the
// IDs seen, checking that no page is larger than limit.
func paginateRooms(t *testing.T, s parley.Store, f parley.RoomFilter, limit int) []string {
	t.Helper()
	f.Limit = limit
	ids := []string{}
	for range 100 {
		rooms, err := s.FindRooms(ctx, f)
		if err != nil {
			t.Fatalf("FindRooms: %v", err)
		}
		if len(rooms) > limit {
			t.Fatalf("len(page)=%d, want at most %d", len(rooms), limit)
		}
		if len(rooms) == 0 {
			return ids
		}
		ids = append(ids, roomIDs(rooms)...)
		last := rooms[len(rooms)-1]
		f.After = &parley.Cursor{UpdateTime: last.UpdateTime, ID: last.ID}
	}
	t.Fatal("pagination does not end")
	return nil
}

func testRoomFilters(t *testing.T, s parley.Store) {
	a, b := mustCreateLC(t, s, newLC(t0)), mustCreateLC(t, s, newLC(t0))
	const uri1, uri2 = "arn:aws:lambda:us-east-1:123456789012:function:one", "https://two.example/"
	type spec struct {
		name string
		uri  string
		lcs  []string
	}
	specs := []spec{
		{"x", uri1, []string{a.ARN}},
		{"x", uri2, []string{b.ARN, a.ARN}},
		{"x", "", nil},
		{"y", uri1, []string{b.ARN}},
		{"y", "", []string{a.ARN}},
		{"xx", uri1 + "x", nil},
	}
	ids := make([]string, len(specs))
	for i, sp := range specs {
		r := newRoom(t0.Add(time.Duration(len(specs)-i) * time.Second)) // newest first
		r.Name, r.LoggingConfigurationIdentifiers = sp.name, sp.lcs
		if sp.uri != "" {
			r.MessageReviewHandler = &parley.MessageReviewHandler{URI: sp.uri, FallbackResult: parley.FallbackAllow}
		}
		ids[i] = mustCreateRoom(t, s, r).ID
	}
	pick := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, ids[i])
		}
		return out
	}
	cases := []struct {
		name string
		f    parley.RoomFilter
		want []string
	}{
		{"None", parley.RoomFilter{}, pick(0, 1, 2, 3, 4, 5)},
		{"Name", parley.RoomFilter{Name: ptr("x")}, pick(0, 1, 2)},
		{"NameNoMatch", parley.RoomFilter{Name: ptr("X")}, nil},
		{"MessageReviewHandlerURI", parley.RoomFilter{MessageReviewHandlerURI: ptr(uri1)}, pick(0, 3)},
		{"LoggingConfigurationIdentifier", parley.RoomFilter{LoggingConfigurationIdentifier: &a.ARN}, pick(0, 1, 4)},
		{"UnknownLoggingConfiguration", parley.RoomFilter{LoggingConfigurationIdentifier: ptr(lcARN(parley.NewID()))}, nil},
		{"NameAndURI", parley.RoomFilter{Name: ptr("x"), MessageReviewHandlerURI: ptr(uri1)}, pick(0)},
		{"NameAndLC", parley.RoomFilter{Name: ptr("y"), LoggingConfigurationIdentifier: &a.ARN}, pick(4)},
		{"URIAndLC", parley.RoomFilter{MessageReviewHandlerURI: ptr(uri1), LoggingConfigurationIdentifier: &b.ARN}, pick(3)},
		{"All", parley.RoomFilter{Name: ptr("x"), MessageReviewHandlerURI: ptr(uri2), LoggingConfigurationIdentifier: &a.ARN}, pick(1)},
		{"AllNoMatch", parley.RoomFilter{Name: ptr("y"), MessageReviewHandlerURI: ptr(uri2), LoggingConfigurationIdentifier: &a.ARN}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rooms, err := s.FindRooms(ctx, c.f)
			if err != nil {
				t.Fatalf("FindRooms: %v", err)
			}
			wantIDs(t, roomIDs(rooms), c.want)
			// A filter keeps working across pages.
			wantIDs(t, paginateRooms(t, s, c.f, 1), c.want)
		})
	}
}

func testFindLoggingConfigurations(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Empty", func(t *testing.T) {
		cs, err := open(t).FindLoggingConfigurations(ctx, parley.LoggingConfigurationFilter{})
		if err != nil {
			t.Fatalf("FindLoggingConfigurations: %v", err)
		}
		wantIDs(t, lcIDs(cs), nil)
	})
	t.Run("OrderAndPagination", func(t *testing.T) {
		s := open(t)
		ats := []time.Duration{time.Second, 3 * time.Second, 2 * time.Second, 2 * time.Second, 0}
		nums := []int{5, 2, 1, 7, 3}
		for i, at := range ats {
			c := newLC(t0.Add(at))
			c.ID, c.ARN = fixedID(nums[i]), lcARN(fixedID(nums[i]))
			mustCreateLC(t, s, c)
		}
		want := []string{fixedID(2), fixedID(7), fixedID(1), fixedID(5), fixedID(3)}
		cs, err := s.FindLoggingConfigurations(ctx, parley.LoggingConfigurationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		wantIDs(t, lcIDs(cs), want)
		for _, limit := range []int{1, 2, 5, 6} {
			wantIDs(t, paginateLCs(t, s, limit), want)
		}
	})
}

func paginateLCs(t *testing.T, s parley.Store, limit int) []string {
	t.Helper()
	f := parley.LoggingConfigurationFilter{Limit: limit}
	ids := []string{}
	for range 100 {
		cs, err := s.FindLoggingConfigurations(ctx, f)
		if err != nil {
			t.Fatalf("FindLoggingConfigurations: %v", err)
		}
		if len(cs) > limit {
			t.Fatalf("len(page)=%d, want at most %d", len(cs), limit)
		}
		if len(cs) == 0 {
			return ids
		}
		ids = append(ids, lcIDs(cs)...)
		last := cs[len(cs)-1]
		f.After = &parley.Cursor{UpdateTime: last.UpdateTime, ID: last.ID}
	}
	t.Fatal("pagination does not end")
	return nil
}
