package spool_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley/chatlog/spool"
)

func mustOpen(t *testing.T, dir string, opt spool.Options) *spool.Spool {
	t.Helper()
	s, err := spool.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func appendN(t *testing.T, q *spool.Queue, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := q.Append("room", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// drain reads and acknowledges everything, returning the records.
func drain(t *testing.T, q *spool.Queue, batch int) []string {
	t.Helper()
	var got []string
	for {
		b, err := q.Read(batch, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return got
		}
		for _, e := range b.Entries {
			got = append(got, string(e.Record))
		}
		if err := q.Ack(b); err != nil {
			t.Fatal(err)
		}
	}
}

func want(from, to int) []string {
	var w []string
	for i := from; i < to; i++ {
		w = append(w, fmt.Sprintf(`{"n":%d}`, i))
	}
	return w
}

func TestQueueOK(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, spool.Options{SegmentBytes: 100})
	q, err := s.Queue("q1", []byte("meta"))
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, q, 0, 50)
	// Read part, ack it, reopen: only the rest comes back.
	b, err := q.Read(20, 1<<20)
	if err != nil || len(b.Entries) != 20 {
		t.Fatalf("Read: %v entries, err=%v", b, err)
	}
	if err := q.Ack(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, spool.Options{SegmentBytes: 100})
	defer s.Close()
	qs := s.Queues()
	if len(qs) != 1 || string(qs[0].Meta()) != "meta" {
		t.Fatalf("queues after reopen: %d, want 1 with meta", len(qs))
	}
	if diff := cmp.Diff(want(20, 50), drain(t, qs[0], 7)); diff != "" {
		t.Errorf("records after reopen (-want +got):\n%s", diff)
	}
	if got := s.Bytes(); got != 0 {
		t.Errorf("Bytes()=%d after everything was confirmed, want 0", got)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "q1", "*.seg"))
	if len(segs) != 1 {
		t.Errorf("%d segment files left, want 1 (the empty active one)", len(segs))
	}
}

func TestQueueTornTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, spool.Options{})
	q, _ := s.Queue("q", nil)
	appendN(t, q, 0, 3)
	s.Abandon()
	segs, _ := filepath.Glob(filepath.Join(dir, "q", "*.seg"))
	f, _ := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3}) // half an entry, as a crash mid-write leaves
	f.Close()

	s = mustOpen(t, dir, spool.Options{})
	defer s.Close()
	q, _ = s.Queue("q", nil)
	appendN(t, q, 3, 5)
	if diff := cmp.Diff(want(0, 5), drain(t, q, 100)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestQueueLocked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, spool.Options{})
	defer s.Close()
	if _, err := spool.Open(dir, spool.Options{}); err == nil {
		t.Fatal("second Open of a spool in use succeeded, want an error")
	}
}

func TestSpoolBound(t *testing.T) {
	dir := t.TempDir()
	dropped := map[string]int{}
	opt := spool.Options{MaxBytes: 2000, SegmentBytes: 500, OnDrop: func(q string, n int) { dropped[q] += n }}
	s := mustOpen(t, dir, opt)
	defer s.Close()
	stuck, _ := s.Queue("stuck", nil)
	healthy, _ := s.Queue("healthy", nil)
	appendN(t, stuck, 0, 200) // ~19 bytes each on disk: far beyond 2000
	if got := s.Bytes(); got > opt.MaxBytes {
		t.Errorf("Bytes()=%d, want ≤ %d", got, opt.MaxBytes)
	}
	appendN(t, healthy, 0, 10)
	if diff := cmp.Diff(want(0, 10), drain(t, healthy, 100)); diff != "" {
		t.Errorf("healthy queue lost records at the bound (-want +got):\n%s", diff)
	}
	got := drain(t, stuck, 1000)
	if dropped["stuck"]+len(got) != 200 {
		t.Errorf("stuck: %d dropped + %d kept, want 200", dropped["stuck"], len(got))
	}
	if diff := cmp.Diff(want(200-len(got), 200), got); diff != "" {
		t.Errorf("stuck queue should keep the newest records (-want +got):\n%s", diff)
	}
	if dropped["healthy"] != 0 {
		t.Errorf("healthy queue dropped %d records, want 0", dropped["healthy"])
	}
}

func TestReadByteBound(t *testing.T) {
	s := mustOpen(t, t.TempDir(), spool.Options{})
	defer s.Close()
	q, _ := s.Queue("q", nil)
	appendN(t, q, 0, 10) // 7 bytes each
	b, err := q.Read(100, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Entries) != 2 || b.Bytes != 14 {
		t.Errorf("Read(100, 20) gave %d entries, %d bytes; want 2, 14", len(b.Entries), b.Bytes)
	}
}
