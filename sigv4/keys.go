package sigv4

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleychat/parley"
)

// operations are the names of the 17 operations of the ivschat model, which
// the actions of a Key select.
var operations = []string{
	"CreateChatToken", "CreateLoggingConfiguration", "CreateRoom",
	"DeleteLoggingConfiguration", "DeleteMessage", "DeleteRoom",
	"DisconnectUser", "GetLoggingConfiguration", "GetRoom",
	"ListLoggingConfigurations", "ListRooms", "ListTagsForResource",
	"SendEvent", "TagResource", "UntagResource",
	"UpdateLoggingConfiguration", "UpdateRoom",
}

// Key is an access key pair and the actions it may call.
type Key struct {
	AccessKeyID     string
	SecretAccessKey string
	// Actions are IAM-style action patterns: "ivschat:CreateRoom",
	// "ivschat:Get*", "ivschat:*" or "*". "*" and "?" are wildcards and the
	// match ignores case, as in IAM. An empty list allows every action.
	Actions []string
}

// KeyRing is a fixed set of keys. It implements Credentials and is safe for
// concurrent use.
type KeyRing struct {
	keys map[string]Key
}

var _ Credentials = (*KeyRing)(nil)

// NewKeyRing returns a ring of keys. When two keys share an access key id,
// the later one wins.
func NewKeyRing(keys ...Key) *KeyRing {
	r := &KeyRing{keys: make(map[string]Key, len(keys))}
	for _, k := range keys {
		r.keys[k.AccessKeyID] = k
	}
	return r
}

// Secret returns the secret of accessKeyID, or UnrecognizedClientException.
func (r *KeyRing) Secret(_ context.Context, accessKeyID string) (string, error) {
	k, ok := r.keys[accessKeyID]
	if !ok {
		return "", parley.Errorf(parley.UnrecognizedClientException, msgUnknownKey)
	}
	return k.SecretAccessKey, nil
}

// Allowed reports whether accessKeyID may call operation, given as
// "CreateRoom" or "ivschat:CreateRoom". Unknown keys are allowed nothing.
func (r *KeyRing) Allowed(accessKeyID, operation string) bool {
	k, ok := r.keys[accessKeyID]
	if !ok {
		return false
	}
	if len(k.Actions) == 0 {
		return true
	}
	action := operation
	if !strings.Contains(action, ":") {
		action = "ivschat:" + action
	}
	for _, pattern := range k.Actions {
		if matchAction(pattern, action) {
			return true
		}
	}
	return false
}

// matchAction matches an IAM action pattern against an action, ignoring
// case: "*" matches any run of characters, "?" any one character.
func matchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	pi, ai := 0, 0
	star, mark := -1, 0 // position of the last "*" and where it began to match
	for ai < len(a) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == a[ai]):
			pi++
			ai++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ai
			pi++
		case star >= 0:
			mark++
			pi, ai = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// keyFile is the JSON layout of a credentials file.
type keyFile struct {
	Keys []struct {
		AccessKeyID     string   `json:"accessKeyId"`
		SecretAccessKey string   `json:"secretAccessKey"`
		Actions         []string `json:"actions"`
	} `json:"keys"`
}

// LoadKeyFile reads a credentials file:
//
//	{"keys":[{"accessKeyId":"…","secretAccessKey":"…","actions":["ivschat:*"]}]}
//
// Unknown members, a file without keys, a repeated access key id, an empty
// secret and an action that matches no ivschat operation are errors.
func LoadKeyFile(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key file: %w", err)
	}
	keys, err := ParseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("load key file %s: %w", path, err)
	}
	return keys, nil
}

// ParseKeyFile parses the contents of a credentials file (see LoadKeyFile).
func ParseKeyFile(b []byte) ([]Key, error) {
	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode: data after the top-level object")
	}
	if len(f.Keys) == 0 {
		return nil, errors.New(`no keys: want {"keys":[{"accessKeyId":…,"secretAccessKey":…}]}`)
	}
	keys := make([]Key, 0, len(f.Keys))
	seen := make(map[string]bool)
	for i, fk := range f.Keys {
		k := Key{AccessKeyID: fk.AccessKeyID, SecretAccessKey: fk.SecretAccessKey, Actions: fk.Actions}
		if err := validateKey(k); err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if seen[k.AccessKeyID] {
			return nil, fmt.Errorf("keys[%d]: accessKeyId %q is repeated", i, k.AccessKeyID)
		}
		seen[k.AccessKeyID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// validateKey checks one key of a credentials file.
func validateKey(k Key) error {
	if !validAccessKeyID(k.AccessKeyID) {
		return fmt.Errorf("accessKeyId %q must be 1–128 letters, digits, '_', '-' or '.'", k.AccessKeyID)
	}
	if k.SecretAccessKey == "" {
		return fmt.Errorf("key %s: secretAccessKey is empty", k.AccessKeyID)
	}
	for _, a := range k.Actions {
		if !matchesSomeOperation(a) {
			return fmt.Errorf("key %s: action %q matches no ivschat operation (want \"ivschat:CreateRoom\", \"ivschat:Get*\", \"ivschat:*\" or \"*\")", k.AccessKeyID, a)
		}
	}
	return nil
}

func matchesSomeOperation(pattern string) bool {
	for _, op := range operations {
		if matchAction(pattern, "ivschat:"+op) {
			return true
		}
	}
	return false
}

// GenerateKey returns a new key pair allowed every action: an access key id
// of "PK" and 18 upper-case letters and digits (20 characters, like AWS's),
// and a 40-character secret of letters and digits, both from crypto/rand.
func GenerateKey() Key {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const mixed = upper + "abcdefghijklmnopqrstuvwxyz"
	return Key{
		AccessKeyID:     "PK" + randomString(upper, 18),
		SecretAccessKey: randomString(mixed, 40),
	}
}

// randomString draws n characters uniformly from alphabet (at most 256
// characters), rejecting the bytes that would bias the draw.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf) // never fails; panics if the system source breaks
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
