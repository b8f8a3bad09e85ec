package storetest

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func destinations() map[string]parley.DestinationConfiguration {
	return map[string]parley.DestinationConfiguration{
		"S3":             {S3: &parley.S3Destination{BucketName: "my-bucket"}},
		"CloudWatchLogs": {CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "/ivs/chat"}},
		"Firehose":       {Firehose: &parley.FirehoseDestination{DeliveryStreamName: "chat-stream"}},
	}
}

func testLoggingConfiguration(t *testing.T, open func(t *testing.T) parley.Store) {
	for name, dest := range destinations() {
		t.Run("RoundTrip"+name, func(t *testing.T) {
			s := open(t)
			c := newLC(time.Date(2022, 3, 4, 5, 6, 7, 999999999, time.FixedZone("Y", 5*3600+1800)))
			c.UpdateTime = c.CreateTime.Add(3 * time.Nanosecond)
			c.Destination = dest
			c.Tags = map[string]string{"env": "prod", "blank": ""}
			want := *c
			want.Tags = map[string]string{"env": "prod", "blank": ""}
			mustCreateLC(t, s, c)
			wantLC(t, mustFindLC(t, s, c.ID), &want)
		})
	}
	t.Run("NoNameNoTags", func(t *testing.T) {
		s := open(t)
		c := newLC(t0)
		c.Name = ""
		mustCreateLC(t, s, c)
		wantLC(t, mustFindLC(t, s, c.ID), c)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		_, err := s.FindLoggingConfiguration(ctx, id)
		wantError(t, err, parley.ResourceNotFoundException, id)
	})
	t.Run("ErrServiceQuotaExceeded", func(t *testing.T) {
		s := open(t)
		for range 2 {
			if err := s.CreateLoggingConfiguration(ctx, newLC(t0), 2); err != nil {
				t.Fatalf("CreateLoggingConfiguration: %v", err)
			}
		}
		c := newLC(t0)
		pe := wantError(t, s.CreateLoggingConfiguration(ctx, c, 2), parley.ServiceQuotaExceededException, "")
		if pe.Limit != 2 {
			t.Fatalf("limit=%d, want 2", pe.Limit)
		}
		if _, err := s.FindLoggingConfiguration(ctx, c.ID); err == nil {
			t.Fatal("configuration over the quota was stored")
		}
		if err := s.CreateLoggingConfiguration(ctx, c, 0); err != nil {
			t.Fatalf("CreateLoggingConfiguration(max=0): %v", err)
		}
	})
}

func testUpdateLoggingConfiguration(t *testing.T, open func(t *testing.T) parley.Store) {
	now := t0.Add(time.Minute + 7*time.Nanosecond)
	t.Run("Name", func(t *testing.T) {
		s := open(t)
		c := newLC(t0)
		c.Tags = map[string]string{"k": "v"}
		mustCreateLC(t, s, c)
		got, err := s.UpdateLoggingConfiguration(ctx, c.ID, parley.LoggingConfigurationUpdate{Name: ptr("new")}, now)
		if err != nil {
			t.Fatalf("UpdateLoggingConfiguration: %v", err)
		}
		c.Name, c.UpdateTime = "new", now
		wantLC(t, got, c)
		wantLC(t, mustFindLC(t, s, c.ID), c)
	})
	t.Run("DestinationReplaced", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		dest := parley.DestinationConfiguration{Firehose: &parley.FirehoseDestination{DeliveryStreamName: "s"}}
		got, err := s.UpdateLoggingConfiguration(ctx, c.ID, parley.LoggingConfigurationUpdate{Destination: &dest}, now)
		if err != nil {
			t.Fatalf("UpdateLoggingConfiguration: %v", err)
		}
		c.Destination, c.UpdateTime = dest, now // the S3 member is gone
		wantLC(t, got, c)
		wantLC(t, mustFindLC(t, s, c.ID), c)
	})
	t.Run("NilMembersUnchanged", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		got, err := s.UpdateLoggingConfiguration(ctx, c.ID, parley.LoggingConfigurationUpdate{}, now)
		if err != nil {
			t.Fatalf("UpdateLoggingConfiguration: %v", err)
		}
		c.UpdateTime = now
		wantLC(t, got, c)
	})
	t.Run("RoomsKeepIt", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r := newRoom(t0)
		r.LoggingConfigurationIdentifiers = []string{c.ARN}
		mustCreateRoom(t, s, r)
		if _, err := s.UpdateLoggingConfiguration(ctx, c.ID, parley.LoggingConfigurationUpdate{Name: ptr("n")}, now); err != nil {
			t.Fatal(err)
		}
		wantRoom(t, mustFindRoom(t, s, r.ID), r)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		_, err := s.UpdateLoggingConfiguration(ctx, id, parley.LoggingConfigurationUpdate{Name: ptr("n")}, now)
		wantError(t, err, parley.ResourceNotFoundException, id)
	})
}

func testDeleteLoggingConfiguration(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		c := newLC(t0)
		c.Tags = map[string]string{"k": "v"}
		mustCreateLC(t, s, c)
		other := mustCreateLC(t, s, newLC(t0))
		if err := s.DeleteLoggingConfiguration(ctx, c.ID); err != nil {
			t.Fatalf("DeleteLoggingConfiguration: %v", err)
		}
		_, err := s.FindLoggingConfiguration(ctx, c.ID)
		wantError(t, err, parley.ResourceNotFoundException, c.ID)
		_, err = s.FindTags(ctx, parseARN(t, c.ARN))
		wantError(t, err, parley.ResourceNotFoundException, c.ID)
		mustFindLC(t, s, other.ID)
		wantError(t, s.DeleteLoggingConfiguration(ctx, c.ID), parley.ResourceNotFoundException, c.ID)
	})
	t.Run("ErrConflictWhileAttached", func(t *testing.T) {
		s := open(t)
		c := mustCreateLC(t, s, newLC(t0))
		r1, r2 := newRoom(t0), newRoom(t0)
		r1.LoggingConfigurationIdentifiers = []string{c.ARN}
		r2.LoggingConfigurationIdentifiers = []string{c.ARN}
		mustCreateRoom(t, s, r1)
		mustCreateRoom(t, s, r2)
		wantError(t, s.DeleteLoggingConfiguration(ctx, c.ID), parley.ConflictException, "")
		mustFindLC(t, s, c.ID)
		wantRoom(t, mustFindRoom(t, s, r1.ID), r1)
		// Still attached to r2 after r1 lets go.
		if _, err := s.UpdateRoom(ctx, r1.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: &[]string{}}, t0); err != nil {
			t.Fatal(err)
		}
		wantError(t, s.DeleteLoggingConfiguration(ctx, c.ID), parley.ConflictException, "")
		if err := s.DeleteRoom(ctx, r2.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteLoggingConfiguration(ctx, c.ID); err != nil {
			t.Fatalf("DeleteLoggingConfiguration once detached: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		id := parley.NewID()
		wantError(t, s.DeleteLoggingConfiguration(ctx, id), parley.ResourceNotFoundException, id)
	})
}
