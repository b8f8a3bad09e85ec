package jetstream_test

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/jetstream"
	"github.com/parleychat/parley/chatlog/s3"
)

// streamMsgs returns how many records the test stream holds: records
// leave it only when acked.
func streamMsgs(t *testing.T, ns *server.Server) uint64 {
	t.Helper()
	js, err := njs.New(connect(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), "TEST_CHATLOG")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// distinct returns the distinct lines, sorted, and how many were
// duplicates.
func distinct(lines []string) ([]string, int) {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, len(lines) - len(out)
}

// blocking is a destination whose Deliver holds its batch until its
// context ends, as a node that dies in the middle of a delivery would.
type blocking struct {
	parley.LogDestination
	entered chan struct{}
}

func (b *blocking) Deliver(ctx context.Context, room parley.ARN, recs [][]byte) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestNodeLost: node A takes records while their destination cannot store
// them and is lost for good (killed, its data dir deleted); node B, which
// never saw the destination, delivers every record once it is back.
func TestNodeLost(t *testing.T) {
	t.Run("DestinationDown", func(t *testing.T) {
		ns := startNATS(t)
		fake := chatlogtest.NewAWS(t)
		fake.CreateLogGroup("/ivs/chat")
		fake.SetMode(chatlogtest.Unavailable)
		cs, room := newRoom(cwDest("/ivs/chat"))
		cw := map[string]chatlog.Opener{cloudwatch.Kind: cloudwatch.Opener(cwClient(fake.URL))}

		dirA := t.TempDir()
		a := startNode(t, ns, cs, cw, dirA)
		sent := record(t, a.l, room, 0, 200)
		waitFor(t, "failed deliveries on A", 10*time.Second, func() bool {
			return counter(t, a.cfg, "parley_chatlog_delivery_failures_total", "cloudwatch:/ivs/chat") >= 3
		})
		a.kill(t)
		os.RemoveAll(dirA)
		if n := streamMsgs(t, ns); n != 200 {
			t.Fatalf("stream holds %d records after A died, want all 200", n)
		}
		fake.SetMode(chatlogtest.Up)

		b := startNode(t, ns, cs, cw, t.TempDir())
		defer b.l.Close(context.Background())
		stream := cloudwatch.StreamName(room.ID)
		waitFor(t, "every record through B", 20*time.Second, func() bool {
			got, _ := distinct(fake.Messages("/ivs/chat", stream))
			return len(got) >= len(sent)
		})
		waitFor(t, "the stream to empty", 10*time.Second, func() bool { return streamMsgs(t, ns) == 0 })
		got, dups := distinct(fake.Messages("/ivs/chat", stream))
		want, _ := distinct(sent)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("records delivered by B (-want +got):\n%s", diff)
		}
		t.Logf("%d records delivered twice (at least once)", dups)
	})
	t.Run("HeldBatch", func(t *testing.T) {
		ns := startNATS(t)
		fake := chatlogtest.NewAWS(t)
		fake.CreateLogGroup("/ivs/chat")
		cs, room := newRoom(cwDest("/ivs/chat"))
		held := &blocking{entered: make(chan struct{}, 1)}
		hold := map[string]chatlog.Opener{cloudwatch.Kind: func(c parley.DestinationConfiguration, target string) parley.LogDestination {
			held.LogDestination = cloudwatch.Opener(cwClient(fake.URL))(c, target)
			return held
		}}

		dirA := t.TempDir()
		a := startNode(t, ns, cs, hold, dirA)
		sent := record(t, a.l, room, 0, 50)
		select {
		case <-held.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("A never delivered")
		}
		killed := time.Now()
		a.kill(t)
		os.RemoveAll(dirA)

		cw := map[string]chatlog.Opener{cloudwatch.Kind: cloudwatch.Opener(cwClient(fake.URL))}
		b := startNode(t, ns, cs, cw, t.TempDir())
		defer b.l.Close(context.Background())
		stream := cloudwatch.StreamName(room.ID)
		waitFor(t, "every record through B", 20*time.Second, func() bool {
			got, _ := distinct(fake.Messages("/ivs/chat", stream))
			return len(got) >= len(sent)
		})
		t.Logf("B delivered A's batch %v after A died (AckWait 1s)", time.Since(killed))
		waitFor(t, "the stream to empty", 10*time.Second, func() bool { return streamMsgs(t, ns) == 0 })
		got, _ := distinct(fake.Messages("/ivs/chat", stream))
		want, _ := distinct(sent)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("records delivered by B (-want +got):\n%s", diff)
		}
	})
}

