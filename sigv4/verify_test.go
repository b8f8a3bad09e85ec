package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
	"github.com/parleychat/parley"
)

const (
	testAKID   = "PKTESTTESTTESTTEST01"
	testSecret = "testsecrettestsecrettestsecrettestsecret"
	signedAt   = "20240102T030405Z"
)

// fixedClock returns a clock stopped at an X-Amz-Date value.
func fixedClock(date string) func() time.Time {
	t, err := time.Parse(dateFormat, date)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return t }
}

func testVerifier() *Verifier {
	return &Verifier{
		Credentials: NewKeyRing(Key{AccessKeyID: testAKID, SecretAccessKey: testSecret}),
		Now:         fixedClock(signedAt),
	}
}

// request is a request to sign with the SDK's signer.
type request struct {
	name, method, url, body string
	// wireQuery, when set, replaces the query the signer rewrote, as the Go
	// SDK puts "+" on the wire but signs "%20".
	wireQuery string
}

var requests = []request{
	{
		name:      "UntagResource",
		method:    "DELETE",
		url:       "http://parley.test/tags/arn%3Aaws%3Aivschat%3Aus-east-1%3A123456789012%3Aroom%2FAbCdEf123456?tagKeys=a+b&tagKeys=c",
		wireQuery: "tagKeys=a+b&tagKeys=c",
	},
	{name: "CreateRoom", method: "POST", url: "http://parley.test:8080/CreateRoom", body: `{"name":"lobby","maximumMessageLength":100}`},
	{name: "ListTagsForResource", method: "GET", url: "http://parley.test/tags/arn%3Aaws%3Aivschat%3Aus-east-1%3A123456789012%3Aroom%2FAbCdEf123456"},
}

// signed is a request signed by the SDK, as raw HTTP/1.1 text, with the
// canonical request the SDK built.
type signed struct {
	raw       string
	canonical string
}

// mustSign signs req with the SDK's v4 signer at signedAt and returns it as
// sent on the wire.
func mustSign(tb testing.TB, req request, akid, secret string, extra http.Header) signed {
	tb.Helper()
	var body *strings.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	var r *http.Request
	var err error
	if body != nil {
		r, err = http.NewRequest(req.method, req.url, body)
		r.Header.Set("Content-Type", "application/json")
	} else {
		r, err = http.NewRequest(req.method, req.url, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Amz-Sdk-Invocation-Id", "e7f1d3a4-2b1c-4f0e-9a55-1234567890ab")
	for k, vs := range extra {
		r.Header[k] = vs
	}
	sum := sha256.Sum256([]byte(req.body))
	var canonical string
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.LogSigning = true
		o.Logger = logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) {
			canonical = v[0].(string)
		})
	})
	at := fixedClock(signedAt)()
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ivschat", "us-east-1", at); err != nil {
		tb.Fatal(err)
	}
	if req.wireQuery != "" {
		r.URL.RawQuery = req.wireQuery
	}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return signed{raw: buf.String(), canonical: canonical}
}

// body returns the body of a raw request.
func rawBody(raw string) []byte {
	_, b, _ := strings.Cut(raw, "\r\n\r\n")
	return []byte(b)
}

func TestVerifySDKSigner(t *testing.T) {
	for _, req := range requests {
		t.Run(req.name, func(t *testing.T) {
			s := mustSign(t, req, testAKID, testSecret, nil)
			r := mustReadRequest(t, s.raw)
			body := rawBody(s.raw)
			auth, err := parseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}
			query, err := canonicalQuery(r.URL.RawQuery)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(body)
			got := string(appendCanonicalRequest(nil, r, canonicalURI(r.URL), query, auth.SignedHeaders,
				[]byte(hex.EncodeToString(sum[:]))))
			if got != s.canonical {
				t.Errorf("canonical request:\n%s\nSDK built:\n%s", got, s.canonical)
			}
			id, err := testVerifier().Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v\nrequest:\n%s", err, s.raw)
			}
			if id != testAKID {
				t.Fatalf("access key id=%q, want %q", id, testAKID)
			}
		})
	}
}

// removeHeader deletes a header line from raw request text.
func removeHeader(name string) func(string) string {
	re := regexp.MustCompile(`(?mi)^` + regexp.QuoteMeta(name) + `:.*\r\n`)
	return func(raw string) string { return re.ReplaceAllString(raw, "") }
}

