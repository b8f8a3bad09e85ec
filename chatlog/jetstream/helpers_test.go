package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/jetstream"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/chatlog/s3"
)

// startNATS runs a private NATS server with JetStream, storing on file
// under a temporary directory, until the test ends.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func connect(t *testing.T, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// configs is a ConfigStore holding logging configurations in memory.
type configs struct {
	mu sync.Mutex
	m  map[string]*parley.LoggingConfiguration
}

func (c *configs) FindLoggingConfiguration(_ context.Context, id string) (*parley.LoggingConfiguration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.m[id]; lc != nil {
		return lc, nil
	}
	return nil, parley.Errorf(parley.ResourceNotFoundException, "logging configuration %s not found", id)
}

// newRoom returns configs holding one ACTIVE configuration per dest and a
// room attached to all of them.
func newRoom(dests ...parley.DestinationConfiguration) (*configs, *parley.Room) {
	cs := &configs{m: map[string]*parley.LoggingConfiguration{}}
	room := &parley.Room{ID: parley.NewID()}
	room.ARN = parley.ARN{Region: chatlogtest.Region, AccountID: chatlogtest.Account, Resource: parley.ResourceRoom, ID: room.ID}.String()
	for _, d := range dests {
		id := parley.NewID()
		arn := parley.ARN{Region: chatlogtest.Region, AccountID: chatlogtest.Account, Resource: parley.ResourceLoggingConfiguration, ID: id}.String()
		cs.m[id] = &parley.LoggingConfiguration{ID: id, ARN: arn, Destination: d, State: parley.StateActive}
		room.LoggingConfigurationIdentifiers = append(room.LoggingConfigurationIdentifiers, arn)
	}
	return cs, room
}

func cwDest(group string) parley.DestinationConfiguration {
	return parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: group}}
}

// cwClient is a CloudWatch Logs client of the fake without SDK retries.
func cwClient(url string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: chatlogtest.Region, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// node is one Parley node's chat logging: its own connection, Spool and
// Logger.
type node struct {
	nc  *nats.Conn
	sp  *jetstream.Spool
	l   *chatlog.Logger
	cfg chatlog.Config
}

// startNode opens a Logger on the stream through a connection of its own.
func startNode(t *testing.T, ns *server.Server, cs chatlog.ConfigStore, dests map[string]chatlog.Opener, dir string) *node {
	t.Helper()
	nc := connect(t, ns)
	sp, err := jetstream.Open(context.Background(), nc, jetstream.Options{Stream: "TEST_CHATLOG", Subject: "test.chatlog", AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]chatlog.Opener{}
	for _, k := range []string{s3.Kind, cloudwatch.Kind, firehose.Kind} {
		all[k] = local.Opener(dir)
	}
	for k, o := range dests {
		all[k] = o
	}
	cfg := chatlog.Config{
		Store: cs, Spool: sp, Destinations: all,
		FlushInterval: 20 * time.Millisecond, ObjectInterval: 500 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, DeliveryTimeout: 2 * time.Second,
		QueueScanInterval: 50 * time.Millisecond, Registerer: prometheus.NewRegistry(),
	}
	l, err := chatlog.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &node{nc: nc, sp: sp, l: l, cfg: cfg}
}

// kill stops a node as SIGKILL would: its connection closed without
// draining or flushing, so nothing more it sends reaches the server, then
// its goroutines stopped with no time to deliver.
func (n *node) kill(t *testing.T) {
	t.Helper()
	n.nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.l.Close(ctx)
}

// message returns the n-th test MESSAGE of room as a LogRecord.
func message(room *parley.Room, n int) *parley.LogRecord {
	sent := time.Date(2025, 8, 14, 5, 50, 5, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	m := parley.Message{ID: fmt.Sprintf("msg%06d", n), Content: fmt.Sprintf("hello %d", n), SendTime: sent,
		Sender: parley.Sender{UserID: "u"}}
	return &parley.LogRecord{Room: room, Time: sent, Type: parley.TypeMessage, Payload: m.AppendJSON(nil)}
}

// record records messages from..to-1 of room and returns their lines.
func record(t *testing.T, l *chatlog.Logger, room *parley.Room, from, to int) []string {
	t.Helper()
	var lines []string
	for i := from; i < to; i++ {
		r := message(room, i)
		if err := l.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(r.AppendJSON(nil)))
	}
	return lines
}

// counter returns a chat log counter of a node for one destination label.
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

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
