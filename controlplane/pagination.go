package controlplane

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/parleychat/parley"
)

// A pagination token is base64url(updateTime unix nanoseconds (8 bytes) ‖
// filter hash (8 bytes) ‖ id ‖ HMAC-SHA256 of all that, cut to 16 bytes).
// The filter hash ties a token to the list and filters it was issued for.
const (
	tokenHeader = 16
	tokenMAC    = 16
)

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// filterHash hashes the list name and its filters.
func filterHash(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)[:8]
}

func (s *Server) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write(b)
	return m.Sum(nil)[:tokenMAC]
}

// encodeCursor returns the token for the page after c.
func (s *Server) encodeCursor(c parley.Cursor, filter []byte) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(c.UpdateTime.UnixNano()))
	b = append(b, filter...)
	b = append(b, c.ID...)
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor checks a token issued for filter. The empty token means the
// first page (nil cursor).
func (s *Server) decodeCursor(token string, filter []byte) (*parley.Cursor, error) {
	if token == "" {
		return nil, nil
	}
	bad := parley.FieldErrorf("nextToken", "is not a valid pagination token for this request")
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < tokenHeader+tokenMAC {
		return nil, bad
	}
	payload, sum := b[:len(b)-tokenMAC], b[len(b)-tokenMAC:]
	if !hmac.Equal(sum, s.mac(payload)) || !hmac.Equal(payload[8:16], filter) {
		return nil, bad
	}
	t := time.Unix(0, int64(binary.BigEndian.Uint64(payload[:8]))).UTC()
	return &parley.Cursor{UpdateTime: t, ID: string(payload[tokenHeader:])}, nil
}

// page cuts items fetched with limit max+1 to max and returns the next
// token when there were more.
func page[T any](s *Server, items []T, max int, filter []byte, cursor func(T) parley.Cursor) ([]T, *string) {
	if len(items) <= max {
		return items, nil
	}
	items = items[:max]
	tok := s.encodeCursor(cursor(items[max-1]), filter)
	return items, &tok
}
