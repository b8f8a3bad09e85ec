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
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/review"
	"github.com/prometheus/client_golang/prometheus"
)

func TestReview(t *testing.T) {
	fake := chatlogtest.NewLambda(t)
	client := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(fake.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	transports := map[string]func(string) string{"Lambda": chatlogtest.FunctionARN, "Webhook": fake.WebhookURL}
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		function string
		want     *parley.ReviewResponse
		wantErr  error
		outcome  string
	}{
		{"Allow", chatlogtest.FunctionAllow, &parley.ReviewResponse{ReviewResult: "ALLOW", Content: str("hi"), Attributes: map[string]string{"k": "v"}}, nil, review.OutcomeAllow},
		{"Deny", chatlogtest.FunctionDeny, &parley.ReviewResponse{ReviewResult: "DENY"}, nil, review.OutcomeDeny},
		{"Rewrite", chatlogtest.FunctionRewrite, &parley.ReviewResponse{ReviewResult: "ALLOW", Content: str(chatlogtest.Rewrite("hi")), Attributes: chatlogtest.RewrittenAttributes}, nil, review.OutcomeAllow},
		{"ErrTimeout", chatlogtest.FunctionSleep, nil, review.ErrTimeout, review.OutcomeErrorTimeout},
		{"ErrFunction", chatlogtest.FunctionError, nil, review.ErrFunction, review.OutcomeErrorFunction},
		{"ErrInvalidResult", chatlogtest.FunctionInvalid, nil, review.ErrInvalid, review.OutcomeErrorInvalid},
		{"ErrInvalidAttributes", chatlogtest.FunctionBadAttr, nil, review.ErrInvalid, review.OutcomeErrorInvalid},
		// The room's maximumMessageLength is messaging's to check: a long
		// Content is a valid reply here.
		{"LongContent", chatlogtest.FunctionTooLong, &parley.ReviewResponse{ReviewResult: "ALLOW", Content: str(strings.Repeat("x", 1000))}, nil, review.OutcomeAllow},
	}
	for transport, uriOf := range transports {
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
				got, err := inv.Review(ctx, uriOf(tt.function), &parley.ReviewRequest{
					Content: "hi", Attributes: map[string]string{"k": "v"}, MessageID: "abcdefABCDEF", RoomARN: "arn:aws:ivschat:us-east-1:000000000000:room/abcdefABCDEF",
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
	_, err := (&review.Invoker{}).Review(context.Background(), chatlogtest.FunctionARN("moderate"), &parley.ReviewRequest{})
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
	fake := chatlogtest.NewLambda(t)
	client, err := review.NewLambdaClient(context.Background(), fake.URL, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	inv := &review.Invoker{Lambda: client}
	resp, err := inv.Review(context.Background(), chatlogtest.FunctionARN(chatlogtest.FunctionDeny), &parley.ReviewRequest{Content: "deny"})
	if err != nil || resp.ReviewResult != parley.ReviewDeny {
		t.Fatalf("Review through NewLambdaClient: %+v, %v; want DENY", resp, err)
	}
}
