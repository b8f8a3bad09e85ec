package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/store/sqlite"
)

// TestRoomCacheSeesOtherStores checks that a room FindRoom has cached is
// read again once another Store on the same file (as another process or
// node would) or a plain SQL connection changes it.
func TestRoomCacheSeesOtherStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	a, b := MustOpen(t, path), MustOpen(t, path)
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	lc := &parley.LoggingConfiguration{
		ID: "LC0000000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/LC0000000001",
		State: parley.StateActive, CreateTime: at, UpdateTime: at,
		Destination: parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "b"}},
	}
	if err := b.CreateLoggingConfiguration(ctx, lc, 0); err != nil {
		t.Fatal(err)
	}
	want := &parley.Room{
		ID: "Room00000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:room/Room00000001",
		Name: "r", MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
		Tags: map[string]string{"k": "v"}, LoggingConfigurationIdentifiers: []string{},
		CreateTime: at, UpdateTime: at,
	}
	if err := b.CreateRoom(ctx, want, 0); err != nil {
		t.Fatal(err)
	}
	arn, _ := parley.ParseARN(want.ARN)
	changes := []struct {
		name   string
		change func(t *testing.T)
	}{
		{"UpdateRoom", func(t *testing.T) {
			name := "renamed"
			at = at.Add(time.Second)
			if _, err := b.UpdateRoom(ctx, want.ID, parley.RoomUpdate{Name: &name}, at); err != nil {
				t.Fatal(err)
			}
			want.Name, want.UpdateTime = name, at
			want.Version++
		}},
		{"TagResource", func(t *testing.T) {
			if err := b.TagResource(ctx, arn, map[string]string{"k2": "v2"}, 0); err != nil {
				t.Fatal(err)
			}
			want.Tags["k2"] = "v2"
			want.Version++
		}},
		{"UntagResource", func(t *testing.T) {
			if err := b.UntagResource(ctx, arn, []string{"k"}); err != nil {
				t.Fatal(err)
			}
			delete(want.Tags, "k")
			want.Version++
		}},
		{"AttachLoggingConfiguration", func(t *testing.T) {
			arns := []string{lc.ARN}
			at = at.Add(time.Second)
			upd := parley.RoomUpdate{LoggingConfigurationIdentifiers: &arns}
			if _, err := b.UpdateRoom(ctx, want.ID, upd, at); err != nil {
				t.Fatal(err)
			}
			want.LoggingConfigurationIdentifiers, want.UpdateTime = arns, at
			want.Version++
		}},
		{"PlainSQL", func(t *testing.T) {
			db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE rooms SET maximum_message_length = 42 WHERE id = ?`, want.ID); err != nil {
				t.Fatal(err)
			}
			want.MaximumMessageLength = 42 // the version is the store's: unchanged
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			mustFindRoom(t, a, want) // cached now
			c.change(t)
			mustFindRoom(t, a, want)
		})
	}
	t.Run("DeleteRoom", func(t *testing.T) {
		mustFindRoom(t, a, want)
		if err := b.DeleteRoom(ctx, want.ID); err != nil {
			t.Fatal(err)
		}
		_, err := a.FindRoom(ctx, want.ID)
		if code := parley.ErrorCodeOf(err); code != parley.ResourceNotFoundException {
			t.Fatalf("FindRoom of a room deleted by another store: err=%v, want ResourceNotFoundException", err)
		}
	})
}

// TestRoomCacheCopies checks that changing a room FindRoom returned does not
// change what the next FindRoom returns.
func TestRoomCacheCopies(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, filepath.Join(t.TempDir(), "parley.db"))
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	want := &parley.Room{
		ID: "Room00000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:room/Room00000001",
		Name: "r", MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
		MessageReviewHandler:            &parley.MessageReviewHandler{URI: "https://x.example/", FallbackResult: parley.FallbackAllow},
		Tags:                            map[string]string{"k": "v"},
		LoggingConfigurationIdentifiers: []string{},
		CreateTime:                      at, UpdateTime: at,
	}
	if err := s.CreateRoom(ctx, want, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got := mustFindRoom(t, s, want)
		got.Name = "changed"
		got.Tags["k"] = "changed"
		got.MessageReviewHandler.URI = "changed"
		got.LoggingConfigurationIdentifiers = append(got.LoggingConfigurationIdentifiers, "changed")
	}
}

func mustFindRoom(t *testing.T, s interface {
	FindRoom(context.Context, string) (*parley.Room, error)
}, want *parley.Room) *parley.Room {
	t.Helper()
	got, err := s.FindRoom(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("FindRoom: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("FindRoom (-want +got):\n%s", diff)
	}
	return got
}

// TestFindRoomConcurrent reads a room from many goroutines while another
// Store renames it: every read succeeds, and once the last rename has
// returned, every read sees it.
func TestFindRoomConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	a, b := MustOpen(t, path), MustOpen(t, path)
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &parley.Room{ID: "Room00000001", ARN: "arn:aws:ivschat:us-east-1:123456789012:room/Room00000001",
		Name: "r0", MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500, CreateTime: at, UpdateTime: at}
	if err := b.CreateRoom(ctx, r, 0); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := a.FindRoom(ctx, r.ID); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 20 {
		name := fmt.Sprint("r", i+1)
		if _, err := b.UpdateRoom(ctx, r.ID, parley.RoomUpdate{Name: &name}, at.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatalf("FindRoom: %v", err)
		}
	}
	got, err := a.FindRoom(ctx, r.ID)
	if err != nil || got.Name != "r20" {
		t.Fatalf("FindRoom after the last rename: %+v, %v; want name r20", got, err)
	}
}

// TestFindRoomCanceledOrClosed checks that FindRoom returns an error, rather
// than waiting, for a canceled context or a closed Store.
func TestFindRoomCanceledOrClosed(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.FindRoom(ctx, "Room00000001"); !errors.Is(err, context.Canceled) {
		t.Fatalf("FindRoom with a canceled context: err=%v, want context.Canceled", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindRoom(context.Background(), "Room00000001"); err == nil {
		t.Fatal("FindRoom after Close succeeded")
	}
}
