package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
)

const (
	logBucket = "chat-logs"
	logGroup  = "/ivs/chat"
	logStream = "chat-stream"
)

// logDests are the three destinations a logged room is attached to.
var logDests = []types.DestinationConfiguration{
	&types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String(logBucket)}},
	&types.DestinationConfigurationMemberCloudWatchLogs{Value: types.CloudWatchLogsDestinationConfiguration{LogGroupName: aws.String(logGroup)}},
	&types.DestinationConfigurationMemberFirehose{Value: types.FirehoseDestinationConfiguration{DeliveryStreamName: aws.String(logStream)}},
}

// fakeDestinations starts S3, CloudWatch Logs and Firehose fakes holding
// the bucket, log group and delivery stream of logDests.
func fakeDestinations(t *testing.T) (*chatlogtest.S3, *chatlogtest.AWS) {
	s3 := chatlogtest.NewS3(t, logBucket)
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup(logGroup)
	fake.CreateDeliveryStream(logStream)
	return s3, fake
}

// endpoints points the server's chat logging at the fakes.
func endpoints(s3 *chatlogtest.S3, fake *chatlogtest.AWS) func(*Config) {
	return func(c *Config) {
		c.ChatLog.S3Endpoint, c.ChatLog.CloudWatchLogsEndpoint, c.ChatLog.FirehoseEndpoint = s3.URL, fake.URL, fake.URL
		c.ChatLog.FlushInterval = 50 * time.Millisecond
		c.Limits.APIRateLimits = false
	}
}

// loggedRoom creates the logging configurations of logDests (with the
// official SDK) and a room attached to all of them. It returns the room's
// ARN and ID.
func loggedRoom(t *testing.T, client *ivschat.Client) (arn, id string) {
	t.Helper()
	ctx := context.Background()
	var confs []string
	for _, d := range logDests {
		out, err := client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: d})
		if err != nil {
			t.Fatalf("CreateLoggingConfiguration: %v", err)
		}
		if out.State != types.CreateLoggingConfigurationStateActive {
			t.Fatalf("logging configuration state %s, want ACTIVE", out.State)
		}
		confs = append(confs, aws.ToString(out.Arn))
	}
	room, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: confs})
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return aws.ToString(room.Arn), aws.ToString(room.Id)
}

// chatTraffic sends messages, an application event, a message deletion and
// a user disconnection to the room, and returns the MESSAGE and EVENT frames
// a receiving client got, exactly as it got them.
func chatTraffic(t *testing.T, addr string, client *ivschat.Client, roomARN, tag string) [][]byte {
	t.Helper()
	ctx := context.Background()
	all := []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage, types.ChatTokenCapabilityDeleteMessage}
	sender := dialToken(t, addr, client, &ivschat.CreateChatTokenInput{
		RoomIdentifier: aws.String(roomARN), UserId: aws.String("alice"), Capabilities: all, Attributes: map[string]string{"name": "Alice"},
	})
	receiver := dialRoom(t, addr, client, roomARN, "bob")
	dialRoom(t, addr, client, roomARN, "troll")
	contents := []string{tag + " plain", tag + ` "quoted" \ back`, tag + " héllo 🎉", tag + " <html>&amp;", tag + " \u2028 line"}
	for i, c := range contents {
		attrs := map[string]string{"n": string(rune('0' + i))}
		if i == 0 {
			attrs = nil
		}
		sender.sendMessage(c, attrs)
	}
	var frames [][]byte
	var firstID string
	for range contents {
		f := receiver.next(5 * time.Second)
		if f.Type != parley.TypeMessage {
			t.Fatalf("receiver got %s, want a MESSAGE", f.Raw)
		}
		if firstID == "" {
			firstID = f.ID
		}
		frames = append(frames, f.Raw)
	}
	sender.send(map[string]any{"Action": "DELETE_MESSAGE", "RequestId": "del-" + tag, "Id": firstID, "Reason": "spam"})
	if f := receiver.next(5 * time.Second); f.EventName != parley.EventDeleteMessage {
		t.Fatalf("receiver got %s, want aws:DELETE_MESSAGE", f.Raw)
	} else {
		frames = append(frames, f.Raw)
	}
	if _, err := client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: aws.String(roomARN), EventName: aws.String("app:" + tag),
		Attributes: map[string]string{"k": "v é"}}); err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	if _, err := client.DisconnectUser(ctx, &ivschat.DisconnectUserInput{RoomIdentifier: aws.String(roomARN), UserId: aws.String("troll"), Reason: aws.String("bye")}); err != nil {
		t.Fatalf("DisconnectUser: %v", err)
	}
	for _, want := range []string{"app:" + tag, parley.EventDisconnectUser} {
		f := receiver.next(5 * time.Second)
		if f.Type != parley.TypeEvent || f.EventName != want {
			t.Fatalf("receiver got %s, want EVENT %s", f.Raw, want)
		}
		frames = append(frames, f.Raw)
	}
	return frames
}

