// Package storetest is the contract suite of parley.Store: every
// implementation runs Run from its own tests and must pass all of it.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) parley.Store {
//			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
//			…
//			t.Cleanup(func() { s.Close(context.Background()) })
//			return s
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/parleychat/parley"
)

// Run runs the contract suite. open is called once per subtest and must
// return a new, empty store each time, closed by a t.Cleanup it registers.
func Run(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("Room", func(t *testing.T) { testRoom(t, open) })
	t.Run("UpdateRoom", func(t *testing.T) { testUpdateRoom(t, open) })
	t.Run("DeleteRoom", func(t *testing.T) { testDeleteRoom(t, open) })
	t.Run("RoomVersion", func(t *testing.T) { testRoomVersion(t, open) })
	t.Run("FindRooms", func(t *testing.T) { testFindRooms(t, open) })
	t.Run("LoggingConfiguration", func(t *testing.T) { testLoggingConfiguration(t, open) })
	t.Run("FindLoggingConfigurations", func(t *testing.T) { testFindLoggingConfigurations(t, open) })
	t.Run("UpdateLoggingConfiguration", func(t *testing.T) { testUpdateLoggingConfiguration(t, open) })
	t.Run("DeleteLoggingConfiguration", func(t *testing.T) { testDeleteLoggingConfiguration(t, open) })
	t.Run("Tags", func(t *testing.T) { testTags(t, open) })
	t.Run("UseToken", func(t *testing.T) { testUseToken(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
}

// Fixture values. Times carry nanoseconds, which every store must keep.
const (
	region  = "us-east-1"
	account = "123456789012"
)

var (
	t0  = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	ctx = context.Background()
	// opts compares values from a store: nil and empty maps and slices are
	// equal (a store may return either), times compare with Equal. A
	// room's Version is the store's to assign; testVersion checks it.
	opts = cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(parley.Room{}, "Version")}
)

func roomARN(id string) string {
	return parley.ARN{Region: region, AccountID: account, Resource: parley.ResourceRoom, ID: id}.String()
}

func lcARN(id string) string {
	return parley.ARN{Region: region, AccountID: account, Resource: parley.ResourceLoggingConfiguration, ID: id}.String()
}

func parseARN(t *testing.T, s string) parley.ARN {
	t.Helper()
	a, err := parley.ParseARN(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newRoom returns a room with a fresh ID, created and updated at at.
func newRoom(at time.Time) *parley.Room {
	id := parley.NewID()
	return &parley.Room{
		ID:                          id,
		ARN:                         roomARN(id),
		Name:                        "room-" + id,
		MaximumMessageRatePerSecond: parley.DefaultMaximumMessageRatePerSecond,
		MaximumMessageLength:        parley.DefaultMaximumMessageLength,
		CreateTime:                  at,
		UpdateTime:                  at,
	}
}

// newLC returns a logging configuration with a fresh ID that logs to S3.
func newLC(at time.Time) *parley.LoggingConfiguration {
	id := parley.NewID()
	return &parley.LoggingConfiguration{
		ID:          id,
		ARN:         lcARN(id),
		Name:        "lc-" + id,
		Destination: parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "bucket-" + id}},
		State:       parley.StateActive,
		CreateTime:  at,
		UpdateTime:  at,
	}
}

func mustCreateRoom(t *testing.T, s parley.Store, r *parley.Room) *parley.Room {
	t.Helper()
	if err := s.CreateRoom(ctx, r, 0); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return r
}

func mustCreateLC(t *testing.T, s parley.Store, c *parley.LoggingConfiguration) *parley.LoggingConfiguration {
	t.Helper()
	if err := s.CreateLoggingConfiguration(ctx, c, 0); err != nil {
		t.Fatalf("CreateLoggingConfiguration: %v", err)
	}
	return c
}

func mustFindRoom(t *testing.T, s parley.Store, id string) *parley.Room {
	t.Helper()
	r, err := s.FindRoom(ctx, id)
	if err != nil {
		t.Fatalf("FindRoom(%s): %v", id, err)
	}
	return r
}

func mustFindLC(t *testing.T, s parley.Store, id string) *parley.LoggingConfiguration {
	t.Helper()
	c, err := s.FindLoggingConfiguration(ctx, id)
	if err != nil {
		t.Fatalf("FindLoggingConfiguration(%s): %v", id, err)
	}
	return c
}

// wantError fails unless err is a *parley.Error with code. A non-empty
// resourceID must match the error's ResourceID.
func wantError(t *testing.T, err error, code parley.ErrorCode, resourceID string) *parley.Error {
	t.Helper()
	var pe *parley.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err=%v, want a *parley.Error with code %s", err, code)
	}
	if pe.Code != code {
		t.Fatalf("code=%s (%v), want %s", pe.Code, err, code)
	}
	if resourceID != "" && pe.ResourceID != resourceID {
		t.Fatalf("resourceId=%q, want %q", pe.ResourceID, resourceID)
	}
	return pe
}

func wantRoom(t *testing.T, got, want *parley.Room) {
	t.Helper()
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Fatalf("room mismatch (-want +got):\n%s", diff)
	}
}

func wantLC(t *testing.T, got, want *parley.LoggingConfiguration) {
	t.Helper()
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Fatalf("logging configuration mismatch (-want +got):\n%s", diff)
	}
}

// roomIDs and lcIDs list IDs in order, for comparing lists.
func roomIDs(rs []*parley.Room) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func lcIDs(cs []*parley.LoggingConfiguration) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func wantIDs(t *testing.T, got, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Fatalf("IDs mismatch (-want +got):\n%s", diff)
	}
}

// fixedID returns a valid ID that sorts by n: "AAAAAAAAA" + 3 digits.
func fixedID(n int) string { return fmt.Sprintf("AAAAAAAAA%03d", n) }

func ptr[T any](v T) *T { return &v }

// clone copies a room deeply, so a test keeps its expectation even when
// the store kept the pointer it was given.
func clone(r *parley.Room) *parley.Room {
	c := *r
	if r.MessageReviewHandler != nil {
		h := *r.MessageReviewHandler
		c.MessageReviewHandler = &h
	}
	c.LoggingConfigurationIdentifiers = append([]string(nil), r.LoggingConfigurationIdentifiers...)
	if r.Tags != nil {
		c.Tags = map[string]string{}
		for k, v := range r.Tags {
			c.Tags[k] = v
		}
	}
	return &c
}
