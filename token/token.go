// Package token seals chat tokens: the claims of a parley.ChatToken are
// encrypted and authenticated with AES-256-GCM and written in base64url
// without padding, which is a legal WebSocket subprotocol value, so that the
// browser SDK can offer the token in Sec-WebSocket-Protocol.
//
// A token is base64url(version ‖ nonce ‖ ciphertext ‖ tag): a version byte
// (also the additional authenticated data), a random 12-byte nonce, and the
// claims in a compact binary encoding (see encode.go). A sealed token with a
// 12-character id, an 11-character user id, a room ARN, one capability and
// no attributes is 194 characters long.
package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/parleychat/parley"
)

const (
	// KeySize is the size of a sealing key: AES-256.
	KeySize = 32

	version   = 1
	nonceSize = 12
	tagSize   = 16
	// maxTokenLen bounds the work Open does on garbage. Attributes are at
	// most 1 KB, so real tokens are far shorter.
	maxTokenLen = 8192
)

// encoding is base64url without padding, strict so that every token has a
// single spelling (unused low bits of the last character must be zero).
var encoding = base64.RawURLEncoding.Strict()

// Sealer seals and opens chat tokens. It is safe for concurrent use.
type Sealer struct {
	aeads []cipher.AEAD // aeads[0] seals; all open
}

// NewSealer returns a Sealer. Each key must be KeySize bytes. The first key
// seals new tokens; every key opens, so that a key can be rotated: put the
// new key first and keep the old one until its tokens have expired.
func NewSealer(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("new sealer: no key")
	}
	s := &Sealer{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("new sealer: key %d is %d bytes, want %d", i, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("new sealer: key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("new sealer: key %d: %w", i, err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal returns t sealed with the first key, as base64url without padding
// (only the characters A–Z a–z 0–9 - _).
func (s *Sealer) Seal(t *parley.ChatToken) (string, error) {
	if t == nil {
		return "", fmt.Errorf("seal token: nil token")
	}
	plain := encode(t)
	buf := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+tagSize)
	buf[0] = version
	nonce := buf[1 : 1+nonceSize]
	rand.Read(nonce) // never fails; panics if the system source breaks
	buf = s.aeads[0].Seal(buf, nonce, plain, buf[:1])
	return encoding.EncodeToString(buf), nil
}

// Open returns the claims of a token sealed with any of the keys. A
// malformed, forged or tampered token, or one sealed with an unknown key, is
// a *parley.Error coded parley.Unauthorized. Open does not check expiry: the
// caller compares ConnectDeadline with the time.
func (s *Sealer) Open(tok string) (*parley.ChatToken, error) {
	if len(tok) > maxTokenLen || len(tok) < encoding.EncodedLen(1+nonceSize+tagSize) {
		return nil, invalid()
	}
	for i := 0; i < len(tok); i++ {
		// The decoder skips \r and \n; a token must have one spelling.
		if tok[i] == '\r' || tok[i] == '\n' {
			return nil, invalid()
		}
	}
	buf := make([]byte, encoding.DecodedLen(len(tok)))
	n, err := encoding.Decode(buf, []byte(tok))
	if err != nil || buf[0] != version {
		return nil, invalid()
	}
	buf = buf[:n]
	ad, nonce, sealed := buf[:1], buf[1:1+nonceSize], buf[1+nonceSize:]
	for _, aead := range s.aeads {
		plain, err := aead.Open(nil, nonce, sealed, ad)
		if err != nil {
			continue
		}
		t, err := decode(plain)
		if err != nil {
			// Authentic but undecodable: only a bug in encode can do this.
			return nil, invalid()
		}
		return t, nil
	}
	return nil, invalid()
}

func invalid() *parley.Error {
	return parley.Errorf(parley.Unauthorized, "invalid chat token")
}
