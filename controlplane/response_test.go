package controlplane

import (
	"encoding/json"
	"io"
	"testing"
)

// TestTokenResponseJSON checks that the hand-written encoding of the
// CreateChatToken response is what encoding/json writes.
func TestTokenResponseJSON(t *testing.T) {
	for _, r := range []tokenResponse{
		{},
		{Token: "AbC-_09", TokenExpirationTime: "2024-01-02T03:04:05Z", SessionExpirationTime: "2024-01-02T04:04:05.123Z"},
		{Token: "quote\" backslash\\ control\x01 unicode é \u2028"},
	} {
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); string(got) != string(want) {
			t.Errorf("appendJSON=%s, want %s", got, want)
		}
	}
}

// TestReadAll checks readAll with and without a known length.
func TestReadAll(t *testing.T) {
	body := make([]byte, 3000)
	for i := range body {
		body[i] = byte(i)
	}
	for _, length := range []int64{-1, 0, 10, 2999, 3000, 5000} {
		got, err := readAll(&chunkReader{b: body}, length)
		if err != nil || string(got) != string(body) {
			t.Errorf("readAll(length %d): %d bytes, %v; want the 3000-byte body", length, len(got), err)
		}
	}
}

// chunkReader returns at most 700 bytes per Read.
type chunkReader struct{ b []byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 700)], r.b)
	r.b = r.b[n:]
	return n, nil
}
