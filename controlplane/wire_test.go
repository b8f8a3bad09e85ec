package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/sigv4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// rawResponse is a response read whole.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends an unsigned request to the test server.
func (e *env) do(t *testing.T, method, path string, body io.Reader) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := rawResponse{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("response body %q is not a JSON object: %v", raw, err)
		}
	}
	if _, err := uuid.Parse(resp.Header.Get("X-Amzn-Requestid")); err != nil {
		t.Fatalf("x-amzn-RequestId=%q: %v", resp.Header.Get("X-Amzn-Requestid"), err)
	}
	return r
}

// fieldNames returns the names in a ValidationException body's fieldList.
func (r rawResponse) fieldNames() []string {
	var names []string
	l, _ := r.body["fieldList"].([]any)
	for _, f := range l {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	return names
}

func (r rawResponse) errorType() string { return r.header.Get("X-Amzn-Errortype") }

func TestWireErrors(t *testing.T) {
	e := newEnv(t, nil)
	room := e.mustCreateRoom(t, nil)
	tests := []struct {
		name, method, path, body string
		reason                   string
		fields                   []string
	}{
		{"UnknownOperation", "POST", "/CreateChannel", "{}", parley.ReasonUnknownOperation, nil},
		{"TagOperationByName", "POST", "/TagResource", "{}", parley.ReasonUnknownOperation, nil},
		{"TagsWithoutArn", "GET", "/tags", "", parley.ReasonUnknownOperation, nil},
		{"WrongMethod", "GET", "/CreateRoom", "", parley.ReasonUnknownOperation, nil},
		{"WrongTagsMethod", "PUT", "/tags/" + escapeAll(*room.Arn), "", parley.ReasonUnknownOperation, nil},
		{"Root", "POST", "/", "", parley.ReasonUnknownOperation, nil},
		{"MalformedJSON", "POST", "/CreateRoom", `{"name":`, parley.ReasonOther, nil},
		{"TrailingGarbage", "POST", "/CreateRoom", `{} {}`, parley.ReasonOther, nil},
		{"NotAnObject", "POST", "/CreateRoom", `[]`, parley.ReasonOther, nil},
		{"Null", "POST", "/CreateRoom", `null`, parley.ReasonOther, nil},
		{"StringForInteger", "POST", "/CreateRoom", `{"maximumMessageLength":"5"}`, parley.ReasonFieldValidationFailed, []string{"maximumMessageLength"}},
		{"FloatForInteger", "POST", "/CreateRoom", `{"maximumMessageLength":5.5}`, parley.ReasonFieldValidationFailed, []string{"maximumMessageLength"}},
		{"HugeInteger", "POST", "/CreateRoom", `{"maximumMessageLength":99999999999999999999}`, parley.ReasonFieldValidationFailed, []string{"maximumMessageLength"}},
		{"NumberForString", "POST", "/CreateRoom", `{"name":5}`, parley.ReasonFieldValidationFailed, []string{"name"}},
		{"NullMapValue", "POST", "/CreateRoom", `{"tags":{"a":null}}`, parley.ReasonFieldValidationFailed, []string{"tags"}},
		{"ListForObject", "POST", "/CreateRoom", `{"messageReviewHandler":[]}`, parley.ReasonFieldValidationFailed, []string{"messageReviewHandler"}},
		{"EmptyBodyRequired", "POST", "/GetRoom", ``, parley.ReasonFieldValidationFailed, []string{"identifier"}},
		{"NullIsAbsent", "POST", "/GetRoom", `{"identifier":null}`, parley.ReasonFieldValidationFailed, []string{"identifier"}},
		{"NoUnion", "POST", "/CreateLoggingConfiguration", `{"destinationConfiguration":{}}`, parley.ReasonFieldValidationFailed, []string{"destinationConfiguration"}},
		{"TwoUnion", "POST", "/CreateLoggingConfiguration", `{"destinationConfiguration":{"s3":{"bucketName":"abc"},"firehose":{"deliveryStreamName":"a"}}}`,
			parley.ReasonFieldValidationFailed, []string{"destinationConfiguration"}},
		{"UnionInnerRequired", "POST", "/CreateLoggingConfiguration", `{"destinationConfiguration":{"s3":{}}}`,
			parley.ReasonFieldValidationFailed, []string{"destinationConfiguration.s3.bucketName"}},
		{"DuplicateLogging", "POST", "/CreateRoom", `{"loggingConfigurationIdentifiers":["arn:aws:ivschat:us-east-1:123456789012:logging-configuration/AAAAAAAAAAAA","arn:aws:ivschat:us-east-1:123456789012:logging-configuration/AAAAAAAAAAAA"]}`,
			parley.ReasonFieldValidationFailed, []string{"loggingConfigurationIdentifiers"}},
		{"TooLarge", "POST", "/CreateRoom", `{"name":"` + strings.Repeat("a", controlplane.MaxBodySize) + `"}`, parley.ReasonOther, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := e.do(t, tt.method, tt.path, body)
			if r.status != 400 || r.errorType() != "ValidationException" || r.body["reason"] != tt.reason || r.body["message"] == "" {
				t.Fatalf("status=%d type=%q body=%s", r.status, r.errorType(), r.raw)
			}
			if diff := cmp.Diff(tt.fields, r.fieldNames()); diff != "" {
				t.Fatalf("fieldList names (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("UnknownMembersIgnored", func(t *testing.T) {
		r := e.do(t, "POST", "/CreateRoom", strings.NewReader(`{"future":{"x":[1]},"name":"a"}`))
		if r.status != 200 || r.body["name"] != "a" || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("status=%d body=%s", r.status, r.raw)
		}
	})
	t.Run("DeleteIs204", func(t *testing.T) {
		r := e.do(t, "POST", "/DeleteRoom", strings.NewReader(`{"identifier":"`+*room.Arn+`"}`))
		if r.status != 204 || len(r.raw) != 0 {
			t.Fatalf("status=%d body=%q", r.status, r.raw)
		}
	})
	t.Run("NotFoundBody", func(t *testing.T) {
		r := e.do(t, "POST", "/GetRoom", strings.NewReader(`{"identifier":"`+*room.Arn+`"}`))
		want := map[string]any{"message": r.body["message"], "resourceId": *room.Id, "resourceType": "ROOM"}
		if diff := cmp.Diff(want, r.body); diff != "" || r.status != 404 || r.errorType() != "ResourceNotFoundException" {
			t.Fatalf("status=%d type=%s body (-want +got):\n%s", r.status, r.errorType(), diff)
		}
	})
	t.Run("DisconnectUserEmptyObject", func(t *testing.T) {
		room := e.mustCreateRoom(t, nil)
		r := e.do(t, "POST", "/DisconnectUser", strings.NewReader(`{"roomIdentifier":"`+*room.Arn+`","userId":"u"}`))
		if r.status != 200 || string(r.raw) != "{}" {
			t.Fatalf("status=%d body=%q", r.status, r.raw)
		}
	})
}

// escapeAll percent-encodes everything but unreserved characters, as the
// SDKs encode the {resourceArn} label.
func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

func TestAuth(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(s *controlplane.Server) {
		ring := sigv4.NewKeyRing(
			sigv4.Key{AccessKeyID: "good", SecretAccessKey: "good-secret"},
			sigv4.Key{AccessKeyID: "readonly", SecretAccessKey: "readonly-secret", Actions: []string{"ivschat:Get*", "ivschat:List*"}},
		)
		s.Auth = &sigv4.Verifier{Credentials: ring}
		s.Authz = ring
		s.Registerer = reg
	})
	ctx := context.Background()
	client := func(akid string) *ivschat.Client {
		return ivschat.New(e.client.Options(), func(o *ivschat.Options) {
			o.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: akid, SecretAccessKey: akid + "-secret"}, nil
			}))
		})
	}
	out, err := client("good").CreateRoom(ctx, &ivschat.CreateRoomInput{})
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if _, err := client("readonly").GetRoom(ctx, &ivschat.GetRoomInput{Identifier: out.Arn}); err != nil {
		t.Fatalf("GetRoom: %v", err)
	}
	// The tag operations carry the ARN percent-encoded in the path, which
	// the signature covers encoded twice.
	if _, err := client("good").TagResource(ctx, &ivschat.TagResourceInput{ResourceArn: out.Arn, Tags: map[string]string{"a b": "c"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := client("good").UntagResource(ctx, &ivschat.UntagResourceInput{ResourceArn: out.Arn, TagKeys: []string{"a b"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if tags, err := client("readonly").ListTagsForResource(ctx, &ivschat.ListTagsForResourceInput{ResourceArn: out.Arn}); err != nil || len(tags.Tags) != 0 {
		t.Fatalf("ListTagsForResource: %v %v", tags, err)
	}
	_, err = client("readonly").DeleteRoom(ctx, &ivschat.DeleteRoomInput{Identifier: out.Arn})
	as[*types.AccessDeniedException](t, err)
	_, err = client("bad").GetRoom(ctx, &ivschat.GetRoomInput{Identifier: out.Arn})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("err=%v, want UnrecognizedClientException", err)
	}
	t.Run("Metrics", func(t *testing.T) {
		body := `
# HELP parley_api_requests_total Control-plane API requests by operation, HTTP status and error code (the x-amzn-ErrorType; empty on success).
# TYPE parley_api_requests_total counter
parley_api_requests_total{error="",operation="CreateRoom",status="200"} 1
parley_api_requests_total{error="",operation="GetRoom",status="200"} 1
parley_api_requests_total{error="",operation="ListTagsForResource",status="200"} 1
parley_api_requests_total{error="",operation="TagResource",status="200"} 1
parley_api_requests_total{error="",operation="UntagResource",status="200"} 1
parley_api_requests_total{error="AccessDeniedException",operation="DeleteRoom",status="403"} 1
parley_api_requests_total{error="UnrecognizedClientException",operation="GetRoom",status="403"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(body), "parley_api_requests_total"); err != nil {
			t.Fatal(err)
		}
		if n := testutil.CollectAndCount(reg, "parley_api_request_duration_seconds"); n != 6 {
			t.Fatalf("duration series=%d, want 6", n)
		}
	})
}
