// Package sigv4 verifies AWS Signature Version 4 on control-plane requests,
// the way the official SDKs sign them for the ivschat service: header
// signatures ("Authorization: AWS4-HMAC-SHA256 …"), a double-encoded
// canonical URI, and a body hash the server computes itself.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

// Header names the verifier reads.
const (
	headerAuthorization = "Authorization"
	headerDate          = "X-Amz-Date"
	headerContentSHA256 = "X-Amz-Content-Sha256"

	// dateFormat is the ISO 8601 basic format of X-Amz-Date.
	dateFormat = "20060102T150405Z"
)

// Credentials finds the secret of an access key id.
type Credentials interface {
	// Secret returns the secret access key of accessKeyID, or an *parley.Error
	// coded UnrecognizedClientException when the key is unknown.
	Secret(ctx context.Context, accessKeyID string) (string, error)
}

// Verifier checks the SigV4 signature of control-plane requests.
type Verifier struct {
	// Credentials resolves access key ids. It is not used when Insecure.
	Credentials Credentials
	// Service is the signing name in the credential scope. Zero means
	// "ivschat".
	Service string
	// Window is how far X-Amz-Date may be from now, either way. Zero means
	// 15 minutes.
	Window time.Duration
	// Now returns the current time. Zero means time.Now.
	Now func() time.Time
	// Insecure accepts any well-formed signature from any key, at any date
	// (--insecure-dev-auth). The Authorization header and X-Amz-Date must
	// still be present and well formed.
	Insecure bool
}

// Messages of AWS's common authentication errors.
const (
	msgMissingToken = "Missing Authentication Token"
	msgUnknownKey   = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Verify checks the signature of r, whose body the caller has read into
// body, and returns the access key id that signed it. Errors are
// *parley.Error values coded:
//   - MissingAuthenticationTokenException: no Authorization header;
//   - IncompleteSignatureException: a malformed Authorization header, a
//     missing or malformed X-Amz-Date, host not signed;
//   - UnrecognizedClientException: an unknown access key id;
//   - InvalidSignatureException: a wrong signature, a wrong service in the
//     credential scope, a scope date that is not the X-Amz-Date day, an
//     X-Amz-Content-Sha256 that is not the body's hash, or an X-Amz-Date
//     outside the window ("Signature expired: …").
//
// Any other error comes from Credentials.
func (v *Verifier) Verify(r *http.Request, body []byte) (accessKeyID string, err error) {
	h := r.Header.Get(headerAuthorization)
	if h == "" {
		return "", parley.Errorf(parley.MissingAuthenticationTokenException, msgMissingToken)
	}
	auth, err := parseAuthorization(h)
	if err != nil {
		return "", err
	}
	date, err := v.checkDate(r, auth)
	if err != nil {
		return "", err
	}
	var sig [sha256.Size]byte
	if len(auth.Signature) != 2*sha256.Size || !decodeHex(sig[:], auth.Signature) {
		return "", parley.Errorf(parley.InvalidSignatureException, msgMismatch)
	}
	var payloadHash [2 * sha256.Size]byte
	if err := bodyHash(&payloadHash, r, body); err != nil {
		return "", err
	}
	if v.Insecure {
		return auth.AccessKeyID, nil
	}
	if v.Credentials == nil {
		return "", errors.New("sigv4: verifier has no credentials")
	}
	secret, err := v.Credentials.Secret(r.Context(), auth.AccessKeyID)
	if err != nil {
		return "", err
	}
	ok, err := signatureMatches(r, auth, secret, date, &payloadHash, &sig)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", parley.Errorf(parley.InvalidSignatureException, msgMismatch)
	}
	return auth.AccessKeyID, nil
}

// checkDate parses X-Amz-Date, checks that the scope is for the right
// service and day, and, unless Insecure, that the date is within the window.
// It returns X-Amz-Date as sent.
func (v *Verifier) checkDate(r *http.Request, auth *authorization) (string, error) {
	date := r.Header.Get(headerDate)
	if date == "" {
		return "", incomplete("Authorization header requires existence of a 'X-Amz-Date' header. Authorization=%s", r.Header.Get(headerAuthorization))
	}
	t, err := time.Parse(dateFormat, date)
	if err != nil {
		return "", incomplete("X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z', got %q", date)
	}
	if service := v.service(); auth.Service != service {
		return "", parley.Errorf(parley.InvalidSignatureException,
			"Credential should be scoped to correct service: '%s'.", service)
	}
	if auth.Date != date[:8] {
		return "", parley.Errorf(parley.InvalidSignatureException,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			auth.Date, date[:8], date)
	}
	if v.Insecure {
		return date, nil
	}
	return date, v.checkWindow(t)
}

