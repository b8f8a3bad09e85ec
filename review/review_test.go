package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/review"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const functionARN = "arn:aws:lambda:us-east-1:000000000000:function:moderate"

// handle plays a review handler whose behaviour depends on the message
// Content. It returns the reply body, or functionError for a crash.
func handle(t *testing.T, r *http.Request) (reply string, functionError bool) {
	var req parley.ReviewRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		t.Errorf("decode review request: %v", err)
	}
	switch req.Content {
	case "allow":
		return `{"ReviewResult":"ALLOW","Content":"allow","Attributes":{"k":"v"}}`, false
	case "deny":
		return `{"ReviewResult":"DENY","Content":"deny"}`, false
	case "rewrite":
		return `{"ReviewResult":"ALLOW","Content":"r*****","Attributes":{"masked":"true"}}`, false
	case "slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return `{"ReviewResult":"ALLOW"}`, false
	case "crash":
		return `{"errorMessage":"boom","errorType":"Error"}`, true
	case "invalid":
		return `{"ReviewResult":"MAYBE"}`, false
	case "badattrs":
		return `{"ReviewResult":"ALLOW","Attributes":{"n":1}}`, false
	}
	t.Errorf("unexpected Content %q", req.Content)
	return "", true
}

// newLambdaServer implements the Lambda Invoke API as aws-sdk-go-v2 calls
// it: POST /2015-03-31/functions/<name>/invocations.
func newLambdaServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := "/2015-03-31/functions/" + functionARN + "/invocations"
		if r.Method != http.MethodPost || r.URL.Path != want {
			t.Errorf("got %s %s, want POST %s", r.Method, r.URL.Path, want)
		}
		if got := r.Header.Get("X-Amz-Invocation-Type"); got != "RequestResponse" {
			t.Errorf("X-Amz-Invocation-Type=%q, want RequestResponse", got)
		}
		reply, crash := handle(t, r)
		if crash {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newWebhook(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type=%q, want application/json", got)
		}
		reply, crash := handle(t, r)
		if crash {
			http.Error(w, reply, http.StatusInternalServerError)
			return
		}
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReview(t *testing.T) {
	lambdaSrv := newLambdaServer(t)
	webhook := newWebhook(t)
	client := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(lambdaSrv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	transports := map[string]string{"Lambda": functionARN, "Webhook": webhook.URL + "/review"}
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		content string
		want    *parley.ReviewResponse
		wantErr error
		outcome string
	}{
		{"Allow", "allow", &parley.ReviewResponse{ReviewResult: "ALLOW", Content: str("allow"), Attributes: map[string]string{"k": "v"}}, nil, review.OutcomeAllow},
		{"Deny", "deny", &parley.ReviewResponse{ReviewResult: "DENY", Content: str("deny")}, nil, review.OutcomeDeny},
		{"Rewrite", "rewrite", &parley.ReviewResponse{ReviewResult: "ALLOW", Content: str("r*****"), Attributes: map[string]string{"masked": "true"}}, nil, review.OutcomeAllow},
		{"ErrTimeout", "slow", nil, review.ErrTimeout, review.OutcomeErrorTimeout},
		{"ErrFunction", "crash", nil, review.ErrFunction, review.OutcomeErrorFunction},
		{"ErrInvalidResult", "invalid", nil, review.ErrInvalid, review.OutcomeErrorInvalid},
		{"ErrInvalidAttributes", "badattrs", nil, review.ErrInvalid, review.OutcomeErrorInvalid},
	}
	for transport, uri := range transports {
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				if transport == "Webhook" && tt.wantErr == review.ErrFunction {
					tt.wantErr, tt.outcome = review.ErrInvoke, review.OutcomeErrorInvoke // a 500
				}
				reg := prometheus.NewRegistry()
				inv := &review.Invoker{Lambda: client, Registerer: reg}
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				start := time.Now()
				got, err := inv.Review(ctx, uri, &parley.ReviewRequest{
					Content: tt.content, MessageID: "abcdefABCDEF", RoomARN: "arn:aws:ivschat:us-east-1:000000000000:room/abcdefABCDEF",
					Sender: parley.ReviewSender{UserID: "u1", IP: "192.0.2.1"},
				})
				if elapsed := time.Since(start); elapsed > time.Second {
					t.Errorf("Review took %v, want it bounded by the 200 ms deadline", elapsed)
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err=%v, want %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("reply (-want +got):\n%s", diff)
				}
				if got := counterValue(t, reg, "parley_review_invocations_total", tt.outcome); got != 1 {
					t.Errorf("parley_review_invocations_total{outcome=%q}=%v, want 1", tt.outcome, got)
				}
			})
		}
	}
}