// alterRequestLine applies f to the request target.
func alterRequestLine(f func(target string) string) func(string) string {
	return func(raw string) string {
		line, rest, _ := strings.Cut(raw, "\r\n")
		parts := strings.SplitN(line, " ", 3)
		parts[1] = f(parts[1])
		return strings.Join(parts, " ") + "\r\n" + rest
	}
}

type tamper struct {
	name     string
	akid     string
	secret   string
	wire     func(raw string) string
	body     func(b []byte) []byte
	now      time.Duration // clock offset from the signing time
	code     parley.ErrorCode
	message  string // prefix of the error message, when set
	insecure bool   // the tampered request passes in insecure mode
}

var tampers = []tamper{
	{name: "WrongSecret", secret: "x" + testSecret[1:], code: parley.InvalidSignatureException,
		message: "The request signature we calculated does not match", insecure: true},
	{name: "UnknownKey", akid: "PKUNKNOWNUNKNOWN0000", code: parley.UnrecognizedClientException, insecure: true},
	{name: "AlteredBody", body: func(b []byte) []byte { return append(b, ' ') }, code: parley.InvalidSignatureException, insecure: true},
	{name: "AlteredPath", wire: alterRequestLine(func(p string) string { return strings.Replace(p, "/", "/x", 1) }),
		code: parley.InvalidSignatureException, insecure: true},
	{name: "AlteredQuery", wire: alterRequestLine(func(p string) string {
		if strings.Contains(p, "?") {
			return strings.Replace(p, "a+b", "a+c", 1)
		}
		return p + "?x=1"
	}), code: parley.InvalidSignatureException, insecure: true},
	{name: "AddedQuery", wire: alterRequestLine(func(p string) string {
		if strings.Contains(p, "?") {
			return p + "&tagKeys=d"
		}
		return p + "?tagKeys=d"
	}), code: parley.InvalidSignatureException, insecure: true},
	{name: "Expired", now: 15*time.Minute + time.Second, code: parley.InvalidSignatureException,
		message: "Signature expired: 20240102T030405Z is now earlier than 20240102T030406Z (20240102T031906Z - 15 min.)", insecure: true},
	{name: "NotYetCurrent", now: -15*time.Minute - time.Second, code: parley.InvalidSignatureException,
		message: "Signature not yet current: 20240102T030405Z is still later than", insecure: true},
	{name: "MissingAuthorization", wire: removeHeader("Authorization"), code: parley.MissingAuthenticationTokenException,
		message: "Missing Authentication Token"},
	{name: "MissingDate", wire: removeHeader("X-Amz-Date"), code: parley.IncompleteSignatureException},
	{name: "SignedHeaderRemoved", wire: removeHeader("Amz-Sdk-Invocation-Id"), code: parley.InvalidSignatureException, insecure: true},
	{name: "HeaderValueChanged", wire: func(raw string) string { return strings.Replace(raw, "e7f1d3a4", "e7f1d3a5", 1) },
		code: parley.InvalidSignatureException, insecure: true},
	{name: "WrongBodyHashHeader", wire: func(raw string) string {
		return strings.Replace(raw, "\r\n\r\n", "\r\nX-Amz-Content-Sha256: "+strings.Repeat("0", 64)+"\r\n\r\n", 1)
	}, code: parley.InvalidSignatureException},
	{name: "MalformedAuthorization", wire: func(raw string) string { return strings.Replace(raw, "SignedHeaders=", "Signed=", 1) },
		code: parley.IncompleteSignatureException},
	{name: "WrongService", wire: func(raw string) string { return strings.Replace(raw, "/ivschat/", "/ivs/", 1) },
		code: parley.InvalidSignatureException},
	{name: "ScopeDateMismatch", wire: func(raw string) string { return strings.Replace(raw, "/20240102/", "/20240103/", 1) },
		code: parley.InvalidSignatureException, message: "Date in Credential scope does not match"},
	{name: "TruncatedSignature", wire: func(raw string) string { return truncatedSig.ReplaceAllString(raw, "$1") },
		code: parley.InvalidSignatureException},
}

// truncatedSig drops the last digit of the signature.
var truncatedSig = regexp.MustCompile(`(Signature=[0-9a-f]{63})[0-9a-f]`)

