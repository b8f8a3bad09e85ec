package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/parleychat/parley/store/storetest"
)

// MustOpen opens a store on path and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	c := &parley.LoggingConfiguration{
		ID: "LC0000000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/LC0000000001",
		Name: "lc", State: parley.StateActive, CreateTime: at, UpdateTime: at,
		Destination: parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "g"}},
		Tags:        map[string]string{"t": "1"},
	}
	r := &parley.Room{
		ID: "Room00000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:room/Room00000001",
		Name: "r", MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
		MessageReviewHandler:            &parley.MessageReviewHandler{URI: "https://x.example/", FallbackResult: parley.FallbackDeny},
		LoggingConfigurationIdentifiers: []string{c.ARN},
		Tags:                            map[string]string{"k": "v"},
		CreateTime:                      at, UpdateTime: at.Add(time.Nanosecond),
	}
	exp := time.Now().Add(time.Hour)
	if err := s.CreateLoggingConfiguration(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRoom(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.UseToken(ctx, "token-1", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = MustOpen(t, path)
	gotRoom, err := s.FindRoom(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, gotRoom); diff != "" {
		t.Fatalf("room after reopen (-want +got):\n%s", diff)
	}
	gotLC, err := s.FindLoggingConfiguration(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, gotLC); diff != "" {
		t.Fatalf("logging configuration after reopen (-want +got):\n%s", diff)
	}
	if code := parley.ErrorCodeOf(s.UseToken(ctx, "token-1", exp)); code != parley.ConflictException {
		t.Fatalf("reusing a token after reopen: code=%q, want ConflictException", code)
	}
}

func TestMigrationsAppliedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	for range 3 {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0001_init.sql", "0002_room_version.sql", "0003_room_row_version.sql"}, got); diff != "" {
		t.Fatalf("schema_migrations (-want +got):\n%s", diff)
	}
}

func TestOpenConcurrently(t *testing.T) {
	// Two stores opened on one new file at once: both migrate under the
	// write lock, neither fails, and each sees the other's writes.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	stores := make(chan *sqlite.Store, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			s, err := sqlite.Open(ctx, path)
			stores <- s
			errs <- err
		}()
	}
	var ss []*sqlite.Store
	for range 2 {
		s := <-stores
		if err := <-errs; err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		ss = append(ss, s)
	}
	if err := ss[0].UseToken(ctx, "shared", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if code := parley.ErrorCodeOf(ss[1].UseToken(ctx, "shared", time.Now().Add(time.Hour))); code != parley.ConflictException {
		t.Fatalf("second store: code=%q, want ConflictException", code)
	}
}

func TestPurgeTokens(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "parley.db"))
	now := time.Now()
	if err := s.UseToken(ctx, "old", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.UseToken(ctx, "live", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeTokens(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("purged %d, want 1", n)
	}
	if err := s.UseToken(ctx, "old", now.Add(-time.Second)); err != nil {
		t.Fatalf("UseToken after purge: %v", err)
	}
	if code := parley.ErrorCodeOf(s.UseToken(ctx, "live", now.Add(time.Hour))); code != parley.ConflictException {
		t.Fatalf("live token after purge: code=%q, want ConflictException", code)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.UseToken(ctx, "t", time.Now().Add(time.Hour)); err == nil {
		t.Fatal("UseToken on a closed store succeeded")
	}
	if _, err := s.FindRoom(ctx, "Room00000001"); err == nil || parley.ErrorCodeOf(err) != parley.InternalServerException {
		t.Fatalf("FindRoom on a closed store: %v, want an internal error", err)
	}
}

func TestOpenInvalidPath(t *testing.T) {
	for _, p := range []string{"", "a?b", "file:x.db"} {
		if _, err := sqlite.Open(context.Background(), p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}
