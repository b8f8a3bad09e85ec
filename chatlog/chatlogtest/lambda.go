package chatlogtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// Review handler behaviours, chosen by function name (Lambda) or by the last
// path element (webhook):
//
//	allow    ALLOW with the original Content and Attributes
//	deny     DENY
//	rewrite  ALLOW with Rewrite(Content) and RewrittenAttributes
//	sleep-D  waits for the duration D (e.g. sleep-1s; "sleep" is 10 s) or
//	         until the caller gives up, then ALLOW
//	error    a function error (X-Amz-Function-Error: Unhandled); a webhook
//	         answers 500
//	invalid  {"ReviewResult":"MAYBE"}
//	toolong  ALLOW with a 1,000-character Content
//	badattrs ALLOW with an attribute value that is not a string
const (
	FunctionAllow   = "allow"
	FunctionDeny    = "deny"
	FunctionRewrite = "rewrite"
	FunctionSleep   = "sleep"
	FunctionError   = "error"
	FunctionInvalid = "invalid"
	FunctionTooLong = "toolong"
	FunctionBadAttr = "badattrs"
)

// RewrittenAttributes are the Attributes of a rewrite reply.
var RewrittenAttributes = map[string]string{"reviewed": "rewritten"}

// Rewrite returns the Content of a rewrite reply for content.
func Rewrite(content string) string { return "[rewritten] " + strings.ToUpper(content) }

// FunctionARN returns the ARN of the fake function name.
func FunctionARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + name
}

// Lambda implements the Lambda Invoke API as aws-sdk-go-v2 calls it
// (POST /2015-03-31/functions/<name or ARN>/invocations) and a webhook that
// takes the same JSON by POST at /webhook/<name>. It records every review
// request by function name.
type Lambda struct {
	*Server
	tb testing.TB

	mu       sync.Mutex
	requests map[string][]parley.ReviewRequest
}

// NewLambda starts the fake until the test ends.
func NewLambda(tb testing.TB) *Lambda {
	tb.Helper()
	f := &Lambda{tb: tb, requests: map[string][]parley.ReviewRequest{}}
	f.Server = newServer(tb, http.HandlerFunc(f.serveHTTP), func(w http.ResponseWriter, r *http.Request) {
		lambdaError(w, http.StatusServiceUnavailable, "ServiceException", "down for the test")
	})
	return f
}

// WebhookURL returns the http URL of the webhook with behaviour name.
func (f *Lambda) WebhookURL(name string) string { return f.URL + "/webhook/" + name }

// Requests returns the review requests that function name received, over
// both transports.
func (f *Lambda) Requests(name string) []parley.ReviewRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]parley.ReviewRequest(nil), f.requests[name]...)
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func (f *Lambda) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.tb.Errorf("review handler: got %s %s, want POST", r.Method, r.URL.Path)
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/webhook/"); ok {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			f.tb.Errorf("webhook: Content-Type=%q, want application/json", got)
		}
		reply, failed := f.handle(r, name)
		if failed {
			http.Error(w, reply, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply)
		return
	}
	fn, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	if fn, ok = strings.CutSuffix(fn, "/invocations"); !ok {
		f.tb.Errorf("Lambda: unexpected path %s", r.URL.Path)
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "no such path")
		return
	}
	if got := r.Header.Get("X-Amz-Invocation-Type"); got != "RequestResponse" {
		f.tb.Errorf("Lambda: X-Amz-Invocation-Type=%q, want RequestResponse", got)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.tb.Errorf("Lambda: request is not SigV4-signed")
	}
	reply, failed := f.handle(r, functionName(fn))
	if failed {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	io.WriteString(w, reply)
}

// functionName returns NAME from NAME, ARN…:function:NAME or
// ARN…:function:NAME:QUALIFIER.
func functionName(fn string) string {
	if _, after, ok := strings.Cut(fn, ":function:"); ok {
		fn = after
	}
	name, _, _ := strings.Cut(fn, ":")
	return name
}

// handle records the request and plays behaviour name; it returns the reply
// body and whether the function failed.
func (f *Lambda) handle(r *http.Request, name string) (reply string, failed bool) {
	var req parley.ReviewRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.tb.Errorf("review handler %s: decode request: %v", name, err)
	}
	f.mu.Lock()
	f.requests[name] = append(f.requests[name], req)
	f.mu.Unlock()
	switch {
	case name == FunctionAllow:
		return marshal(parley.ReviewResponse{ReviewResult: parley.ReviewAllow, Content: &req.Content, Attributes: req.Attributes}), false
	case name == FunctionDeny:
		return `{"ReviewResult":"DENY"}`, false
	case name == FunctionRewrite:
		c := Rewrite(req.Content)
		return marshal(parley.ReviewResponse{ReviewResult: parley.ReviewAllow, Content: &c, Attributes: RewrittenAttributes}), false
	case name == FunctionSleep || strings.HasPrefix(name, FunctionSleep+"-"):
		sleep(r, name)
		return `{"ReviewResult":"ALLOW"}`, false
	case name == FunctionError:
		return `{"errorMessage":"boom","errorType":"Error"}`, true
	case name == FunctionInvalid:
		return `{"ReviewResult":"MAYBE"}`, false
	case name == FunctionBadAttr:
		return `{"ReviewResult":"ALLOW","Attributes":{"n":1}}`, false
	case name == FunctionTooLong:
		return `{"ReviewResult":"ALLOW","Content":"` + strings.Repeat("x", 1000) + `"}`, false
	}
	f.tb.Errorf("review handler: unknown behaviour %q", name)
	return `{"errorMessage":"unknown function"}`, true
}

// sleep waits as long as a sleep-D name says, or until the caller leaves.
func sleep(r *http.Request, name string) {
	d := 10 * time.Second
	if s, ok := strings.CutPrefix(name, FunctionSleep+"-"); ok {
		if v, err := time.ParseDuration(s); err == nil {
			d = v
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