// wantRecords returns the records chat logging must write for frames.
func wantRecords(t *testing.T, frames [][]byte) []chatlogtest.Record {
	t.Helper()
	var out []chatlogtest.Record
	for _, f := range frames {
		r, err := chatlogtest.RecordOf(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	chatlogtest.SortRecords(out)
	return out
}

// checkRecords compares the lines a destination holds with the frames.
func checkRecords(t *testing.T, where string, lines []string, frames [][]byte) {
	t.Helper()
	got, err := chatlogtest.ParseRecords(lines)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if diff := cmp.Diff(wantRecords(t, frames), got); diff != "" {
		t.Errorf("%s records (-want +got):\n%s", where, diff)
	}
}

// s3Prefix is where the S3 objects of a room are.
func s3Prefix(roomID string) string {
	return "AWSLogs/" + chatlogtest.Account + "/IVSChatLogs/1.0/" + chatlogtest.Region + "/room_" + roomID + "/"
}

// checkS3 reads the room's objects back, checks their keys and records.
func checkS3(t *testing.T, s3 *chatlogtest.S3, roomID string, frames [][]byte) {
	t.Helper()
	objs, err := s3.Objects(context.Background(), logBucket, s3Prefix(roomID))
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`^` + regexp.QuoteMeta(s3Prefix(roomID)) + `\d{4}/\d{2}/\d{2}/\d{2}/` + chatlogtest.Account +
		`_IVSChatLogs_1\.0_` + chatlogtest.Region + `_room_` + roomID + `_\d{8}T\d{4}Z_[0-9a-f]+\.log\.gz$`)
	for k := range objs {
		if !keyRE.MatchString(k) {
			t.Errorf("S3 key %s does not match %s", k, keyRE)
		}
	}
	lines, err := s3.Lines(context.Background(), logBucket, s3Prefix(roomID))
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "S3", lines, frames)
}

// cloudWatchLines returns the room's log events, checking their timestamps.
func cloudWatchLines(t *testing.T, fake *chatlogtest.AWS, roomID string) []string {
	t.Helper()
	var lines []string
	for _, ev := range fake.LogEvents(logGroup, "aws/IVSChatLogs/1.0/room_"+roomID) {
		r, err := chatlogtest.ParseRecords([]string{ev.Message})
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, r[0].EventTimestamp)
		if ev.Timestamp != ts.UnixMilli() {
			t.Errorf("log event timestamp %d, want event_timestamp %s", ev.Timestamp, r[0].EventTimestamp)
		}
		lines = append(lines, ev.Message)
	}
	return lines
}

// firehoseLines returns the Firehose records, each ending with a newline.
func firehoseLines(t *testing.T, fake *chatlogtest.AWS) []string {
	t.Helper()
	var lines []string
	for _, r := range fake.Records(logStream) {
		if !strings.HasSuffix(r, "\n") {
			t.Errorf("Firehose record %q does not end with a newline", r)
		}
		lines = append(lines, strings.TrimSuffix(r, "\n"))
	}
	return lines
}

func closeMain(t *testing.T, m *Main, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.Close(ctx)
}

// TestChatLog_AWSDestinations: the frames clients receive reach S3 (read
// back and gunzipped), CloudWatch Logs and Firehose (decoded from the
// SDK's calls) as records equal field by field.
func TestChatLog_AWSDestinations(t *testing.T) {
	setAWSEnv(t)
	s3, fake := fakeDestinations(t)
	m := MustOpenMain(t, t.TempDir(), endpoints(s3, fake))
	client := newClient(m.Addr, testAKID, testSecret)
	arn, id := loggedRoom(t, client)
	frames := chatTraffic(t, m.Addr, client, arn, "aws")

	waitFor(t, 10*time.Second, "CloudWatch Logs and Firehose records", func() bool {
		return len(fake.LogEvents(logGroup, "aws/IVSChatLogs/1.0/room_"+id)) >= len(frames) && len(fake.Records(logStream)) >= len(frames)
	})
	if err := closeMain(t, m, 10*time.Second); err != nil { // cuts the S3 object
		t.Fatalf("Close: %v", err)
	}
	checkRecords(t, "CloudWatch Logs", cloudWatchLines(t, fake, id), frames)
	checkRecords(t, "Firehose", firehoseLines(t, fake), frames)
	checkS3(t, s3, id, frames)
}