// TestVerifyTampered checks that each tampered request is refused with the
// right code while its correctly signed twin passes.
func TestVerifyTampered(t *testing.T) {
	for _, req := range requests {
		for _, tc := range tampers {
			t.Run(req.name+"/"+tc.name, func(t *testing.T) {
				akid, secret := testAKID, testSecret
				if tc.akid != "" {
					akid = tc.akid
				}
				if tc.secret != "" {
					secret = tc.secret
				}
				twin := mustSign(t, req, testAKID, testSecret, nil)
				if _, err := testVerifier().Verify(mustReadRequest(t, twin.raw), rawBody(twin.raw)); err != nil {
					t.Fatalf("twin: Verify: %v", err)
				}
				raw := mustSign(t, req, akid, secret, nil).raw
				if tc.wire != nil {
					raw = tc.wire(raw)
				}
				body := rawBody(raw)
				if tc.body != nil {
					body = tc.body(body)
				}
				v := testVerifier()
				at := v.Now().Add(tc.now)
				v.Now = func() time.Time { return at }
				_, err := v.Verify(mustReadRequest(t, raw), body)
				if got := parley.ErrorCodeOf(err); got != tc.code {
					t.Fatalf("code=%q (%v), want %q\nrequest:\n%s", got, err, tc.code, raw)
				}
				if msg := parley.ErrorMessage(err); !strings.HasPrefix(msg, tc.message) {
					t.Errorf("message=%q, want prefix %q", msg, tc.message)
				}
				v.Insecure = true
				_, err = v.Verify(mustReadRequest(t, raw), body)
				if tc.insecure && err != nil {
					t.Errorf("insecure: Verify: %v, want success", err)
				}
				if !tc.insecure && err == nil {
					t.Errorf("insecure: Verify succeeded, want an error")
				}
			})
		}
	}
}

// TestVerifyWindowEdges checks that 15 minutes either way is still accepted.
func TestVerifyWindowEdges(t *testing.T) {
	s := mustSign(t, requests[1], testAKID, testSecret, nil)
	for _, d := range []time.Duration{-15 * time.Minute, 15 * time.Minute} {
		v := testVerifier()
		at := v.Now().Add(d)
		v.Now = func() time.Time { return at }
		if _, err := v.Verify(mustReadRequest(t, s.raw), rawBody(s.raw)); err != nil {
			t.Errorf("now=signing time%+v: Verify: %v", d, err)
		}
	}
}

// TestVerifySecurityToken checks that temporary credentials, which add a
// signed X-Amz-Security-Token, are accepted.
func TestVerifySecurityToken(t *testing.T) {
	extra := http.Header{"X-Amz-Security-Token": {"FQoGZXIvYXdzEXAMPLE//token=="}}
	s := mustSign(t, requests[1], testAKID, testSecret, extra)
	if !strings.Contains(s.canonical, "x-amz-security-token") {
		t.Fatalf("the security token was not signed:\n%s", s.canonical)
	}
	if _, err := testVerifier().Verify(mustReadRequest(t, s.raw), rawBody(s.raw)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestVerifyContentSHA256 checks that a correct X-Amz-Content-Sha256 passes.
func TestVerifyContentSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte(requests[1].body))
	extra := http.Header{"X-Amz-Content-Sha256": {hex.EncodeToString(sum[:])}}
	s := mustSign(t, requests[1], testAKID, testSecret, extra)
	if _, err := testVerifier().Verify(mustReadRequest(t, s.raw), rawBody(s.raw)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, req := range requests {
		b.Run(req.name, func(b *testing.B) {
			s := mustSign(b, req, testAKID, testSecret, nil)
			r := mustReadRequest(b, s.raw)
			body := rawBody(s.raw)
			v := testVerifier()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(r, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ExampleVerifier shows the verifier in front of a handler.
func ExampleVerifier() {
	v := &Verifier{Credentials: NewKeyRing(Key{AccessKeyID: "PKEXAMPLE", SecretAccessKey: "secret"})}
	r, _ := http.NewRequest("POST", "http://localhost:8080/CreateRoom", strings.NewReader("{}"))
	_, err := v.Verify(r, []byte("{}"))
	fmt.Println(parley.ErrorCodeOf(err))
	// Output: MissingAuthenticationTokenException
}
