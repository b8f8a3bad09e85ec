package chatlog_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/s3"
	"github.com/prometheus/client_golang/prometheus"
)

func s3Dest(bucket string) parley.DestinationConfiguration {
	return parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: bucket}}
}

func cwDest(group string) parley.DestinationConfiguration {
	return parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: group}}
}

func fhDest(stream string) parley.DestinationConfiguration {
	return parley.DestinationConfiguration{Firehose: &parley.FirehoseDestination{DeliveryStreamName: stream}}
}

// counter returns the value of a chat log counter for one destination.
func counter(t *testing.T, cfg chatlog.Config, name, dest string) float64 {
	t.Helper()
	mfs, err := cfg.Registerer.(prometheus.Gatherer).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == name && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == dest {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func newS3(t *testing.T, buckets ...string) *awss3.Client {
	return chatlogtest.NewS3(t, buckets...).Client()
}

// gunzipLines reads the newline-delimited JSON of a .log.gz body.
func gunzipLines(t *testing.T, body []byte) []string {
	t.Helper()
	lines, err := chatlogtest.Gunzip(body)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestS3(t *testing.T) {
	dir := t.TempDir()
	client := newS3(t, "chat-logs")
	e := newEnv(t, dir, s3Dest("chat-logs"))
	cfg := testConfig(e.store, dir, map[string]chatlog.Opener{s3.Kind: s3.Opener(client)})
	l := mustOpen(t, cfg)
	recs := record(t, l, e.room, 0, 30)
	mustClose(t, l, 5*time.Second)

	ctx := context.Background()
	prefix := "AWSLogs/" + account + "/IVSChatLogs/1.0/" + region + "/room_" + e.room.ID + "/"
	out, err := client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("chat-logs"), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) == 0 {
		t.Fatalf("no objects under %s", prefix)
	}
	keyRE := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `2025/08/14/05/` + account + `_IVSChatLogs_1\.0_` + region + `_room_` + e.room.ID + `_20250814T0550Z_[0-9a-f]+\.log\.gz$`)
	var lines []string
	for _, obj := range out.Contents {
		if !keyRE.MatchString(*obj.Key) {
			t.Errorf("object key %s does not match %s", *obj.Key, keyRE)
		}
		got, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("chat-logs"), Key: obj.Key})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(got.Body)
		got.Body.Close()
		lines = append(lines, gunzipLines(t, body)...)
	}
	if diff := cmp.Diff(wantLines(recs), parseLines(t, lines)); diff != "" {
		t.Errorf("S3 records (-want +got):\n%s", diff)
	}
	if got := counter(t, cfg, "parley_chatlog_records_delivered_total", "s3:chat-logs"); got != 30 {
		t.Errorf("records_delivered_total=%v, want 30", got)
	}
}

