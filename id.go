package parley

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// IDLength is the length of every IVS Chat ID: rooms, logging
// configurations, messages, events and operations.
const IDLength = 12

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a fresh random 12-character alphanumeric ID (71 bits).
func NewID() string {
	var b [IDLength]byte
	fillID(b[:])
	return string(b[:])
}

func fillID(b []byte) {
	// 62 does not divide 256: reject bytes ≥ 248 (4×62) to stay uniform.
	var buf [32]byte
	i := 0
	for i < len(b) {
		rand.Read(buf[:])
		for _, c := range buf {
			if c >= 248 {
				continue
			}
			b[i] = idAlphabet[c%62]
			i++
			if i == len(b) {
				return
			}
		}
	}
}

// TokenIDLength is the length of the IDs NewTokenID returns.
const TokenIDLength = 24

// sortedAlphabet is the 62 alphanumerics in ASCII order, so that
// fixed-width numbers written in it sort as the numbers do.
const sortedAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewTokenID returns a fresh chat-token ID: the time in Unix milliseconds as
// 8 characters that sort as the times do, then 16 random alphanumerics (95
// bits). Tokens are used soon after they are made, so a store that records
// used tokens by ID inserts near one end of its index instead of all over it.
// The ID is sealed inside the token: clients never see it.
func NewTokenID() string {
	var b [TokenIDLength]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 7; i >= 0; i-- {
		b[i] = sortedAlphabet[ms%62]
		ms /= 62
	}
	fillID(b[8:])
	return string(b[:])
}

// ValidID reports whether s has the form of an IVS ID: exactly 12 characters
// from [a-zA-Z0-9].
func ValidID(s string) bool {
	if len(s) != IDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Resource types that appear in ARNs.
const (
	ResourceRoom                 = "room"
	ResourceLoggingConfiguration = "logging-configuration"
)

// ARN is a parsed ivschat ARN: arn:aws:ivschat:<region>:<account>:<type>/<id>.
type ARN struct {
	Region    string
	AccountID string
	Resource  string // ResourceRoom or ResourceLoggingConfiguration
	ID        string
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:aws:ivschat:" + a.Region + ":" + a.AccountID + ":" + a.Resource + "/" + a.ID
}

// ParseARN parses an ivschat ARN. It checks the shape of every part, but not
// that the region and account are Parley's own.
func ParseARN(s string) (ARN, error) {
	const prefix = "arn:aws:ivschat:"
	if !strings.HasPrefix(s, prefix) {
		return ARN{}, fmt.Errorf("not an ivschat ARN: %q", s)
	}
	parts := strings.SplitN(s[len(prefix):], ":", 3)
	if len(parts) != 3 {
		return ARN{}, fmt.Errorf("malformed ARN: %q", s)
	}
	region, account, rest := parts[0], parts[1], parts[2]
	typ, id, ok := strings.Cut(rest, "/")
	if !ok || region == "" || account == "" || id == "" {
		return ARN{}, fmt.Errorf("malformed ARN: %q", s)
	}
	if !onlyChars(region, "abcdefghijklmnopqrstuvwxyz0123456789-") || !onlyChars(account, "0123456789") {
		return ARN{}, fmt.Errorf("malformed ARN: %q", s)
	}
	if typ != ResourceRoom && typ != ResourceLoggingConfiguration {
		return ARN{}, fmt.Errorf("unknown resource type in ARN: %q", s)
	}
	if !onlyChars(id, idAlphabet+"-") {
		return ARN{}, fmt.Errorf("malformed resource id in ARN: %q", s)
	}
	return ARN{Region: region, AccountID: account, Resource: typ, ID: id}, nil
}

func onlyChars(s, set string) bool {
	for _, r := range s {
		if !strings.ContainsRune(set, r) {
			return false
		}
	}
	return true
}
