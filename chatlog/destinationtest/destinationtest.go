// Package destinationtest is the contract suite that every
// parley.LogDestination passes, each against its fake (chatlog/chatlogtest)
// or real files: Run it from the destination package's tests.
//
// It checks what the chat logger relies on: records of one Deliver are
// stored unchanged and in order; a Deliver that fails (service down,
// target missing) returns an error, and the same records delivered again
// once it is back are all stored; delivering records a second time (the
// logger's retry after a lost answer) succeeds; batches beyond a service's
// per-call limits are split; Check tells an existing target from a missing
// one; and the destination declares the batching it wants.
package destinationtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
)

// Harness describes a kind of destination to the suite.
type Harness struct {
	// Batching is what the destination must declare.
	Batching parley.LogBatching
	// New returns a fresh environment (its own target) for one subtest.
	New func(t *testing.T) *Env
}

// Env is one destination under test and the means to look behind it.
type Env struct {
	// Dest delivers to a target that exists.
	Dest parley.LogDestination
	// Missing delivers to a target that does not exist; nil when every
	// target exists (local files).
	Missing parley.LogDestination
	// Stored returns the records (JSON lines, no newline) stored in Dest's
	// target for the given rooms, each room's in the order stored.
	Stored func(t *testing.T, rooms ...parley.ARN) []string
	// SetDown makes Dest's service fail every call (true) or serve again
	// (false).
	SetDown func(t *testing.T, down bool)
}

// Room returns the ARN of the n-th test room.
func Room(n int) parley.ARN {
	return parley.ARN{Region: "us-east-1", AccountID: "000000000000", Resource: parley.ResourceRoom, ID: fmt.Sprintf("room%08d", n)}
}

// Records returns n encoded MESSAGE records of room, one millisecond apart
// from start, with content that needs JSON escaping.
func Records(room parley.ARN, start time.Time, from, n int) [][]byte {
	var out [][]byte
	for i := from; i < from+n; i++ {
		sent := start.Add(time.Duration(i) * time.Millisecond)
		m := parley.Message{
			ID: fmt.Sprintf("%s-msg%06d", room.ID, i), RequestID: fmt.Sprint("req-", i),
			Content:    fmt.Sprintf("hello %d \"quoted\" é \u2028 <tag>", i),
			Attributes: map[string]string{"n": fmt.Sprint(i)}, SendTime: sent,
			Sender: parley.Sender{UserID: "user-1", Attributes: map[string]string{"username": "Max"}},
		}
		rec := parley.LogRecord{Time: sent, Type: parley.TypeMessage, Payload: m.AppendJSON(nil)}
		out = append(out, rec.AppendJSON(nil))
	}
	return out
}

