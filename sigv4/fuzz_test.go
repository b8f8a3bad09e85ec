package sigv4

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// FuzzParseAuthorization checks that the Authorization parser never panics,
// fails only with IncompleteSignatureException, and that what it accepts
// writes back to a header that parses to the same value.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ivschat/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
		"AWS4-HMAC-SHA256 Signature=0f,SignedHeaders=host,Credential=a.b-c_d/20240101/eu-west-1/ivschat/aws4_request",
		"AWS4-HMAC-SHA256 Credential=/20240101/us-east-1/ivschat/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=A/B/C/D/E/F, SignedHeaders=;;, Signature==",
		"AWS4-HMAC-SHA256 ,,,",
		"AWS4-HMAC-SHA256",
		"Bearer x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if parley.ErrorCodeOf(err) != parley.IncompleteSignatureException {
				t.Fatalf("parseAuthorization(%q) err=%v, want IncompleteSignatureException", h, err)
			}
			return
		}
		s := a.String()
		b, err := parseAuthorization(s)
		if err != nil {
			t.Fatalf("parseAuthorization(%q) accepted, but its String %q fails: %v", h, s, err)
		}
		if diff := cmp.Diff(a, b, cmp.AllowUnexported(authorization{})); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", h, diff)
		}
		if b.String() != s {
			t.Fatalf("String not stable: %q then %q", s, b.String())
		}
	})
}

// FuzzVerify checks that arbitrary requests never panic the verifier, and
// that only a request signed with the test key is accepted in secure mode.
func FuzzVerify(f *testing.F) {
	for _, req := range requests {
		s := mustSign(f, req, testAKID, testSecret, nil)
		head, body, _ := strings.Cut(s.raw, "\r\n\r\n")
		line, headers, _ := strings.Cut(head, "\r\n")
		parts := strings.SplitN(line, " ", 3)
		f.Add(parts[0], parts[1], headers, []byte(body))
	}
	f.Add("GET", "/%zz?a=%zz&&=&b", "Host: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=A/20240102/r/ivschat/aws4_request, SignedHeaders=host;content-length, Signature=00\r\nX-Amz-Date: 20240102T030405Z", []byte{})
	f.Add("POST", "/", "Authorization: x\r\nX-Amz-Date: 2024", []byte("{}"))
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		raw := method + " " + target + " HTTP/1.1\r\n" + headers + "\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		v := testVerifier()
		id, err := v.Verify(r, body)
		if err == nil && id != testAKID {
			t.Fatalf("accepted access key id %q", id)
		}
		if err != nil && parley.ErrorCodeOf(err) == parley.InternalServerException {
			t.Fatalf("Verify: unexpected error type %v", err)
		}
		v.Insecure = true
		if _, err := v.Verify(r, body); parley.ErrorCodeOf(err) == parley.InternalServerException {
			t.Fatalf("insecure Verify: unexpected error type %v", err)
		}
	})
}