// checkWindow refuses a request date more than Window away from now, with
// AWS's wording.
func (v *Verifier) checkWindow(t time.Time) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	w := v.Window
	if w == 0 {
		w = 15 * time.Minute
	}
	minutes := int(w / time.Minute)
	switch {
	case t.Before(n.Add(-w)):
		return parley.Errorf(parley.InvalidSignatureException,
			"Signature expired: %s is now earlier than %s (%s - %d min.)",
			t.Format(dateFormat), n.Add(-w).Format(dateFormat), n.Format(dateFormat), minutes)
	case t.After(n.Add(w)):
		return parley.Errorf(parley.InvalidSignatureException,
			"Signature not yet current: %s is still later than %s (%s + %d min.)",
			t.Format(dateFormat), n.Add(w).Format(dateFormat), n.Format(dateFormat), minutes)
	}
	return nil
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return "ivschat"
	}
	return v.Service
}

// bodyHash puts the hex SHA-256 of body into h. The SDKs do not send
// X-Amz-Content-Sha256 for ivschat; when a client does, it must be the same.
func bodyHash(h *[2 * sha256.Size]byte, r *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	hex.Encode(h[:], sum[:])
	if sent, ok := r.Header[headerContentSHA256]; ok && (len(sent) != 1 || sent[0] != string(h[:])) {
		return parley.Errorf(parley.InvalidSignatureException,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return nil
}

// signatureMatches computes the signature r should carry and reports
// whether it equals sig. A signing key that produced a matching signature is cached
// (see keyCache), so that the four HMACs of its derivation run once per key,
// day and region rather than once per request.
func signatureMatches(r *http.Request, auth *authorization, secret, date string, payloadHash *[sha256.Size * 2]byte, sig *[sha256.Size]byte) (bool, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return false, err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	// The buffer holds the HMAC's inner pad block, then the string to sign,
	// so that the inner hash is one Sum256 over it.
	b := append((*bp)[:0], make([]byte, sha256.BlockSize)...)
	b = appendCanonicalRequest(b, r, canonicalURI(r.URL), query, auth.SignedHeaders, payloadHash[:])
	creq := sha256.Sum256(b[sha256.BlockSize:])
	b = append(b[:sha256.BlockSize], algorithm+"\n"...)
	b = append(b, date...)
	b = append(b, '\n')
	b = auth.appendScope(b)
	b = append(b, '\n')
	b = hex.AppendEncode(b, creq[:])
	*bp = b

	ck := cacheKey{secret: secret, date: auth.Date, region: auth.Region, service: auth.Service}
	key, cached := keys.get(ck)
	if !cached {
		key = signingKey(secret, auth.Date, auth.Region, auth.Service)
	}
	want := hmacSum(b, key)
	if !hmac.Equal(want[:], sig[:]) {
		return false, nil
	}
	if !cached {
		keys.put(ck, key)
	}
	return true, nil
}

// decodeHex decodes the hex string s into dst, which is len(s)/2 long.
func decodeHex(dst []byte, s string) bool {
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// hmacSum returns HMAC-SHA256 of msg under key (at most one block long).
// The first sha256.BlockSize bytes of b are scratch space for the inner pad;
// the message follows them.
func hmacSum(b []byte, key []byte) [sha256.Size]byte {
	var pad [sha256.BlockSize]byte
	copy(pad[:], key)
	for i := range pad {
		b[i] = pad[i] ^ 0x36
	}
	inner := sha256.Sum256(b)
	var outer [sha256.BlockSize + sha256.Size]byte
	for i := range pad {
		outer[i] = pad[i] ^ 0x5c
	}
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

// bufPool holds the buffers that canonical requests are built in.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// signingKey derives the SigV4 signing key of a day, region and service.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// cacheKey names a derived signing key.
type cacheKey struct{ secret, date, region, service string }

// keyCache holds the signing keys that verified a signature. It is bounded:
// when full it is emptied, so that it never holds more than maxCachedKeys.
// Only keys that verified a request get in, so a client without the secret
// cannot fill it.
type keyCache struct {
	mu sync.RWMutex
	m  map[cacheKey][]byte
}

// maxCachedKeys bounds keyCache: a few keys, regions and days.
const maxCachedKeys = 256

var keys keyCache

func (c *keyCache) get(k cacheKey) ([]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	key, ok := c.m[k]
	return key, ok
}

func (c *keyCache) put(k cacheKey, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[cacheKey][]byte)
	}
	c.m[k] = key
}
