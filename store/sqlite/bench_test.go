package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// BenchmarkUseToken measures recording distinct tokens, each durable before
// UseToken returns. Serial pays one fsync per call; with parallel callers
// (as on a burst of WebSocket connects) the group commit shares fsyncs.
func BenchmarkUseToken(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	b.Run("serial", func(b *testing.B) {
		s := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
		ids := tokenIDs(b.N)
		b.ResetTimer()
		for i := range b.N {
			if err := s.UseToken(context.Background(), ids[i], exp); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Token IDs from parley.NewTokenID sort by time, so a batch lands on
	// few pages of the index; random IDs dirty a page each.
	for _, ids := range []struct {
		name string
		new  func() string
	}{{"parallel", parley.NewTokenID}, {"parallel-random-ids", parley.NewID}} {
		b.Run(ids.name, func(b *testing.B) {
			s := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
			b.SetParallelism(64) // many connects in flight, as under load
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.UseToken(context.Background(), ids.new(), exp); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func tokenIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = parley.NewTokenID()
	}
	return ids
}

// BenchmarkFindRoom reads one of 1,000 rooms, each with tags and a logging
// configuration.
func BenchmarkFindRoom(b *testing.B) {
	ctx := context.Background()
	s := MustOpen(b, filepath.Join(b.TempDir(), "bench.db"))
	at := time.Now()
	lcID := parley.NewID()
	lc := &parley.LoggingConfiguration{
		ID: lcID, ARN: "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/" + lcID,
		State: parley.StateActive, CreateTime: at, UpdateTime: at,
		Destination: parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "b"}},
	}
	if err := s.CreateLoggingConfiguration(ctx, lc, 0); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1000)
	for i := range ids {
		id := parley.NewID()
		ids[i] = id
		r := &parley.Room{
			ID: id, ARN: "arn:aws:ivschat:us-east-1:123456789012:room/" + id, Name: "room",
			MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
			MessageReviewHandler:            &parley.MessageReviewHandler{URI: "https://r.example/", FallbackResult: parley.FallbackAllow},
			LoggingConfigurationIdentifiers: []string{lc.ARN},
			Tags:                            map[string]string{"team": "chat", "env": "prod"},
			CreateTime:                      at, UpdateTime: at,
		}
		if err := s.CreateRoom(ctx, r, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := s.FindRoom(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A new goroutine per call, as for every WebSocket upgrade on a new
	// connection: its stack starts small.
	b.Run("new-goroutine", func(b *testing.B) {
		b.ReportAllocs()
		errs := make(chan error)
		for i := range b.N {
			go func() {
				_, err := s.FindRoom(ctx, ids[i%len(ids)])
				errs <- err
			}()
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.FindRoom(ctx, ids[i%len(ids)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