// TestChatLog_S3ObjectInterval: with a short --chatlog-object-interval the
// S3 objects are written while the server runs, not only when it stops.
func TestChatLog_S3ObjectInterval(t *testing.T) {
	setAWSEnv(t)
	s3, fake := fakeDestinations(t)
	m := MustOpenMain(t, t.TempDir(), endpoints(s3, fake), func(c *Config) { c.ChatLog.ObjectInterval = 100 * time.Millisecond })
	client := newClient(m.Addr, testAKID, testSecret)
	arn, id := loggedRoom(t, client)
	frames := chatTraffic(t, m.Addr, client, arn, "interval")
	waitFor(t, 10*time.Second, "the S3 objects of a running server", func() bool {
		lines, err := s3.Lines(context.Background(), logBucket, s3Prefix(id))
		return err == nil && len(lines) >= len(frames)
	})
	checkS3(t, s3, id, frames)
}

// TestChatLog_LocalDestinations: with no AWS endpoint, the records go to
// files under <data-dir>/chatlogs in each destination's layout.
func TestChatLog_LocalDestinations(t *testing.T) {
	dir := t.TempDir()
	m := MustOpenMain(t, dir, noAPIRateLimits, func(c *Config) { c.ChatLog.FlushInterval = 50 * time.Millisecond })
	client := newClient(m.Addr, testAKID, testSecret)
	arn, id := loggedRoom(t, client)
	frames := chatTraffic(t, m.Addr, client, arn, "local")
	if err := closeMain(t, m, 10*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}

	root := filepath.Join(dir, "chatlogs")
	readLines := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	checkRecords(t, "local CloudWatch Logs", readLines(filepath.Join(root, "cloudwatch", "ivs", "chat", "aws", "IVSChatLogs", "1.0", "room_"+id+".log")), frames)
	days, _ := filepath.Glob(filepath.Join(root, "firehose", logStream, "*.log"))
	var fh []string
	for _, d := range days {
		fh = append(fh, readLines(d)...)
	}
	checkRecords(t, "local Firehose", fh, frames)
	objs, _ := filepath.Glob(filepath.Join(root, "s3", logBucket, filepath.FromSlash(s3Prefix(id)), "*", "*", "*", "*", "*.log.gz"))
	if len(objs) == 0 {
		t.Fatal("no local S3 objects")
	}
	var s3Lines []string
	for _, o := range objs {
		body, _ := os.ReadFile(o)
		lines, err := chatlogtest.Gunzip(body)
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		s3Lines = append(s3Lines, lines...)
	}
	checkRecords(t, "local S3", s3Lines, frames)
}

// TestChatLog_FollowsUpdateRoom: attaching and detaching a logging
// configuration with UpdateRoom applies to the very next message of a
// connection that was open before.
func TestChatLog_FollowsUpdateRoom(t *testing.T) {
	setAWSEnv(t)
	s3, fake := fakeDestinations(t)
	m := MustOpenMain(t, t.TempDir(), endpoints(s3, fake))
	client := newClient(m.Addr, testAKID, testSecret)
	ctx := context.Background()
	conf, err := client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: logDests[2]})
	if err != nil {
		t.Fatal(err)
	}
	room, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{})
	if err != nil {
		t.Fatal(err)
	}
	attach := func(confs ...string) {
		t.Helper()
		confs = append([]string{}, confs...) // [] detaches; nil would leave them as they are
		if _, err := client.UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: room.Arn, LoggingConfigurationIdentifiers: confs}); err != nil {
			t.Fatal(err)
		}
	}
	sender := dialRoom(t, m.Addr, client, aws.ToString(room.Arn), "alice", types.ChatTokenCapabilitySendMessage)
	send := func(content string) []byte {
		t.Helper()
		sender.sendMessage(content, nil)
		return sender.next(5 * time.Second).Raw
	}
	send("before attaching")
	attach(aws.ToString(conf.Arn))
	logged := [][]byte{send("attached")}
	attach()
	send("detached")
	attach(aws.ToString(conf.Arn))
	logged = append(logged, send("attached again"))
	waitFor(t, 10*time.Second, "the Firehose records", func() bool { return len(fake.Records(logStream)) >= len(logged) })
	checkRecords(t, "Firehose", firehoseLines(t, fake), logged)
}
