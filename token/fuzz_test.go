package token

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// FuzzOpen checks that Open never panics and refuses garbage with
// Unauthorized.
func FuzzOpen(f *testing.F) {
	s := mustSealer(f, mustKey(1))
	tok, _ := s.Seal(fullToken())
	f.Add(tok)
	f.Add(tok[:len(tok)-1])
	f.Add("")
	f.Add("AQICAH-not-a-token")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := s.Open(tok)
		if err != nil {
			if parley.ErrorCodeOf(err) != parley.Unauthorized {
				t.Fatalf("Open err=%v, want Unauthorized", err)
			}
			return
		}
		if got == nil {
			t.Fatal("Open returned nil and no error")
		}
	})
}

// FuzzDecode checks that the claims decoder never panics on any bytes and
// that what it accepts encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(encode(fullToken()))
	f.Add(encode(&parley.ChatToken{}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := decode(b)
		if err != nil {
			return
		}
		again, err := decode(encode(tok))
		if err != nil {
			t.Fatalf("decode(encode(decode(%x))): %v", b, err)
		}
		if diff := cmp.Diff(tok, again); diff != "" {
			t.Fatalf("re-encoding changed the claims (-first +second):\n%s", diff)
		}
	})
}
