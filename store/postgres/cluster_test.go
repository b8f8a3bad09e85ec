package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/store/postgres"
	"github.com/parleychat/parley/store/postgres/pgtest"
)

// The tests in this file are about what only a shared store has: several
// Stores, as on several nodes, on one schema.

// openN opens n stores on one new schema.
func openN(t *testing.T, n int) (string, []*postgres.Store) {
	t.Helper()
	url := pgtest.URL(t)
	stores := make([]*postgres.Store, n)
	for i := range stores {
		stores[i] = MustOpen(t, url)
	}
	return url, stores
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

// countOK returns how many errs are nil, failing on any error whose code is
// not allowed.
func countOK(t *testing.T, errs []error, allowed parley.ErrorCode) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case parley.ErrorCodeOf(err) != allowed:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return n
}

func newRoom() *parley.Room {
	id := parley.NewID()
	at := time.Now()
	return &parley.Room{
		ID: id, ARN: "arn:aws:ivschat:us-east-1:123456789012:room/" + id, Name: "room",
		MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500, CreateTime: at, UpdateTime: at,
	}
}

func newLC() *parley.LoggingConfiguration {
	id := parley.NewID()
	at := time.Now()
	return &parley.LoggingConfiguration{
		ID: id, ARN: "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/" + id,
		State: parley.StateActive, CreateTime: at, UpdateTime: at,
		Destination: parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "b"}},
	}
}

func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	const n = 5
	stores := make([]*postgres.Store, n)
	errs := parallel(n, func(i int) (err error) {
		stores[i], err = postgres.Open(ctx, url)
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d of %d at once: %v", i, n, err)
		}
		t.Cleanup(func() { stores[i].Close(ctx) })
	}
	c := conn(t, url)
	var rows, distinct int
	err := c.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct)
	if err != nil || rows != 1 || distinct != 1 {
		t.Fatalf("schema_migrations: %d rows, %d versions (%v); want each migration once", rows, distinct, err)
	}
	// Every store works on the one schema.
	r := newRoom()
	if err := stores[0].CreateRoom(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if _, err := s.FindRoom(ctx, r.ID); err != nil {
			t.Fatalf("store %d: FindRoom: %v", i, err)
		}
	}
}

