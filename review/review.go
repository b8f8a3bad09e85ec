// Package review invokes message review handlers: an AWS Lambda function
// through the Lambda Invoke API, or (a Parley extension) an http(s) webhook
// that receives the same JSON by POST. It implements parley.Reviewer.
package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/parleychat/parley"
	"github.com/prometheus/client_golang/prometheus"
)

var _ parley.Reviewer = (*Invoker)(nil)

// Errors that Review wraps, one per failure class. Every one of them makes
// the room's fallbackResult apply.
var (
	// ErrTimeout: the context ended before the handler answered.
	ErrTimeout = errors.New("review handler timed out")
	// ErrInvoke: the handler could not be reached or answered with a
	// non-2xx status.
	ErrInvoke = errors.New("review handler invocation failed")
	// ErrFunction: the Lambda function raised an error (FunctionError).
	ErrFunction = errors.New("review handler function error")
	// ErrInvalid: the reply does not follow the response syntax.
	ErrInvalid = errors.New("invalid review handler reply")
)

// maxReplyBytes bounds the reply read from a webhook (Lambda's own
// synchronous payload limit is 6 MB; a review reply is tiny).
const maxReplyBytes = 1 << 20

// LambdaInvoker is the part of *lambda.Client that Invoker uses.
type LambdaInvoker interface {
	Invoke(ctx context.Context, params *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Invoker calls review handlers. Its zero value reaches webhooks with
// http.DefaultClient and rejects Lambda ARNs; set Lambda to invoke
// functions. An Invoker must not be copied after first use.
type Invoker struct {
	// Lambda invokes functions whose URI is a Lambda ARN. Nil makes such
	// handlers fail with ErrInvoke (the fallback applies).
	Lambda LambdaInvoker
	// HTTP posts to http(s) handler URIs. Nil means http.DefaultClient.
	HTTP *http.Client
	// Registerer receives the metrics. Nil means none are registered.
	Registerer prometheus.Registerer

	once    sync.Once
	metrics *metrics
}

// NewLambdaClient returns a Lambda client for cmd/parley, with the SDK's
// default credential chain and region, and BaseEndpoint set to endpoint
// when it is not empty.
func NewLambdaClient(ctx context.Context, endpoint, region string) (*lambda.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Review sends req to the handler at uri and returns its reply, decoded
// strictly (see Decode). It honours ctx's deadline (messaging gives it
// 200 ms). Errors wrap ErrTimeout, ErrInvoke, ErrFunction or ErrInvalid.
// The room's own limits, such as its maximumMessageLength for a rewritten
// Content, are the caller's to check.
func (inv *Invoker) Review(ctx context.Context, uri string, req *parley.ReviewRequest) (*parley.ReviewResponse, error) {
	inv.once.Do(inv.init)
	start := time.Now()
	resp, err := inv.review(ctx, uri, req)
	inv.metrics.duration.Observe(time.Since(start).Seconds())
	inv.metrics.invocations.WithLabelValues(outcome(resp, err)).Inc()
	return resp, err
}

func (inv *Invoker) review(ctx context.Context, uri string, req *parley.ReviewRequest) (*parley.ReviewResponse, error) {
	body, err := json.Marshal(requestPayload(req))
	if err != nil {
		return nil, fmt.Errorf("encode review request: %w", err)
	}
	var reply []byte
	switch {
	case strings.HasPrefix(uri, "arn:aws:lambda:"):
		reply, err = inv.invokeLambda(ctx, uri, body)
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		reply, err = inv.post(ctx, uri, body)
	default:
		err = fmt.Errorf("%w: unsupported handler uri %q", ErrInvoke, uri)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %v", ErrTimeout, err)
		}
		return nil, err
	}
	return Decode(reply)
}

func (inv *Invoker) invokeLambda(ctx context.Context, arn string, body []byte) ([]byte, error) {
	if inv.Lambda == nil {
		return nil, fmt.Errorf("%w: no Lambda client configured for %s", ErrInvoke, arn)
	}
	out, err := inv.Lambda.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(arn),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        body,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: invoke %s: %v", ErrInvoke, arn, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("%w: %s: %s: %.200s", ErrFunction, arn, *out.FunctionError, out.Payload)
	}
	if out.StatusCode != 0 && (out.StatusCode < 200 || out.StatusCode > 299) {
		return nil, fmt.Errorf("%w: invoke %s: status %d", ErrInvoke, arn, out.StatusCode)
	}
	return out.Payload, nil
}

func (inv *Invoker) post(ctx context.Context, uri string, body []byte) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvoke, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	client := inv.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: post %s: %v", ErrInvoke, uri, err)
	}
	defer hresp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(hresp.Body, maxReplyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read reply from %s: %v", ErrInvoke, uri, err)
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, fmt.Errorf("%w: post %s: status %d", ErrInvoke, uri, hresp.StatusCode)
	}
	if len(reply) > maxReplyBytes {
		return nil, fmt.Errorf("%w: reply from %s exceeds %d bytes", ErrInvalid, uri, maxReplyBytes)
	}
	return reply, nil
}

// requestPayload returns req with nil attribute maps replaced by empty
// ones, so that handlers always receive objects, never null.
func requestPayload(req *parley.ReviewRequest) *parley.ReviewRequest {
	r := *req
	if r.Attributes == nil {
		r.Attributes = map[string]string{}
	}
	if r.Sender.Attributes == nil {
		r.Sender.Attributes = map[string]string{}
	}
	return &r
}

// Decode parses a handler reply strictly: ReviewResult must be ALLOW or
// DENY; Content, when present and not null, a string; Attributes, when
// present and not null, an object of string values. Unknown keys are
// ignored. Errors wrap ErrInvalid.
func Decode(reply []byte) (*parley.ReviewResponse, error) {
	var raw struct {
		ReviewResult json.RawMessage
		Content      json.RawMessage
		Attributes   json.RawMessage
	}
	if err := json.Unmarshal(reply, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	resp := &parley.ReviewResponse{}
	if err := strictUnmarshal(raw.ReviewResult, &resp.ReviewResult); err != nil || raw.ReviewResult == nil {
		return nil, fmt.Errorf("%w: ReviewResult must be a string", ErrInvalid)
	}
	if resp.ReviewResult != parley.ReviewAllow && resp.ReviewResult != parley.ReviewDeny {
		return nil, fmt.Errorf("%w: ReviewResult %q is not ALLOW or DENY", ErrInvalid, resp.ReviewResult)
	}
	if !isNull(raw.Content) {
		var s string
		if err := strictUnmarshal(raw.Content, &s); err != nil {
			return nil, fmt.Errorf("%w: Content must be a string", ErrInvalid)
		}
		resp.Content = &s
	}
	if !isNull(raw.Attributes) {
		if err := strictUnmarshal(raw.Attributes, &resp.Attributes); err != nil {
			return nil, fmt.Errorf("%w: Attributes must be an object of strings", ErrInvalid)
		}
		if resp.Attributes == nil {
			resp.Attributes = map[string]string{}
		}
	}
	return resp, nil
}

// strictUnmarshal decodes data into v, refusing a JSON null (which
// json.Unmarshal would accept silently for strings).
func strictUnmarshal(data json.RawMessage, v any) error {
	if isNull(data) {
		return errors.New("null")
	}
	return json.Unmarshal(data, v)
}

func isNull(data json.RawMessage) bool {
	s := strings.TrimSpace(string(data))
	return s == "" || s == "null"
}
