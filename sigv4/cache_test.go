package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/parleychat/parley"
)

// TestVerifyKeyCache checks that a cached signing key is used only for the
// secret it was derived from: after a request verified, the same access key
// id with another secret, or another signature, still fails.
func TestVerifyKeyCache(t *testing.T) {
	s := mustSign(t, requests[1], testAKID, testSecret, nil)
	for range 2 { // the second time the key comes from the cache
		if _, err := testVerifier().Verify(mustReadRequest(t, s.raw), rawBody(s.raw)); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	rotated := testVerifier()
	rotated.Credentials = NewKeyRing(Key{AccessKeyID: testAKID, SecretAccessKey: testSecret + "2"})
	_, err := rotated.Verify(mustReadRequest(t, s.raw), rawBody(s.raw))
	if code := parley.ErrorCodeOf(err); code != parley.InvalidSignatureException {
		t.Fatalf("Verify with a rotated secret err=%v, want InvalidSignatureException", err)
	}
	forged := mustSign(t, requests[1], testAKID, "not-the-secret", nil)
	_, err = testVerifier().Verify(mustReadRequest(t, forged.raw), rawBody(forged.raw))
	if code := parley.ErrorCodeOf(err); code != parley.InvalidSignatureException {
		t.Fatalf("Verify of a forged signature err=%v, want InvalidSignatureException", err)
	}
}

// TestKeyCacheBound checks that the cache never holds more than
// maxCachedKeys keys.
func TestKeyCacheBound(t *testing.T) {
	var c keyCache
	for i := range 3 * maxCachedKeys {
		c.put(cacheKey{secret: "s", date: "20240102", region: fmt.Sprint("r", i), service: "ivschat"}, []byte{1})
		if len(c.m) > maxCachedKeys {
			t.Fatalf("after %d puts the cache holds %d keys, want at most %d", i+1, len(c.m), maxCachedKeys)
		}
	}
	if _, ok := c.get(cacheKey{secret: "s", date: "20240102", region: fmt.Sprint("r", 3*maxCachedKeys-1), service: "ivschat"}); !ok {
		t.Fatal("the last key put is not cached")
	}
}

// TestHMACSum compares hmacSum with crypto/hmac.
func TestHMACSum(t *testing.T) {
	for _, keyLen := range []int{0, 1, 32, 64} {
		for _, msgLen := range []int{0, 1, 63, 64, 65, 300} {
			key := []byte(strings.Repeat("k", keyLen))
			msg := []byte(strings.Repeat("m", msgLen))
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			want := m.Sum(nil)
			b := append(make([]byte, sha256.BlockSize), msg...)
			if got := hmacSum(b, key); !hmac.Equal(got[:], want) {
				t.Errorf("hmacSum(key %d bytes, msg %d bytes)=%x, want %x", keyLen, msgLen, got, want)
			}
		}
	}
}
