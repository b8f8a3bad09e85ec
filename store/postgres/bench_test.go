package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/store/postgres/pgtest"
)

// BenchmarkFindRoom reads one of 1,000 rooms, each with tags and a logging
// configuration: one round trip per call (every CreateChatToken and every
// connect makes one).
func BenchmarkFindRoom(b *testing.B) {
	ctx := context.Background()
	s := MustOpen(b, pgtest.URL(b))
	lc := newLC()
	if err := s.CreateLoggingConfiguration(ctx, lc, 0); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1000)
	for i := range ids {
		r := newRoom()
		r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "https://r.example/", FallbackResult: parley.FallbackAllow}
		r.LoggingConfigurationIdentifiers = []string{lc.ARN}
		r.Tags = map[string]string{"team": "chat", "env": "prod"}
		if err := s.CreateRoom(ctx, r, 0); err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := s.FindRoom(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
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

// BenchmarkUseToken records distinct tokens, each committed before UseToken
// returns. With parallel callers (a burst of connects) the server's WAL
// flushes serve several commits at once.
func BenchmarkUseToken(b *testing.B) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	b.Run("serial", func(b *testing.B) {
		s := MustOpen(b, pgtest.URL(b))
		b.ReportAllocs()
		for range b.N {
			if err := s.UseToken(ctx, parley.NewTokenID(), exp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := MustOpen(b, pgtest.URL(b))
		b.ReportAllocs()
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.UseToken(ctx, parley.NewTokenID(), exp); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