func TestQuotaAcrossStores(t *testing.T) {
	ctx := context.Background()
	const quota, creates = 10, 30
	t.Run("Rooms", func(t *testing.T) {
		_, stores := openN(t, 3)
		errs := parallel(creates, func(i int) error { return stores[i%3].CreateRoom(ctx, newRoom(), quota) })
		if n := countOK(t, errs, parley.ServiceQuotaExceededException); n != quota {
			t.Fatalf("%d of %d creates on 3 stores succeeded, want %d", n, creates, quota)
		}
		for _, err := range errs {
			if pe := parleyError(err); pe != nil && pe.Limit != quota {
				t.Fatalf("limit=%d, want %d", pe.Limit, quota)
			}
		}
		rooms, err := stores[1].FindRooms(ctx, parley.RoomFilter{})
		if err != nil || len(rooms) != quota {
			t.Fatalf("FindRooms: %d rooms (%v), want %d", len(rooms), err, quota)
		}
	})
	t.Run("LoggingConfigurations", func(t *testing.T) {
		_, stores := openN(t, 3)
		errs := parallel(creates, func(i int) error {
			return stores[i%3].CreateLoggingConfiguration(ctx, newLC(), quota)
		})
		if n := countOK(t, errs, parley.ServiceQuotaExceededException); n != quota {
			t.Fatalf("%d of %d creates on 3 stores succeeded, want %d", n, creates, quota)
		}
	})
	t.Run("Tags", func(t *testing.T) {
		_, stores := openN(t, 3)
		r := newRoom()
		if err := stores[0].CreateRoom(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
		arn, _ := parley.ParseARN(r.ARN)
		errs := parallel(creates, func(i int) error {
			return stores[i%3].TagResource(ctx, arn, map[string]string{fmt.Sprint("k", i): "v"}, quota)
		})
		if n := countOK(t, errs, parley.ValidationException); n != quota {
			t.Fatalf("%d of %d tag writes on 3 stores succeeded, want %d", n, creates, quota)
		}
		got, err := stores[2].FindRoom(ctx, r.ID)
		if err != nil || len(got.Tags) != quota || got.Version != 1+quota {
			t.Fatalf("room has %d tags, version %d (%v); want %d tags, version %d", len(got.Tags), got.Version, err, quota, 1+quota)
		}
	})
}

func parleyError(err error) *parley.Error {
	pe, _ := err.(*parley.Error)
	return pe
}

func TestUseTokenAcrossStores(t *testing.T) {
	ctx := context.Background()
	_, stores := openN(t, 3)
	exp := time.Now().Add(parley.TokenLifetime)
	for round := range 50 {
		id := parley.NewTokenID()
		errs := parallel(3, func(i int) error { return stores[i].UseToken(ctx, id, exp) })
		if n := countOK(t, errs, parley.ConflictException); n != 1 {
			t.Fatalf("round %d: %d of 3 stores accepted one token, want 1", round, n)
		}
	}
}

func TestPurgeExpiredTokens(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := MustOpenWith(t, url, postgres.Options{PurgeInterval: 20 * time.Millisecond})
	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	for range 5 {
		if err := s.UseToken(ctx, parley.NewTokenID(), past); err != nil {
			t.Fatal(err)
		}
	}
	live := parley.NewTokenID()
	if err := s.UseToken(ctx, live, future); err != nil {
		t.Fatal(err)
	}
	c := conn(t, url)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM used_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d token records after 10s, want the 1 that has not expired", n)
		}
		time.Sleep(10 * time.Millisecond) // polling the table, not waiting for an event
	}
	if err := s.UseToken(ctx, live, future); parley.ErrorCodeOf(err) != parley.ConflictException {
		t.Fatalf("reusing the live token after the purge: err=%v, want ConflictException", err)
	}
	t.Run("PurgeTokens", func(t *testing.T) {
		s := MustOpen(t, pgtest.URL(t))
		for range 3 {
			if err := s.UseToken(ctx, parley.NewTokenID(), past); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.PurgeTokens(ctx, time.Now()); err != nil || n != 3 {
			t.Fatalf("PurgeTokens=%d, %v; want 3", n, err)
		}
	})
}

func TestChangesSeenByOtherStore(t *testing.T) {
	ctx := context.Background()
	_, stores := openN(t, 2)
	a, b := stores[0], stores[1]
	lc := newLC()
	if err := a.CreateLoggingConfiguration(ctx, lc, 0); err != nil {
		t.Fatal(err)
	}
	r := newRoom()
	if err := a.CreateRoom(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	arn, _ := parley.ParseARN(r.ARN)
	last := mustFind(t, b, r.ID).Version
	name, length := "renamed", 42
	steps := []struct {
		name   string
		change func() error
		check  func(*parley.Room) bool
	}{
		{"UpdateRoom", func() error {
			_, err := a.UpdateRoom(ctx, r.ID, parley.RoomUpdate{Name: &name, MaximumMessageLength: &length}, time.Now())
			return err
		}, func(got *parley.Room) bool { return got.Name == name && got.MaximumMessageLength == length }},
		{"AttachLoggingConfiguration", func() error {
			_, err := a.UpdateRoom(ctx, r.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: &[]string{lc.ARN}}, time.Now())
			return err
		}, func(got *parley.Room) bool {
			return len(got.LoggingConfigurationIdentifiers) == 1 && got.LoggingConfigurationIdentifiers[0] == lc.ARN
		}},
		{"TagResource", func() error { return a.TagResource(ctx, arn, map[string]string{"k": "v"}, 0) },
			func(got *parley.Room) bool { return got.Tags["k"] == "v" }},
		{"UntagResource", func() error { return a.UntagResource(ctx, arn, []string{"k"}) },
			func(got *parley.Room) bool { return len(got.Tags) == 0 }},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s on store A: %v", st.name, err)
		}
		got := mustFind(t, b, r.ID)
		if !st.check(got) || got.Version <= last {
			t.Fatalf("%s: store B reads %+v (version %d, was %d)", st.name, got, got.Version, last)
		}
		last = got.Version
	}
	if err := a.DeleteRoom(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FindRoom(ctx, r.ID); parley.ErrorCodeOf(err) != parley.ResourceNotFoundException {
		t.Fatalf("store B after DeleteRoom on A: err=%v, want ResourceNotFoundException", err)
	}
}

