package chatlog_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awsfh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	region  = chatlogtest.Region
	account = chatlogtest.Account
)

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")

// env is a SQLite store holding one room attached to the given
// destinations.
type env struct {
	store *sqlite.Store
	room  *parley.Room
	confs []*parley.LoggingConfiguration
}

func newEnv(t *testing.T, dir string, dests ...parley.DestinationConfiguration) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	e := &env{store: st}
	now := time.Now().UTC()
	var arns []string
	for _, d := range dests {
		id := parley.NewID()
		c := &parley.LoggingConfiguration{
			ID: id, ARN: parley.ARN{Region: region, AccountID: account, Resource: parley.ResourceLoggingConfiguration, ID: id}.String(),
			Destination: d, State: parley.StateActive, Tags: map[string]string{}, CreateTime: now, UpdateTime: now,
		}
		if err := st.CreateLoggingConfiguration(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		e.confs = append(e.confs, c)
		arns = append(arns, c.ARN)
	}
	id := parley.NewID()
	e.room = &parley.Room{
		ID: id, ARN: parley.ARN{Region: region, AccountID: account, Resource: parley.ResourceRoom, ID: id}.String(),
		MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500, LoggingConfigurationIdentifiers: arns,
		Tags: map[string]string{}, CreateTime: now, UpdateTime: now,
	}
	if err := st.CreateRoom(ctx, e.room, 0); err != nil {
		t.Fatal(err)
	}
	return e
}

// localDir is where testConfig's local destinations write, under dir.
func localDir(dir string) string { return filepath.Join(dir, "chatlogs") }

// testConfig returns fast timings for tests, with the destinations of
// dests and local ones under localDir(dir) for the other kinds.
func testConfig(st parley.Store, dir string, dests map[string]chatlog.Opener) chatlog.Config {
	d := map[string]chatlog.Opener{}
	for _, kind := range chatlog.Kinds() {
		d[kind] = local.Opener(localDir(dir))
	}
	maps.Copy(d, dests)
	return chatlog.Config{
		Store: st, SpoolDir: filepath.Join(dir, "spool"),
		Destinations: d, SyncInterval: 2 * time.Millisecond, FlushInterval: 20 * time.Millisecond,
		ObjectInterval: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		DeliveryTimeout: 2 * time.Second, Registerer: prometheus.NewRegistry(),
	}
}

func mustOpen(t *testing.T, cfg chatlog.Config) *chatlog.Logger {
	t.Helper()
	l, err := chatlog.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustClose(t *testing.T, l *chatlog.Logger, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// message returns the n-th test MESSAGE frame of room as a LogRecord.
func message(room *parley.Room, n int) *parley.LogRecord {
	sent := time.Date(2025, 8, 14, 5, 50, 5, 533134508, time.UTC).Add(time.Duration(n) * time.Millisecond)
	m := parley.Message{
		ID: fmt.Sprintf("msg%09d", n), RequestID: fmt.Sprintf("req-%d", n), Content: fmt.Sprintf("hello %d \"quoted\" é", n),
		Attributes: map[string]string{"n": fmt.Sprint(n)}, SendTime: sent,
		Sender: parley.Sender{UserID: "user-1", Attributes: map[string]string{"username": "Max"}},
	}
	return &parley.LogRecord{Room: room, Time: sent, Type: parley.TypeMessage, Payload: m.AppendJSON(nil)}
}

func record(t *testing.T, l *chatlog.Logger, room *parley.Room, from, to int) []*parley.LogRecord {
	t.Helper()
	var recs []*parley.LogRecord
	for i := from; i < to; i++ {
		r := message(room, i)
		if err := l.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// wantLines is what the destinations must hold for recs.
func wantLines(recs []*parley.LogRecord) []chatlogtest.Record {
	var out []chatlogtest.Record
	for _, r := range recs {
		out = append(out, chatlogtest.Record{
			EventTimestamp: r.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			Type:           r.Type, Payload: r.Payload, Version: "1.0",
		})
	}
	return out
}

func parseLines(t *testing.T, lines []string) []chatlogtest.Record {
	t.Helper()
	recs, err := chatlogtest.ParseRecords(lines)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clients returns CloudWatch Logs and Firehose destinations through SDK
// clients of the fake, without SDK retries so that failures reach the chat
// logger at once.
func clients(url string) map[string]chatlog.Opener {
	return map[string]chatlog.Opener{
		cloudwatch.Kind: cloudwatch.Opener(cloudwatchlogs.New(cloudwatchlogs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1})),
		firehose.Kind:   firehose.Opener(awsfh.New(awsfh.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1})),
	}
}
