package chatlog_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/store/sqlite"
)

// TestOutage: CloudWatch Logs is down while records flow, the Logger is
// closed and reopened on the same spool in the middle, then CloudWatch comes
// back: every record arrives once, unchanged.
func TestOutage(t *testing.T) {
	dir := t.TempDir()
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("/ivs/chat")
	fake.SetMode(chatlogtest.Unavailable)
	e := newEnv(t, dir, cwDest("/ivs/chat"))
	label := "cloudwatch:/ivs/chat"

	cfg := testConfig(e.store, dir, clients(fake.URL))
	l := mustOpen(t, cfg)
	recs := record(t, l, e.room, 0, 50)
	waitFor(t, "failed deliveries", func() bool { return counter(t, cfg, "parley_chatlog_delivery_failures_total", label) >= 2 })
	start := time.Now()
	mustClose(t, l, 100*time.Millisecond) // gives up: the destination is down
	t.Logf("close took %v", time.Since(start))

	cfg = testConfig(e.store, dir, clients(fake.URL))
	l = mustOpen(t, cfg)
	defer mustClose(t, l, time.Second)
	recs = append(recs, record(t, l, e.room, 50, 100)...)
	waitFor(t, "failed deliveries after restart", func() bool { return counter(t, cfg, "parley_chatlog_delivery_failures_total", label) >= 1 })
	fake.SetMode(chatlogtest.Up)
	t.Logf("up at %v", time.Since(start))

	stream := cloudwatch.StreamName(e.room.ID)
	waitFor(t, "100 log events", func() bool { return len(fake.LogEvents("/ivs/chat", stream)) >= 100 })
	waitFor(t, "delivered counter", func() bool { return counter(t, cfg, "parley_chatlog_records_delivered_total", label) == 100 })
	var lines []string
	for _, ev := range fake.LogEvents("/ivs/chat", stream) {
		lines = append(lines, ev.Message)
	}
	if diff := cmp.Diff(wantLines(recs), parseLines(t, lines)); diff != "" {
		t.Errorf("records after the outage (-want +got):\n%s", diff)
	}
	if got := counter(t, cfg, "parley_chatlog_records_dropped_total", label); got != 0 {
		t.Errorf("records_dropped_total=%v, want 0", got)
	}
}

const crashRecords = 40

// TestCrash: a process records into the spool while CloudWatch Logs is
// unreachable and is killed (SIGKILL, no Close); a new Logger on the same
// spool delivers every record.
func TestCrash(t *testing.T) {
	if dir := os.Getenv("CHATLOG_CRASH_DIR"); dir != "" {
		crashChild(t, dir, os.Getenv("CHATLOG_CRASH_ROOM"))
		return
	}
	dir := t.TempDir()
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("/ivs/chat")
	e := newEnv(t, dir, cwDest("/ivs/chat"))

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "CHATLOG_CRASH_DIR="+dir, "CHATLOG_CRASH_ROOM="+e.room.ID)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("child: %v, want killed by a signal; output:\n%s", err, out)
	}

	l := mustOpen(t, testConfig(e.store, dir, clients(fake.URL)))
	defer mustClose(t, l, time.Second)
	stream := cloudwatch.StreamName(e.room.ID)
	waitFor(t, "records of the killed process", func() bool { return len(fake.LogEvents("/ivs/chat", stream)) >= crashRecords })
	var want []*parley.LogRecord
	for i := range crashRecords {
		want = append(want, message(e.room, i))
	}
	var lines []string
	for _, ev := range fake.LogEvents("/ivs/chat", stream) {
		lines = append(lines, ev.Message)
	}
	if diff := cmp.Diff(wantLines(want), parseLines(t, lines)); diff != "" {
		t.Errorf("records after the crash (-want +got):\n%s", diff)
	}
}

// crashChild records into a Logger whose destination is unreachable, waits
// until a delivery was attempted, and kills its own process.
func crashChild(t *testing.T, dir, roomID string) {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(st, dir, clients("http://127.0.0.1:1")) // nothing listens there
	l := mustOpen(t, cfg)
	room, err := st.FindRoom(context.Background(), roomID)
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, room, 0, crashRecords)
	waitFor(t, "a failed delivery", func() bool {
		return counter(t, cfg, "parley_chatlog_delivery_failures_total", "cloudwatch:/ivs/chat") >= 1
	})
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // not reached
}