func mustFind(t *testing.T, s *postgres.Store, id string) *parley.Room {
	t.Helper()
	r, err := s.FindRoom(context.Background(), id)
	if err != nil {
		t.Fatalf("FindRoom: %v", err)
	}
	return r
}

func TestLoadOrCreateSecretRace(t *testing.T) {
	ctx := context.Background()
	_, stores := openN(t, 3)
	const callers = 12
	var mu sync.Mutex
	created := 0
	got := make([][]byte, callers)
	errs := parallel(callers, func(i int) (err error) {
		got[i], err = stores[i%3].LoadOrCreateSecret(ctx, "token-key", func() ([]byte, error) {
			mu.Lock()
			created++
			mu.Unlock()
			b := make([]byte, 32)
			rand.Read(b)
			return b, nil
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if string(got[i]) != string(got[0]) {
			t.Fatalf("caller %d got %x, caller 0 %x: want one value", i, got[i], got[0])
		}
	}
	if len(got[0]) != 32 {
		t.Fatalf("secret of %d bytes, want 32", len(got[0]))
	}
	t.Logf("%d of %d callers created a value; one was kept", created, callers)
}

// TestDeleteLoggingConfigurationWhileAttaching races rooms being created
// with a configuration attached, on two stores, against its deletion on a
// third: each create either attaches it or finds it gone, the delete either
// succeeds or is refused, and never is a room left naming a configuration
// that no longer exists.
func TestDeleteLoggingConfigurationWhileAttaching(t *testing.T) {
	ctx := context.Background()
	_, stores := openN(t, 3)
	for round := range 10 {
		lc := newLC()
		if err := stores[0].CreateLoggingConfiguration(ctx, lc, 0); err != nil {
			t.Fatal(err)
		}
		rooms := []*parley.Room{newRoom(), newRoom()}
		errs := parallel(3, func(i int) error {
			if i == 2 {
				return stores[2].DeleteLoggingConfiguration(ctx, lc.ID)
			}
			rooms[i].LoggingConfigurationIdentifiers = []string{lc.ARN}
			return stores[i].CreateRoom(ctx, rooms[i], 0)
		})
		created := 0
		for i, r := range rooms {
			switch parley.ErrorCodeOf(errs[i]) {
			case "":
				created++
			case parley.ResourceNotFoundException:
				if pe := parleyError(errs[i]); pe.ResourceID != lc.ID {
					t.Fatalf("round %d: create of %s: resourceId=%q, want %q", round, r.ID, pe.ResourceID, lc.ID)
				}
			default:
				t.Fatalf("round %d: create: %v", round, errs[i])
			}
		}
		switch parley.ErrorCodeOf(errs[2]) {
		case "":
			if created > 0 {
				t.Fatalf("round %d: configuration deleted while %d rooms have it", round, created)
			}
		case parley.ConflictException:
			if created == 0 {
				t.Fatalf("round %d: delete refused, but no room has the configuration", round)
			}
		default:
			t.Fatalf("round %d: delete: %v", round, errs[2])
		}
	}
}