func TestReviewRequestPayload(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{"ReviewResult":"ALLOW"}`)
	}))
	defer srv.Close()
	inv := &review.Invoker{}
	resp, err := inv.Review(context.Background(), srv.URL, &parley.ReviewRequest{
		Content: "hi", MessageID: "abcdefABCDEF", RoomARN: "arn:aws:ivschat:us-east-1:000000000000:room/abcdefABCDEF",
		Sender: parley.ReviewSender{UserID: "u1", IP: "192.0.2.1", Attributes: map[string]string{"a": "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != nil || resp.Attributes != nil {
		t.Errorf("reply without Content/Attributes decoded as %+v, want them nil", resp)
	}
	want := map[string]any{
		"Content": "hi", "MessageId": "abcdefABCDEF", "RoomArn": "arn:aws:ivschat:us-east-1:000000000000:room/abcdefABCDEF",
		"Attributes": map[string]any{},
		"Sender":     map[string]any{"UserId": "u1", "Ip": "192.0.2.1", "Attributes": map[string]any{"a": "b"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request payload (-want +got):\n%s", diff)
	}
}

func TestReviewErrNoLambdaClient(t *testing.T) {
	_, err := (&review.Invoker{}).Review(context.Background(), functionARN, &parley.ReviewRequest{})
	if !errors.Is(err, review.ErrInvoke) {
		t.Fatalf("err=%v, want ErrInvoke", err)
	}
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		reply string
		ok    bool
	}{
		{`{"ReviewResult":"ALLOW"}`, true},
		{`{"ReviewResult":"DENY","Content":null,"Attributes":null}`, true},
		{`{"ReviewResult":"ALLOW","Content":"x","Attributes":{},"Extra":1}`, true},
		{`{"ReviewResult":"allow"}`, false},
		{`{"Content":"x"}`, false},
		{`{"ReviewResult":null}`, false},
		{`{"ReviewResult":"ALLOW","Content":5}`, false},
		{`{"ReviewResult":"ALLOW","Attributes":["a"]}`, false},
		{`{"ReviewResult":"ALLOW","Attributes":{"a":null}}`, true}, // null decodes as ""
		{`"ALLOW"`, false},
		{`not json`, false},
	} {
		_, err := review.Decode([]byte(tt.reply))
		if (err == nil) != tt.ok {
			t.Errorf("Decode(%s) err=%v, want ok=%v", tt.reply, err, tt.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("é", 11)
	if err := review.Validate(&parley.ReviewResponse{ReviewResult: "ALLOW", Content: &long}, 10); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("11 code points with limit 10: err=%v, want ErrInvalid", err)
	}
	if err := review.Validate(&parley.ReviewResponse{ReviewResult: "ALLOW", Content: &long}, 11); err != nil {
		t.Errorf("11 code points with limit 11: err=%v", err)
	}
	if err := review.Validate(&parley.ReviewResponse{ReviewResult: "NOPE"}, 11); !errors.Is(err, review.ErrInvalid) {
		t.Errorf("ReviewResult NOPE: err=%v, want ErrInvalid", err)
	}
}

func TestRecordFallback(t *testing.T) {
	reg := prometheus.NewRegistry()
	inv := &review.Invoker{Registerer: reg}
	inv.RecordFallback(parley.FallbackDeny)
	if n, err := testutil.GatherAndCount(reg, "parley_review_fallbacks_total"); err != nil || n != 1 {
		t.Fatalf("parley_review_fallbacks_total series=%d err=%v, want 1", n, err)
	}
}

// counterValue returns the value of the counter name whose one label has
// the value label.
func counterValue(t *testing.T, g prometheus.Gatherer, name, label string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestNewLambdaClient(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	srv := newLambdaServer(t)
	client, err := review.NewLambdaClient(context.Background(), srv.URL, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	inv := &review.Invoker{Lambda: client}
	resp, err := inv.Review(context.Background(), functionARN, &parley.ReviewRequest{Content: "deny"})
	if err != nil || resp.ReviewResult != parley.ReviewDeny {
		t.Fatalf("Review through NewLambdaClient: %+v, %v; want DENY", resp, err)
	}
}
