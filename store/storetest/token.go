package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func testUseToken(t *testing.T, open func(t *testing.T) parley.Store) {
	exp := time.Now().Add(parley.TokenLifetime)
	t.Run("ErrConflictOnSecondUse", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		if err := s.UseToken(ctx, id, exp); err != nil {
			t.Fatalf("first UseToken: %v", err)
		}
		wantError(t, s.UseToken(ctx, id, exp), parley.ConflictException, "")
		wantError(t, s.UseToken(ctx, id, exp.Add(time.Hour)), parley.ConflictException, "")
	})
	t.Run("DistinctTokens", func(t *testing.T) {
		s := open(t)
		for range 20 {
			if err := s.UseToken(ctx, parley.NewID(), exp); err != nil {
				t.Fatalf("UseToken: %v", err)
			}
		}
	})
	t.Run("ConcurrentSameToken", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		errs := parallel(16, func(int) error { return s.UseToken(ctx, id, exp) })
		if n := countOK(t, errs, parley.ConflictException); n != 1 {
			t.Fatalf("%d of 16 concurrent uses of one token succeeded, want 1", n)
		}
	})
	t.Run("ConcurrentDistinctTokens", func(t *testing.T) {
		s := open(t)
		errs := parallel(32, func(int) error { return s.UseToken(ctx, parley.NewID(), exp) })
		if n := countOK(t, errs, ""); n != 32 {
			t.Fatalf("%d of 32 distinct tokens accepted, want 32", n)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		// The record of an expired token may be forgotten, so a second use
		// may succeed or conflict, but nothing else.
		s := open(t)
		id := parley.NewID()
		past := time.Now().Add(-time.Minute)
		if err := s.UseToken(ctx, id, past); err != nil {
			t.Fatalf("UseToken: %v", err)
		}
		if err := s.UseToken(ctx, id, past); err != nil {
			wantError(t, err, parley.ConflictException, "")
		}
	})
}

func testConcurrency(t *testing.T, open func(t *testing.T) parley.Store) {
	const workers, quota = 24, 5
	t.Run("CreateRoomQuota", func(t *testing.T) {
		s := open(t)
		errs := parallel(workers, func(int) error { return s.CreateRoom(ctx, newRoom(t0), quota) })
		if n := countOK(t, errs, parley.ServiceQuotaExceededException); n != quota {
			t.Fatalf("%d concurrent creates succeeded, want %d", n, quota)
		}
		rooms, err := s.FindRooms(ctx, parley.RoomFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != quota {
			t.Fatalf("len(rooms)=%d, want %d", len(rooms), quota)
		}
	})
	t.Run("CreateLoggingConfigurationQuota", func(t *testing.T) {
		s := open(t)
		errs := parallel(workers, func(int) error { return s.CreateLoggingConfiguration(ctx, newLC(t0), quota) })
		if n := countOK(t, errs, parley.ServiceQuotaExceededException); n != quota {
			t.Fatalf("%d concurrent creates succeeded, want %d", n, quota)
		}
		cs, err := s.FindLoggingConfigurations(ctx, parley.LoggingConfigurationFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != quota {
			t.Fatalf("len(configurations)=%d, want %d", len(cs), quota)
		}
	})
	t.Run("TagResourceLimit", func(t *testing.T) {
		s := open(t)
		r := mustCreateRoom(t, s, newRoom(t0))
		arn := parseARN(t, r.ARN)
		errs := parallel(workers, func(i int) error {
			return s.TagResource(ctx, arn, map[string]string{fixedID(i): "v"}, quota)
		})
		if n := countOK(t, errs, parley.ValidationException); n != quota {
			t.Fatalf("%d concurrent tag writes succeeded, want %d", n, quota)
		}
		tags, err := s.FindTags(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) != quota {
			t.Fatalf("len(tags)=%d, want %d", len(tags), quota)
		}
	})
}

// parallel runs fn(0…n-1) at the same time and returns the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// countOK returns how many errs are nil, failing on any error whose code
// is not allowed.
func countOK(t *testing.T, errs []error, allowed parley.ErrorCode) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case allowed == "" || parley.ErrorCodeOf(err) != allowed:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return n
}