func TestCheckDestination(t *testing.T) {
	dir := t.TempDir()
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("/ivs/chat")
	fake.CreateDeliveryStream("stream")
	d := clients(fake.URL)
	d[s3.Kind] = s3.Opener(newS3(t, "bucket"))
	e := newEnv(t, dir)
	l := mustOpen(t, testConfig(e.store, dir, d))
	defer mustClose(t, l, time.Second)
	for _, tt := range []struct {
		name string
		dest parley.DestinationConfiguration
		want parley.ErrorCode
	}{
		{"S3OK", s3Dest("bucket"), ""},
		{"S3ErrNotFound", s3Dest("nope"), parley.ResourceNotFoundException},
		{"CloudWatchOK", cwDest("/ivs/chat"), ""},
		{"CloudWatchErrPrefixOnly", cwDest("/ivs"), parley.ResourceNotFoundException},
		{"CloudWatchErrNotFound", cwDest("/other"), parley.ResourceNotFoundException},
		{"FirehoseOK", fhDest("stream"), ""},
		{"FirehoseErrNotFound", fhDest("nope"), parley.ResourceNotFoundException},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := l.CheckDestination(context.Background(), tt.dest)
			if got := parley.ErrorCodeOf(err); got != tt.want {
				t.Fatalf("CheckDestination: code %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestCloudWatch(t *testing.T) {
	dir := t.TempDir()
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("/ivs/chat")
	e := newEnv(t, dir, cwDest("/ivs/chat"))
	l := mustOpen(t, testConfig(e.store, dir, clients(fake.URL)))
	defer mustClose(t, l, time.Second)
	recs := record(t, l, e.room, 0, 50)

	stream := cloudwatch.StreamName(e.room.ID)
	waitFor(t, "50 log events", func() bool { return len(fake.LogEvents("/ivs/chat", stream)) >= 50 })
	events := fake.LogEvents("/ivs/chat", stream)
	var lines []string
	for i, ev := range events {
		if want := recs[i].Time.UnixMilli(); ev.Timestamp != want {
			t.Errorf("event %d timestamp=%d, want %d", i, ev.Timestamp, want)
		}
		lines = append(lines, ev.Message)
	}
	if diff := cmp.Diff(wantLines(recs), parseLines(t, lines)); diff != "" {
		t.Errorf("CloudWatch records (-want +got):\n%s", diff)
	}
}

func TestCloudWatchBatches(t *testing.T) {
	ev := func(ts int64, size int) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(strings.Repeat("x", size))}
	}
	many := make([]types.InputLogEvent, 10001)
	for i := range many {
		many[i] = ev(int64(i), 10)
	}
	big := []types.InputLogEvent{ev(0, 600000), ev(1, 448550), ev(2, 1)} // 600026+448576 = 1048602 > 1 MiB
	exact := []types.InputLogEvent{ev(0, 600000), ev(1, 448524)}         // exactly 1048576
	day := int64(24 * time.Hour / time.Millisecond)
	span := []types.InputLogEvent{ev(0, 1), ev(day, 1), ev(day+1, 1)}
	for _, tt := range []struct {
		name   string
		events []types.InputLogEvent
		want   []int
	}{
		{"Count", many, []int{10000, 1}},
		{"Bytes", big, []int{1, 2}},
		{"BytesExact", exact, []int{2}},
		{"Span", span, []int{2, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, b := range cloudwatch.Batches(tt.events) {
				got = append(got, len(b))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirehosePartialFailure(t *testing.T) {
	dir := t.TempDir()
	fake := chatlogtest.NewAWS(t)
	fake.CreateDeliveryStream("stream")
	fake.SetFailEvery(3) // every first attempt fails records 0, 3, 6, …
	e := newEnv(t, dir, fhDest("stream"))
	cfg := testConfig(e.store, dir, clients(fake.URL))
	cfg.FlushInterval = time.Hour // Close delivers all 1200 at once
	l := mustOpen(t, cfg)
	recs := record(t, l, e.room, 0, 1200)
	mustClose(t, l, 10*time.Second)

	got := fake.Records("stream")
	var lines []string
	for _, r := range got {
		if !strings.HasSuffix(r, "\n") {
			t.Fatalf("Firehose record %q does not end with a newline", r)
		}
		lines = append(lines, strings.TrimSuffix(r, "\n"))
	}
	// Only the failed records are retried: no duplicates.
	if diff := cmp.Diff(wantLines(recs), parseLines(t, lines)); diff != "" {
		t.Errorf("Firehose records (-want +got):\n%s", diff)
	}
	if fake.MaxBatch() != 500 {
		t.Errorf("largest PutRecordBatch had %d records, want 500", fake.MaxBatch())
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, s3Dest("bucket"), cwDest("/ivs/chat"), fhDest("stream"))
	cfg := testConfig(e.store, dir, nil)
	l := mustOpen(t, cfg)
	recs := record(t, l, e.room, 0, 20)
	mustClose(t, l, 5*time.Second)

	root := localDir(dir)
	cw, err := os.ReadFile(filepath.Join(root, "cloudwatch", "ivs", "chat", "aws", "IVSChatLogs", "1.0", "room_"+e.room.ID+".log"))
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.ReadFile(filepath.Join(root, "firehose", "stream", "2025-08-14.log"))
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := filepath.Glob(filepath.Join(root, "s3", "bucket", "AWSLogs", account, "IVSChatLogs", "1.0", region,
		"room_"+e.room.ID, "2025", "08", "14", "05", account+"_IVSChatLogs_1.0_"+region+"_room_"+e.room.ID+"_20250814T0550Z_*.log.gz"))
	if len(objs) == 0 {
		t.Fatal("no local S3 objects")
	}
	var s3Lines []string
	for _, o := range objs {
		body, _ := os.ReadFile(o)
		s3Lines = append(s3Lines, gunzipLines(t, body)...)
	}
	for name, lines := range map[string][]string{
		"cloudwatch": strings.Split(strings.TrimSuffix(string(cw), "\n"), "\n"),
		"firehose":   strings.Split(strings.TrimSuffix(string(fh), "\n"), "\n"),
		"s3":         s3Lines,
	} {
		if diff := cmp.Diff(wantLines(recs), parseLines(t, lines)); diff != "" {
			t.Errorf("local %s records (-want +got):\n%s", name, diff)
		}
	}
}

// TestNoOpener: a destination of a kind that the Config gives no Opener is
// refused, by CheckDestination as a bad request and by Record as an error.
func TestNoOpener(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, fhDest("stream"))
	cfg := testConfig(e.store, dir, nil)
	delete(cfg.Destinations, "firehose")
	l := mustOpen(t, cfg)
	defer mustClose(t, l, time.Second)
	if code := parley.ErrorCodeOf(l.CheckDestination(context.Background(), fhDest("stream"))); code != parley.ValidationException {
		t.Errorf("CheckDestination: code %q, want %s", code, parley.ValidationException)
	}
	if err := l.Record(context.Background(), message(e.room, 0)); err == nil {
		t.Errorf("Record to a kind with no Opener: nil error, want one")
	}
	if code := parley.ErrorCodeOf(l.CheckDestination(context.Background(), parley.DestinationConfiguration{})); code != parley.ValidationException {
		t.Errorf("CheckDestination of an empty configuration: code %q, want %s", code, parley.ValidationException)
	}
}

// TestRecordFollowsTheRecordsRoom: Record logs to the configurations of
// the room the record carries, as the caller knows it, and to none when
// the record has no room.
func TestRecordFollowsTheRecordsRoom(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, cwDest("/ivs/chat"))
	cfg := testConfig(e.store, dir, nil)
	l := mustOpen(t, cfg)
	defer mustClose(t, l, time.Second)
	label := "cloudwatch:/ivs/chat"
	record(t, l, e.room, 0, 1)
	if got := counter(t, cfg, "parley_chatlog_records_spooled_total", label); got != 1 {
		t.Fatalf("spooled=%v, want 1", got)
	}
	none := []string{}
	detached, err := e.store.UpdateRoom(context.Background(), e.room.ID, parley.RoomUpdate{LoggingConfigurationIdentifiers: &none}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	record(t, l, detached, 1, 2) // the next record of the updated room is not logged
	if got := counter(t, cfg, "parley_chatlog_records_spooled_total", label); got != 1 {
		t.Errorf("spooled=%v after detaching, want still 1", got)
	}
	if err := l.Record(context.Background(), message(nil, 1)); err != nil {
		t.Errorf("Record without a room: %v, want nil", err)
	}
	if got := counter(t, cfg, "parley_chatlog_records_spooled_total", label); got != 1 {
		t.Errorf("spooled=%v after a record without a room, want still 1", got)
	}
}
