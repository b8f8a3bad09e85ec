package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/smithy-go"
	"github.com/parleychat/parley"
)

const roomARN = "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456"

// verifyingServer starts a server that verifies every request with v and
// answers the tag operations. It records what it saw.
type verifyingServer struct {
	*httptest.Server
	mu      sync.Mutex
	queries []string
	errs    []error
}

func newVerifyingServer(t *testing.T, v *Verifier) *verifyingServer {
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		_, err = v.Verify(r, body)
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.RawQuery)
		s.errs = append(s.errs, err)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.Header().Set("X-Amzn-Errortype", string(parley.ErrorCodeOf(err)))
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"`+parley.ErrorMessage(err)+`"}`)
			return
		}
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.EscapedPath(), "/tags/") {
			io.WriteString(w, `{"tags":{}}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func newClient(url, akid, secret string) *ivschat.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""),
	}
	return ivschat.NewFromConfig(cfg, func(o *ivschat.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 1
	})
}

// TestVerifyIvschatClient runs the official Go client against a server that
// verifies signatures.
func TestVerifyIvschatClient(t *testing.T) {
	v := &Verifier{Credentials: NewKeyRing(Key{AccessKeyID: testAKID, SecretAccessKey: testSecret})}
	srv := newVerifyingServer(t, v)
	c := newClient(srv.URL, testAKID, testSecret)
	ctx := context.Background()

	out, err := c.ListTagsForResource(ctx, &ivschat.ListTagsForResourceInput{ResourceArn: aws.String(roomARN)})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if out.Tags == nil {
		t.Errorf("ListTagsForResource: tags=nil")
	}
	if _, err := c.TagResource(ctx, &ivschat.TagResourceInput{
		ResourceArn: aws.String(roomARN),
		Tags:        map[string]string{"a b": "c d", "k": "v/w+x"},
	}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &ivschat.UntagResourceInput{
		ResourceArn: aws.String(roomARN),
		TagKeys:     []string{"a b", "c", "d+e/f"},
	}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if _, err := c.CreateRoom(ctx, &ivschat.CreateRoomInput{Name: aws.String("lobby")}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}

	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.errs) != 4 {
		t.Fatalf("server saw %d requests, want 4", len(srv.errs))
	}
	for i, err := range srv.errs {
		if err != nil {
			t.Errorf("request %d: Verify: %v", i, err)
		}
	}
	t.Logf("UntagResource query: %s", srv.queries[2])
	if q := srv.queries[2]; !strings.Contains(q, "tagKeys=a") || !strings.Contains(q, "b&") {
		t.Errorf("UntagResource query=%q, want tagKeys with a space", q)
	}
}

// TestVerifyIvschatClientRefused checks that the client sees the refusal of
// a wrong secret and of an unknown key as an API error with the AWS code.
func TestVerifyIvschatClientRefused(t *testing.T) {
	v := &Verifier{Credentials: NewKeyRing(Key{AccessKeyID: testAKID, SecretAccessKey: testSecret})}
	srv := newVerifyingServer(t, v)
	for _, tc := range []struct {
		name, akid, secret string
		code               parley.ErrorCode
	}{
		{"WrongSecret", testAKID, "wrong", parley.InvalidSignatureException},
		{"UnknownKey", "PKNOBODY", testSecret, parley.UnrecognizedClientException},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(srv.URL, tc.akid, tc.secret)
			_, err := c.ListTagsForResource(context.Background(), &ivschat.ListTagsForResourceInput{ResourceArn: aws.String(roomARN)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err=%v, want an API error", err)
			}
			if apiErr.ErrorCode() != string(tc.code) {
				t.Fatalf("code=%q, want %q", apiErr.ErrorCode(), tc.code)
			}
		})
	}
}