// TestRetryNotAcked: a batch whose delivery failed is not acked: its
// records stay in the stream and are read again after the delay, except
// those of the rooms already stored.
func TestRetryNotAcked(t *testing.T) {
	ns := startNATS(t)
	ctx := context.Background()
	sp, err := jetstream.Open(ctx, connect(t, ns), jetstream.Options{Stream: "TEST_CHATLOG", Subject: "test.chatlog", AckWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sp.Queue(ctx, "cloudwatch-x.y-0123", []byte(`{"cloudWatchLogs":{"logGroupName":"x.y"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []chatlog.Entry{{Room: "room-a", Record: []byte("a1")}, {Room: "room-b", Record: []byte("b1")}, {Room: "room-a", Record: []byte("a2")}, {Room: "room-b", Record: []byte("b2")}} {
		if _, err := q.Append(ctx, e.Room, e.Record); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []chatlog.Entry {
		t.Helper()
		b, err := q.Read(ctx, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return nil
		}
		t.Cleanup(func() { b.Ack(ctx) })
		return b.Entries()
	}
	b, err := q.Read(ctx, 100, 1<<20)
	if err != nil || b == nil || len(b.Entries()) != 4 {
		t.Fatalf("Read: %v, %v; want 4 entries", b, err)
	}
	if got := read(); got != nil {
		t.Fatalf("records held by a batch read again: %v", got)
	}
	keep, err := b.Retry(ctx, map[string]bool{"room-a": true}, 300*time.Millisecond)
	if err != nil || keep {
		t.Fatalf("Retry: keep=%v err=%v, want the batch handed back", keep, err)
	}
	if got := read(); got != nil {
		t.Fatalf("records read again before the delay: %v", got)
	}
	if n := streamMsgs(t, ns); n != 2 {
		t.Fatalf("stream holds %d records, want room-b's 2 (room-a's acked)", n)
	}
	var got []chatlog.Entry
	// Each record comes back on its own timer: gather them.
	waitFor(t, "the records to come back", 5*time.Second, func() bool { got = append(got, read()...); return len(got) >= 2 })
	sort.Slice(got, func(i, j int) bool { return string(got[i].Record) < string(got[j].Record) })
	want := []chatlog.Entry{{Room: "room-b", Record: []byte("b1")}, {Room: "room-b", Record: []byte("b2")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records after the retry (-want +got):\n%s", diff)
	}
}

// TestLoggerRetries: while the destination fails, the worker keeps
// retrying and acks nothing; once it is back, every record is delivered
// and leaves the stream.
func TestLoggerRetries(t *testing.T) {
	ns := startNATS(t)
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("/ivs/chat")
	fake.SetMode(chatlogtest.Unavailable)
	cs, room := newRoom(cwDest("/ivs/chat"))
	n := startNode(t, ns, cs, map[string]chatlog.Opener{cloudwatch.Kind: cloudwatch.Opener(cwClient(fake.URL))}, t.TempDir())
	defer n.l.Close(context.Background())
	sent := record(t, n.l, room, 0, 20)
	waitFor(t, "three failed deliveries", 10*time.Second, func() bool {
		return counter(t, n.cfg, "parley_chatlog_delivery_failures_total", "cloudwatch:/ivs/chat") >= 3
	})
	if got := streamMsgs(t, ns); got != 20 {
		t.Fatalf("stream holds %d records after failed deliveries, want 20 (none acked)", got)
	}
	if got := counter(t, n.cfg, "parley_chatlog_records_delivered_total", "cloudwatch:/ivs/chat"); got != 0 {
		t.Fatalf("delivered=%v while the destination is down", got)
	}
	fake.SetMode(chatlogtest.Up)
	stream := cloudwatch.StreamName(room.ID)
	waitFor(t, "delivery", 10*time.Second, func() bool { got, _ := distinct(fake.Messages("/ivs/chat", stream)); return len(got) == 20 })
	waitFor(t, "the stream to empty", 10*time.Second, func() bool { return streamMsgs(t, ns) == 0 })
	got, _ := distinct(fake.Messages("/ivs/chat", stream))
	want, _ := distinct(sent)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestS3Batching: through JetStream, S3 still gets one object per room per
// object interval, and its records are acked once the object is written.
func TestS3Batching(t *testing.T) {
	ns := startNATS(t)
	fake := chatlogtest.NewS3(t, "chat-logs")
	cs, room := newRoom(parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "chat-logs"}})
	other := *room
	other.ID = parley.NewID()
	other.ARN = parley.ARN{Region: chatlogtest.Region, AccountID: chatlogtest.Account, Resource: parley.ResourceRoom, ID: other.ID}.String()
	n := startNode(t, ns, cs, map[string]chatlog.Opener{s3.Kind: s3.Opener(fake.Client())}, t.TempDir())
	defer n.l.Close(context.Background())
	sent := map[string][]string{room.ID: record(t, n.l, room, 0, 30), other.ID: record(t, n.l, &other, 100, 130)}
	if got := streamMsgs(t, ns); got != 60 {
		t.Fatalf("stream holds %d records before the object interval, want 60", got)
	}
	waitFor(t, "the stream to empty", 10*time.Second, func() bool { return streamMsgs(t, ns) == 0 })
	for id, lines := range sent {
		prefix := "AWSLogs/" + chatlogtest.Account + "/IVSChatLogs/1.0/" + chatlogtest.Region + "/room_" + id + "/"
		objs, err := fake.Objects(context.Background(), "chat-logs", prefix)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 {
			t.Errorf("room %s: %d objects, want 1 for one object interval", id, len(objs))
		}
		got, err := fake.Lines(context.Background(), "chat-logs", prefix)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(lines, got); diff != "" {
			t.Errorf("room %s records (-want +got):\n%s", id, diff)
		}
	}
}

// TestCloseLeavesRecords: a node that closes does not wait to deliver: its
// records stay in the stream, and another node delivers them.
func TestCloseLeavesRecords(t *testing.T) {
	ns := startNATS(t)
	fake := chatlogtest.NewS3(t, "chat-logs")
	cs, room := newRoom(parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "chat-logs"}})
	dests := map[string]chatlog.Opener{s3.Kind: s3.Opener(fake.Client())}
	a := startNode(t, ns, cs, dests, t.TempDir())
	sent := record(t, a.l, room, 0, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := a.l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v, want no wait for delivery", d)
	}
	if n := streamMsgs(t, ns); n != 10 {
		t.Fatalf("stream holds %d records after Close, want 10", n)
	}
	b := startNode(t, ns, cs, dests, t.TempDir())
	defer b.l.Close(context.Background())
	waitFor(t, "the stream to empty", 10*time.Second, func() bool { return streamMsgs(t, ns) == 0 })
	prefix := "AWSLogs/" + chatlogtest.Account + "/IVSChatLogs/1.0/" + chatlogtest.Region + "/room_" + room.ID + "/"
	got, err := fake.Lines(context.Background(), "chat-logs", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}
