package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/chatlog/s3"
	"github.com/parleychat/parley/store/sqlite"
)

// TestChatLogDestinations: a kind of destination goes to its service when
// it has an endpoint (its own or --aws-endpoint), else to local files.
func TestChatLogDestinations(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("g")
	ctx := context.Background()
	cw := parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "g"}}
	bucket := parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "b"}}
	stream := parley.DestinationConfiguration{Firehose: &parley.FirehoseDestination{DeliveryStreamName: "s"}}

	t.Run("OneEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1", ChatLog: ChatLogConfig{CloudWatchLogsEndpoint: fake.URL}}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dest := d[cloudwatch.Kind](cw, "g")
		if _, ok := dest.(*cloudwatch.Destination); !ok {
			t.Fatalf("CloudWatch Logs destination is %T, want *cloudwatch.Destination", dest)
		}
		if err := dest.Check(ctx); err != nil {
			t.Errorf("Check through the configured client: %v", err)
		}
		for name, got := range map[string]parley.LogDestination{"s3": d[s3.Kind](bucket, "b"), "firehose": d[firehose.Kind](stream, "s")} {
			if _, ok := got.(*local.Destination); !ok {
				t.Errorf("%s destination without an endpoint is %T, want *local.Destination", name, got)
			}
		}
	})
	t.Run("AWSEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1", AWSEndpoint: fake.URL}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := d[s3.Kind](bucket, "b").(*s3.Destination); !ok || got.Bucket != "b" {
			t.Errorf("S3 destination is %#v, want *s3.Destination of bucket b", got)
		}
		if _, ok := d[cloudwatch.Kind](cw, "g").(*cloudwatch.Destination); !ok {
			t.Errorf("CloudWatch Logs destination is not *cloudwatch.Destination")
		}
		if _, ok := d[firehose.Kind](stream, "s").(*firehose.Destination); !ok {
			t.Errorf("Firehose destination is not *firehose.Destination")
		}
	})
	t.Run("NoEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1"}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for kind, open := range d {
			if _, ok := open(bucket, "b").(*local.Destination); !ok {
				t.Errorf("%s destination is not local", kind)
			}
		}
		if len(d) != 3 {
			t.Errorf("%d kinds, want 3", len(d))
		}
	})
}

// TestChatLogJetStream: with a NATS URL, chat logging spools in the
// JetStream stream (not on disk) and records still reach their
// destination.
func TestChatLogJetStream(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	defer ns.Shutdown()
	ctx := context.Background()
	m := NewMain()
	m.Config.DataDir = t.TempDir()
	m.Config.ChatLog.FlushInterval = 20 * time.Millisecond
	m.Logger = slog.New(slog.DiscardHandler)
	m.registry = prometheus.NewRegistry()
	st, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	m.store = st
	now := time.Now().UTC()
	conf := &parley.LoggingConfiguration{ID: "conf1", ARN: "arn:aws:ivschat:us-east-1:000000000000:logging-configuration/conf1",
		Destination: parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "g"}},
		State:       parley.StateActive, Tags: map[string]string{}, CreateTime: now, UpdateTime: now}
	if err := st.CreateLoggingConfiguration(ctx, conf, 0); err != nil {
		t.Fatal(err)
	}
	room := &parley.Room{ID: "room1", ARN: "arn:aws:ivschat:us-east-1:000000000000:room/room1", LoggingConfigurationIdentifiers: []string{conf.ARN}}

	l, err := m.openChatLog(ctx, ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(ctx)
	rec := &parley.LogRecord{Room: room, Time: now, Type: parley.TypeEvent, Payload: []byte(`{"Type":"EVENT"}`)}
	if err := l.Record(ctx, rec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(m.Config.DataDir, "chatlogs", "cloudwatch", "g", "aws", "IVSChatLogs", "1.0", "room_room1.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == string(rec.AppendJSON(nil))+"\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("local log holds %q, want the record", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(m.Config.DataDir, "chatlog-spool")); !os.IsNotExist(err) {
		t.Errorf("on-disk spool created in cluster mode (stat: %v)", err)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	stream, err := js.Stream(ctx, "PARLEY_CHATLOG")
	if err != nil {
		t.Fatalf("no chat log stream: %v", err)
	}
	// The destination writes the record before the ack reaches the
	// stream: poll for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		info, err := stream.Info(ctx)
		if err == nil && info.State.Msgs == 0 && info.State.LastSeq == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream state %+v, %v: want the one record published and acked", info.State, err)
		}
	}
}
