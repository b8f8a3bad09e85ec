package chatlogtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// LogEvent is one CloudWatch Logs event as PutLogEvents sent it.
type LogEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// AWS fakes the awsJson1.1 operations of CloudWatch Logs and Firehose that
// chat logging calls, as aws-sdk-go-v2 sends them, and records what it got.
// One server answers both services. Protocol violations fail the test.
type AWS struct {
	*Server
	tb testing.TB

	mu         sync.Mutex
	groups     map[string]bool
	streams    map[string][]LogEvent // group + "|" + stream
	firehose   map[string][]string   // delivery stream → records
	failEvery  int
	calls      map[string]int
	maxRecords int
}

// NewAWS starts the fake until the test ends.
func NewAWS(tb testing.TB) *AWS {
	tb.Helper()
	f := &AWS{tb: tb, groups: map[string]bool{}, streams: map[string][]LogEvent{}, firehose: map[string][]string{}, calls: map[string]int{}}
	f.Server = newServer(tb, http.HandlerFunc(f.serveHTTP), func(w http.ResponseWriter, r *http.Request) {
		f.count(r.Header.Get("X-Amz-Target"))
		awsError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "down for the test")
	})
	return f
}

// CreateLogGroup creates a CloudWatch Logs log group.
func (f *AWS) CreateLogGroup(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.groups[name] = true
}

// CreateDeliveryStream creates a Firehose delivery stream.
func (f *AWS) CreateDeliveryStream(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.firehose[name]; !ok {
		f.firehose[name] = []string{}
	}
}

// SetFailEvery makes every n-th record (0, n, 2n, …) of every other
// PutRecordBatch call fail individually; 0 turns it off.
func (f *AWS) SetFailEvery(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failEvery = n
}

// LogEvents returns the events stored in a log stream.
func (f *AWS) LogEvents(group, stream string) []LogEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]LogEvent(nil), f.streams[group+"|"+stream]...)
}

// Messages returns the messages of the events stored in a log stream.
func (f *AWS) Messages(group, stream string) []string {
	var out []string
	for _, e := range f.LogEvents(group, stream) {
		out = append(out, e.Message)
	}
	return out
}

// Records returns the data of the records a delivery stream received.
func (f *AWS) Records(stream string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.firehose[stream]...)
}

// MaxBatch returns the largest number of records one PutRecordBatch had.
func (f *AWS) MaxBatch() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxRecords
}

// Calls returns how many times an operation (an X-Amz-Target such as
// "Logs_20140328.PutLogEvents") was called, in any mode but Refuse.
func (f *AWS) Calls(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[target]
}

func (f *AWS) count(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[target]++
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (f *AWS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.tb.Errorf("%s: Content-Type=%q, want application/x-amz-json-1.1", target, ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.tb.Errorf("%s: request is not SigV4-signed", target)
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.tb.Errorf("%s: decode body: %v", target, err)
	}
	str := func(k string) string {
		var s string
		json.Unmarshal(body[k], &s)
		return s
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[target]++
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
		f.createLogStream(w, str("logGroupName"), str("logStreamName"))
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
		f.tb.Errorf("unexpected operation %q", target)
		awsError(w, 400, "UnknownOperationException", target)
	}
}

func (f *AWS) createLogStream(w http.ResponseWriter, group, stream string) {
	key := group + "|" + stream
	if !f.groups[group] {
		awsError(w, 400, "ResourceNotFoundException", "The specified log group does not exist.")
	} else if _, ok := f.streams[key]; ok {
		awsError(w, 400, "ResourceAlreadyExistsException", "The specified log stream already exists")
	} else {
		f.streams[key] = []LogEvent{}
		w.Write([]byte("{}"))
	}
}

func (f *AWS) putLogEvents(w http.ResponseWriter, key string, raw json.RawMessage) {
	events, ok := f.streams[key]
	if !ok {
		awsError(w, 400, "ResourceNotFoundException", "The specified log stream does not exist.")
		return
	}
	var in []LogEvent
	json.Unmarshal(raw, &in)
	size := 0
	for i, e := range in {
		size += len(e.Message) + 26
		if i > 0 && e.Timestamp < in[i-1].Timestamp {
			f.tb.Errorf("PutLogEvents: events not in chronological order")
		}
	}
	if len(in) == 0 || len(in) > 10000 || size > 1048576 {
		f.tb.Errorf("PutLogEvents: %d events, %d bytes: outside the limits", len(in), size)
	}
	f.streams[key] = append(events, in...)
	w.Write([]byte(`{"nextSequenceToken":"1"}`))
}

func (f *AWS) putRecordBatch(w http.ResponseWriter, stream string, raw json.RawMessage) {
	if _, ok := f.firehose[stream]; !ok {
		awsError(w, 400, "ResourceNotFoundException", "Delivery stream "+stream+" not found.")
		return
	}
	var in []struct{ Data string }
	json.Unmarshal(raw, &in)
	if len(in) > 500 {
		f.tb.Errorf("PutRecordBatch: %d records, more than 500", len(in))
	}
	f.maxRecords = max(f.maxRecords, len(in))
	var resps []map[string]string
	failed := 0
	for i, rec := range in {
		data, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			f.tb.Errorf("PutRecordBatch: record %d: %v", i, err)
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
