package sigv4

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// mustReadRequest parses raw HTTP/1.1 request text the way the server does.
func mustReadRequest(tb testing.TB, raw string) *http.Request {
	tb.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		tb.Fatalf("read request: %v", err)
	}
	return r
}

func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"/", "/"},
		{"/CreateRoom", "/CreateRoom"},
		{"/tags/arn%3Aaws%3Aivschat%3Aus-east-1%3A123456789012%3Aroom%2FAbCdEf123456",
			"/tags/arn%253Aaws%253Aivschat%253Aus-east-1%253A123456789012%253Aroom%252FAbCdEf123456"},
		{"/a%20b/c", "/a%2520b/c"},
		{"/a%41", "/a%2541"}, // an escape that was not needed stays as sent
		{"/a:b", "/a%3Ab"},
		{"/a~b-c_d.e", "/a~b-c_d.e"},
		{"/x//y/", "/x//y/"}, // not normalised, like the Go and JS signers
	} {
		r := mustReadRequest(t, "GET "+tc.target+" HTTP/1.1\r\nHost: h\r\n\r\n")
		if got := canonicalURI(r.URL); got != tc.want {
			t.Errorf("canonicalURI(%q)=%q, want %q", tc.target, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", ""},
		{"tagKeys=a+b&tagKeys=c", "tagKeys=a%20b&tagKeys=c"},
		{"tagKeys=a%20b&tagKeys=c", "tagKeys=a%20b&tagKeys=c"},
		{"tagKeys=c&tagKeys=a%20b", "tagKeys=a%20b&tagKeys=c"},
		{"b=2&a=1&a-b=3", "a=1&a-b=3&b=2"},
		{"a", "a="},
		{"a=&&b=", "a=&b="},
		{"k=%2F%3a~", "k=%2F%3A~"},
		{"k=%E2%82%AC", "k=%E2%82%AC"},
		{"Action=ListUsers&Version=2010-05-08", "Action=ListUsers&Version=2010-05-08"},
	} {
		got, err := canonicalQuery(tc.raw)
		if err != nil {
			t.Errorf("canonicalQuery(%q): %v", tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("canonicalQuery(%q)=%q, want %q", tc.raw, got, tc.want)
		}
	}
	if _, err := canonicalQuery("a=%zz"); parley.ErrorCodeOf(err) != parley.IncompleteSignatureException {
		t.Errorf("canonicalQuery(bad escape) err=%v, want IncompleteSignatureException", err)
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := mustReadRequest(t, "POST / HTTP/1.1\r\n"+
		"Host: example.com:8080\r\n"+
		"Content-Length: 2\r\n"+
		"X-Multi: one\r\n"+
		"X-Multi:   two  \r\n"+
		"X-Space: a   b    c\r\n"+
		"\r\n{}")
	got := canonicalHeaders(r, []string{"content-length", "host", "x-absent", "x-multi", "x-space"})
	want := "content-length:2\nhost:example.com:8080\nx-absent:\nx-multi:one,two\nx-space:a b c\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canonicalHeaders (-want +got):\n%s", diff)
	}

	// A request built in a test has no Content-Length header.
	r, _ = http.NewRequest("POST", "http://h/", strings.NewReader("abc"))
	if got, want := canonicalHeaders(r, []string{"content-length"}), "content-length:3\n"; got != want {
		t.Errorf("canonicalHeaders=%q, want %q", got, want)
	}
}

func TestParseAuthorization(t *testing.T) {
	const good = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ivschat/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	want := &authorization{
		AccessKeyID: "AKID", Date: "20240101", Region: "us-east-1", Service: "ivschat",
		Terminal: "aws4_request", SignedHeaders: []string{"host", "x-amz-date"}, Signature: "abc",
	}
	for _, h := range []string{
		good,
		"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ivschat/aws4_request,SignedHeaders=host;x-amz-date,Signature=abc",
		"AWS4-HMAC-SHA256 Signature=abc, SignedHeaders=host;x-amz-date, Credential=AKID/20240101/us-east-1/ivschat/aws4_request",
	} {
		got, err := parseAuthorization(h)
		if err != nil {
			t.Fatalf("parseAuthorization(%q): %v", h, err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(authorization{})); diff != "" {
			t.Errorf("parseAuthorization(%q) (-want +got):\n%s", h, diff)
		}
	}
	if got := want.String(); got != good {
		t.Errorf("String()=%q, want %q", got, good)
	}

	for name, h := range map[string]string{
		"OtherAlgorithm":   strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1),
		"Bearer":           "Bearer abc",
		"NoCredential":     "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
		"NoSignedHeaders":  "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ivschat/aws4_request, Signature=abc",
		"NoSignature":      "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ivschat/aws4_request, SignedHeaders=host",
		"EmptySignature":   strings.Replace(good, "Signature=abc", "Signature=", 1),
		"ShortCredential":  strings.Replace(good, "/ivschat/aws4_request", "/ivschat", 1),
		"BadTerminal":      strings.Replace(good, "aws4_request", "aws4_xxx", 1),
		"BadDate":          strings.Replace(good, "20240101", "2024010", 1),
		"HostNotSigned":    strings.Replace(good, "host;x-amz-date", "x-amz-date", 1),
		"UpperCaseHeader":  strings.Replace(good, "host;x-amz-date", "host;X-Amz-Date", 1),
		"EmptyHeaderName":  strings.Replace(good, "host;x-amz-date", "host;;x-amz-date", 1),
		"RepeatedHeader":   strings.Replace(good, "host;x-amz-date", "host;host", 1),
		"RepeatedPart":     good + ", Signature=abc",
		"UnknownPart":      good + ", Foo=bar",
		"NotKeyValue":      good + ", Foo",
		"SlashInAccessKey": strings.Replace(good, "AKID/", "AK/ID/", 1),
	} {
		if _, err := parseAuthorization(h); parley.ErrorCodeOf(err) != parley.IncompleteSignatureException {
			t.Errorf("%s: parseAuthorization(%q) err=%v, want IncompleteSignatureException", name, h, err)
		}
	}
}

// TestSignatureAWSExample checks the worked example of the AWS SigV4
// documentation (IAM ListUsers), whose signature is published.
func TestSignatureAWSExample(t *testing.T) {
	r := mustReadRequest(t, "GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\n"+
		"Host: iam.amazonaws.com\r\n"+
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"+
		"X-Amz-Date: 20150830T123600Z\r\n"+
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, "+
		"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n\r\n")
	v := &Verifier{
		Credentials: NewKeyRing(Key{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}),
		Service:     "iam",
		Now:         fixedClock("20150830T123600Z"),
	}
	id, err := v.Verify(r, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id != "AKIDEXAMPLE" {
		t.Fatalf("access key id=%q, want AKIDEXAMPLE", id)
	}
}