var t0 = time.Date(2025, 8, 14, 5, 50, 5, 533000000, time.UTC)

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("Batching", func(t *testing.T) {
		if got := h.New(t).Dest.Batching(); got != h.Batching {
			t.Fatalf("Batching()=%v, want %v", got, h.Batching)
		}
	})
	t.Run("OK", func(t *testing.T) { testOK(t, h.New(t)) })
	t.Run("TwoRooms", func(t *testing.T) { testTwoRooms(t, h.New(t)) })
	t.Run("Large", func(t *testing.T) { testLarge(t, h.New(t)) })
	t.Run("DeliveredAgain", func(t *testing.T) { testDeliveredAgain(t, h.New(t)) })
	t.Run("ErrDown", func(t *testing.T) { testDown(t, h.New(t)) })
	t.Run("Check", func(t *testing.T) {
		e := h.New(t)
		if err := e.Dest.Check(context.Background()); err != nil {
			t.Fatalf("Check of an existing target: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e := h.New(t)
		if e.Missing == nil {
			t.Skip("every target of this destination exists")
		}
		ctx := context.Background()
		if code := parley.ErrorCodeOf(e.Missing.Check(ctx)); code != parley.ResourceNotFoundException {
			t.Errorf("Check of a missing target: code %q, want %s", code, parley.ResourceNotFoundException)
		}
		if err := e.Missing.Deliver(ctx, Room(1), Records(Room(1), t0, 0, 3)); err == nil {
			t.Errorf("Deliver to a missing target: nil error, want one (the records must be kept)")
		}
	})
}

func deliver(t *testing.T, d parley.LogDestination, room parley.ARN, recs [][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Deliver(ctx, room, recs); err != nil {
		t.Fatalf("Deliver %d records of %s: %v", len(recs), room.ID, err)
	}
}

func lines(recs ...[][]byte) []string {
	var out []string
	for _, rs := range recs {
		for _, r := range rs {
			out = append(out, string(r))
		}
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func testOK(t *testing.T, e *Env) {
	recs := Records(Room(1), t0, 0, 25)
	deliver(t, e.Dest, Room(1), recs)
	if diff := cmp.Diff(lines(recs), e.Stored(t, Room(1))); diff != "" {
		t.Errorf("stored records (-want +got):\n%s", diff)
	}
}

func testTwoRooms(t *testing.T, e *Env) {
	a, b := Records(Room(1), t0, 0, 10), Records(Room(2), t0, 0, 10)
	deliver(t, e.Dest, Room(1), a)
	deliver(t, e.Dest, Room(2), b)
	if diff := cmp.Diff(sorted(lines(a, b)), sorted(e.Stored(t, Room(1), Room(2)))); diff != "" {
		t.Errorf("stored records of two rooms (-want +got):\n%s", diff)
	}
}

// testLarge delivers more records and bytes than one call of any of the
// services takes (Firehose: 500 records or 4 MiB; CloudWatch Logs: 1 MiB).
func testLarge(t *testing.T, e *Env) {
	recs := Records(Room(1), t0, 0, 1200)
	pad := strings.Repeat("x", 4000)
	for i := range recs[:600] {
		recs[i] = []byte(strings.Replace(string(recs[i]), `"hello `, `"`+pad+` `, 1))
	}
	deliver(t, e.Dest, Room(1), recs)
	got := e.Stored(t, Room(1))
	if len(got) != len(recs) {
		t.Fatalf("%d records stored, want %d", len(got), len(recs))
	}
	if diff := cmp.Diff(sorted(lines(recs)), sorted(got)); diff != "" {
		t.Errorf("stored records (-want +got):\n%s", diff)
	}
}

// testDeliveredAgain: the logger delivers a batch again when it did not
// see the first answer; the second Deliver succeeds and loses nothing.
func testDeliveredAgain(t *testing.T, e *Env) {
	recs := Records(Room(1), t0, 0, 5)
	deliver(t, e.Dest, Room(1), recs)
	deliver(t, e.Dest, Room(1), recs)
	got := e.Stored(t, Room(1))
	uniq := map[string]bool{}
	for _, l := range got {
		uniq[l] = true
	}
	want := map[string]bool{}
	for _, l := range lines(recs) {
		want[l] = true
	}
	if diff := cmp.Diff(want, uniq); diff != "" {
		t.Errorf("distinct records stored (-want +got):\n%s", diff)
	}
}

func testDown(t *testing.T, e *Env) {
	ctx := context.Background()
	recs := Records(Room(1), t0, 0, 8)
	e.SetDown(t, true)
	if err := e.Dest.Deliver(ctx, Room(1), recs); err == nil {
		t.Fatal("Deliver while the service is down: nil error, want one")
	}
	e.SetDown(t, false)
	deliver(t, e.Dest, Room(1), recs)
	got := e.Stored(t, Room(1))
	uniq := map[string]bool{}
	for _, l := range got {
		uniq[l] = true
	}
	for _, l := range lines(recs) {
		if !uniq[l] {
			t.Errorf("record %.60s… missing after the service came back", l)
		}
	}
}
