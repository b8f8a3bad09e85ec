package sigv4

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

// algorithm is the only signing algorithm Parley accepts.
const algorithm = "AWS4-HMAC-SHA256"

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	AccessKeyID string
	Date        string // yyyymmdd of the credential scope
	Region      string
	Service     string
	Terminal    string // "aws4_request"
	// SignedHeaders are the lower-case header names, in the order sent.
	SignedHeaders []string
	Signature     string
}

// scope returns the credential scope, "<date>/<region>/<service>/aws4_request".
func (a *authorization) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminal
}

// appendScope appends the credential scope.
func (a *authorization) appendScope(b []byte) []byte {
	b = append(b, a.Date...)
	b = append(b, '/')
	b = append(b, a.Region...)
	b = append(b, '/')
	b = append(b, a.Service...)
	b = append(b, '/')
	return append(b, a.Terminal...)
}

// String writes a back as an Authorization header value.
func (a *authorization) String() string {
	return algorithm + " Credential=" + a.AccessKeyID + "/" + a.scope() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + a.Signature
}

// incomplete returns an IncompleteSignatureException.
func incomplete(format string, args ...any) *parley.Error {
	return parley.Errorf(parley.IncompleteSignatureException, format, args...)
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". Components may come in any order, separated by commas and
// optional spaces. Every failure is an IncompleteSignatureException.
func parseAuthorization(h string) (*authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return nil, incomplete("Authorization header requires the %s algorithm. Authorization=%s", algorithm, h)
	}
	var cred, signed, sig string
	var seenCred, seenSigned, seenSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete("Authorization header component %q is not a key=value pair. Authorization=%s", part, h)
		}
		var seen *bool
		switch k {
		case "Credential":
			cred, seen = v, &seenCred
		case "SignedHeaders":
			signed, seen = v, &seenSigned
		case "Signature":
			sig, seen = v, &seenSig
		default:
			return nil, incomplete("Authorization header has an unknown component %q. Authorization=%s", k, h)
		}
		if *seen {
			return nil, incomplete("Authorization header repeats the %q component. Authorization=%s", k, h)
		}
		*seen = true
	}
	if msg := missingComponents(cred, signed, sig); msg != "" {
		return nil, incomplete("%sAuthorization=%s", msg, h)
	}
	a := &authorization{Signature: sig}
	if err := a.parseCredential(cred); err != nil {
		return nil, err
	}
	if err := a.parseSignedHeaders(signed); err != nil {
		return nil, err
	}
	return a, nil
}

// missingComponents names the empty components the way AWS does.
func missingComponents(cred, signed, sig string) string {
	var b strings.Builder
	for _, c := range []struct{ name, v string }{
		{"Credential", cred}, {"Signature", sig}, {"SignedHeaders", signed},
	} {
		if c.v == "" {
			b.WriteString("Authorization header requires '" + c.name + "' parameter. ")
		}
	}
	return b.String()
}

// parseCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func (a *authorization) parseCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || !validAccessKeyID(parts[0]) || !isDate(parts[1]) ||
		!isScopeToken(parts[2]) || !isScopeToken(parts[3]) || parts[4] != "aws4_request" {
		return incomplete("Credential should be <access key id>/<yyyymmdd>/<region>/<service>/aws4_request, got %q", cred)
	}
	a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminal = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

// parseSignedHeaders parses "host;x-amz-date". Names must be lower case,
// legal header names and not repeated; host must be among them.
func (a *authorization) parseSignedHeaders(s string) error {
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if !isLowerToken(n) {
			return incomplete("SignedHeaders holds an invalid header name %q", n)
		}
		for _, m := range names[:i] {
			if m == n {
				return incomplete("SignedHeaders repeats %q", n)
			}
		}
		host = host || n == "host"
	}
	if !host {
		return incomplete("The host header must be signed. SignedHeaders=%s", s)
	}
	a.SignedHeaders = names
	return nil
}

// validAccessKeyID reports whether id can be an access key id: 1–128 word
// characters, dots or dashes.
func validAccessKeyID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isDate reports whether s is eight digits.
func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// isScopeToken reports whether s is a non-empty region or service name.
func isScopeToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' && s[i] != '_' {
			return false
		}
	}
	return true
}

// isLowerToken reports whether s is a lower-case HTTP header name.
func isLowerToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// canonicalURI double-encodes the escaped path as the SDKs do for every
// service but S3: the path as sent ("/tags/arn%3Aaws…") is escaped again, so
// "%3A" becomes "%253A". Slashes stay as they are.
func canonicalURI(u *url.URL) string {
	p := u.RawPath
	if p == "" {
		p = u.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery decodes the raw query ("+" is a space) and re-encodes each
// name and value with RFC 3986 escaping, sorted by encoded name then value.
// A malformed escape is an IncompleteSignatureException.
func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	var pairs [][2]string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", incomplete("The query string holds a malformed escape: %q", part)
		}
		pairs = append(pairs, [2]string{uriEncode(dk, true), uriEncode(dv, true)})
	}
	// Sort after encoding, by name then value: sorting "name=value" strings
	// would misplace "a-b" before "a" since '-' sorts below '='.
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(p[1])
	}
	return b.String(), nil
}

// uriEncode escapes every byte outside A–Z a–z 0–9 - . _ ~ as %XX with upper
// hex digits; "/" too when encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (encodeSlash || s[i] != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalHeaders returns "name:value\n" for every signed header; see
// appendCanonicalHeaders.
func canonicalHeaders(r *http.Request, names []string) string {
	return string(appendCanonicalHeaders(nil, r, names))
}

// appendCanonicalHeaders appends "name:value\n" for every signed header, in
// the order of the SignedHeaders list. Values come from the raw request:
// host from r.Host, content-length from r.ContentLength when the header map
// lacks it, repeated headers joined with ",", each value trimmed with inner
// runs of spaces collapsed. A signed header that is absent has an empty
// value (and so fails the signature).
func appendCanonicalHeaders(b []byte, r *http.Request, names []string) []byte {
	var kb [64]byte
	for _, n := range names {
		b = append(b, n...)
		b = append(b, ':')
		switch vs := headerValues(r.Header, n, &kb); {
		case n == "host":
			b = appendTrimmed(b, requestHost(r))
		case len(vs) == 0 && n == "content-length" && r.ContentLength >= 0:
			b = strconv.AppendInt(b, r.ContentLength, 10)
		default:
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendTrimmed(b, v)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// headerValues returns h[http.CanonicalHeaderKey(name)] for a lower-case
// header name, canonicalizing in kb to avoid allocating a key.
func headerValues(h http.Header, name string, kb *[64]byte) []string {
	if len(name) > len(kb) {
		return h[http.CanonicalHeaderKey(name)]
	}
	k := kb[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		k[i] = c
		upper = c == '-'
	}
	return h[string(k)]
}

// requestHost is the Host header as received: Go's server moves it to r.Host.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if h := r.Header.Get("Host"); h != "" {
		return h
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}

// appendTrimmed appends v with surrounding white space trimmed and inner
// runs of spaces collapsed to one, as the SigV4 signers do.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return b
}

// appendCanonicalRequest appends the canonical request of SigV4.
func appendCanonicalRequest(b []byte, r *http.Request, uri, query string, signed []string, payloadHash []byte) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, uri...)
	b = append(b, '\n')
	b = append(b, query...)
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, r, signed)
	b = append(b, '\n')
	for i, n := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, n...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}
