package chatlog_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	region  = "us-east-1"
	account = "000000000000"
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
	t.Cleanup(func() { st.Close() })
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

// testConfig returns fast timings for tests.
func testConfig(st parley.Store, dir string, d *chatlog.Destinations) chatlog.Config {
	return chatlog.Config{
		Store: st, SpoolDir: filepath.Join(dir, "spool"), LocalDir: filepath.Join(dir, "chatlogs"),
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
func message(roomID string, n int) *parley.LogRecord {
	sent := time.Date(2025, 8, 14, 5, 50, 5, 533134508, time.UTC).Add(time.Duration(n) * time.Millisecond)
	m := parley.Message{
		ID: fmt.Sprintf("msg%09d", n), RequestID: fmt.Sprintf("req-%d", n), Content: fmt.Sprintf("hello %d \"quoted\" é", n),
		Attributes: map[string]string{"n": fmt.Sprint(n)}, SendTime: sent,
		Sender: parley.Sender{UserID: "user-1", Attributes: map[string]string{"username": "Max"}},
	}
	return &parley.LogRecord{RoomID: roomID, Time: sent, Type: parley.TypeMessage, Payload: m.AppendJSON(nil)}
}

func record(t *testing.T, l *chatlog.Logger, roomID string, from, to int) []*parley.LogRecord {
	t.Helper()
	var recs []*parley.LogRecord
	for i := from; i < to; i++ {
		r := message(roomID, i)
		if err := l.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// logLine is a chat log record decoded field by field.
type logLine struct {
	EventTimestamp string          `json:"event_timestamp"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	Version        string          `json:"version"`
}

// wantLines is what the destinations must hold for recs.
func wantLines(recs []*parley.LogRecord) []logLine {
	var out []logLine
	for _, r := range recs {
		out = append(out, logLine{
			EventTimestamp: r.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			Type:           r.Type, Payload: r.Payload, Version: "1.0",
		})
	}
	return out
}

func parseLines(t *testing.T, lines []string) []logLine {
	t.Helper()
	var out []logLine
	for _, s := range lines {
		var l logLine
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("decode log line %q: %v", s, err)
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return string(out[i].Payload) < string(out[j].Payload) })
	return out
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

// fakeAWS implements the awsJson1.1 operations of CloudWatch Logs and
// Firehose that the destinations call, as the AWS SDK sends them.
type fakeAWS struct {
	t *testing.T

	mu         sync.Mutex
	down       bool
	groups     map[string]bool
	streams    map[string][]logEvent // group + "|" + stream
	firehose   map[string][]string   // stream → records
	failEvery  int                   // PutRecordBatch fails every failEvery-th record of a first attempt
	calls      map[string]int
	maxRecords int
}

type logEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

func newFakeAWS(t *testing.T) (*fakeAWS, *httptest.Server) {
	f := &fakeAWS{t: t, groups: map[string]bool{}, streams: map[string][]logEvent{}, firehose: map[string][]string{}, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAWS) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeAWS) logEvents(group, stream string) []logEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]logEvent(nil), f.streams[group+"|"+stream]...)
}

func (f *fakeAWS) records(stream string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.firehose[stream]...)
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("%s: Content-Type=%q, want application/x-amz-json-1.1", target, ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("%s: request is not SigV4-signed", target)
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("%s: decode body: %v", target, err)
	}
	str := func(k string) string {
		var s string
		json.Unmarshal(body[k], &s)
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[target]++
	if f.down {
		awsError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "down for the test")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch target {
	case "Logs_20140328.DescribeLogGroups":
		var groups []map[string]string
		for g := range f.groups {
			if strings.HasPrefix(g, str("logGroupNamePrefix")) {
				groups = append(groups, map[string]string{"logGroupName": g})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"logGroups": groups})
	case "Logs_20140328.CreateLogStream":
		key := str("logGroupName") + "|" + str("logStreamName")
		if !f.groups[str("logGroupName")] {
			awsError(w, 400, "ResourceNotFoundException", "The specified log group does not exist.")
		} else if _, ok := f.streams[key]; ok {
			awsError(w, 400, "ResourceAlreadyExistsException", "The specified log stream already exists")
		} else {
			f.streams[key] = []logEvent{}
			w.Write([]byte("{}"))
		}
	case "Logs_20140328.PutLogEvents":
		f.putLogEvents(w, str("logGroupName")+"|"+str("logStreamName"), body["logEvents"])
	case "Firehose_20150804.PutRecordBatch":
		f.putRecordBatch(w, str("DeliveryStreamName"), body["Records"])
	case "Firehose_20150804.DescribeDeliveryStream":
		if _, ok := f.firehose[str("DeliveryStreamName")]; !ok {
			awsError(w, 400, "ResourceNotFoundException", "not found")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"DeliveryStreamDescription": map[string]any{
			"DeliveryStreamName": str("DeliveryStreamName"), "DeliveryStreamStatus": "ACTIVE"}})
	default:
		f.t.Errorf("unexpected operation %q", target)
		awsError(w, 400, "UnknownOperationException", target)
	}
}

func (f *fakeAWS) putLogEvents(w http.ResponseWriter, key string, raw json.RawMessage) {
	events, ok := f.streams[key]
	if !ok {
		awsError(w, 400, "ResourceNotFoundException", "The specified log stream does not exist.")
		return
	}
	var in []logEvent
	json.Unmarshal(raw, &in)
	size := 0
	for i, e := range in {
		size += len(e.Message) + 26
		if i > 0 && e.Timestamp < in[i-1].Timestamp {
			f.t.Errorf("PutLogEvents: events not in chronological order")
		}
	}
	if len(in) == 0 || len(in) > 10000 || size > 1048576 {
		f.t.Errorf("PutLogEvents: %d events, %d bytes: outside the limits", len(in), size)
	}
	f.streams[key] = append(events, in...)
	w.Write([]byte(`{"nextSequenceToken":"1"}`))
}

func (f *fakeAWS) putRecordBatch(w http.ResponseWriter, stream string, raw json.RawMessage) {
	var in []struct{ Data string }
	json.Unmarshal(raw, &in)
	if len(in) > 500 {
		f.t.Errorf("PutRecordBatch: %d records, more than 500", len(in))
	}
	f.maxRecords = max(f.maxRecords, len(in))
	var resps []map[string]string
	failed := 0
	for i, rec := range in {
		data, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			f.t.Errorf("PutRecordBatch: record %d: %v", i, err)
		}
		if f.failEvery > 0 && i%f.failEvery == 0 && f.calls["Firehose_20150804.PutRecordBatch"]%2 == 1 {
			failed++
			resps = append(resps, map[string]string{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."})
			continue
		}
		f.firehose[stream] = append(f.firehose[stream], string(data))
		resps = append(resps, map[string]string{"RecordId": fmt.Sprint(i)})
	}
	json.NewEncoder(w).Encode(map[string]any{"FailedPutCount": failed, "Encrypted": false, "RequestResponses": resps})
}

// clients returns SDK clients of the fake, without SDK retries so that
// failures reach the chat logger at once.
func clients(url string) *chatlog.Destinations {
	return &chatlog.Destinations{
		CloudWatchLogs: cloudwatchlogs.New(cloudwatchlogs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1}),
		Firehose:       firehose.New(firehose.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1}),
	}
}
