package token

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// mustKey returns a key filled with b.
func mustKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustSealer(tb testing.TB, keys ...[]byte) *Sealer {
	tb.Helper()
	s, err := NewSealer(keys...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// fullToken sets every field, with times that carry nanoseconds and a
// non-UTC location.
func fullToken() *parley.ChatToken {
	loc := time.FixedZone("X", 5*3600)
	return &parley.ChatToken{
		ID:      "AbCdEf123456",
		RoomID:  "g1H2I3j4k5L6",
		RoomARN: "arn:aws:ivschat:us-east-1:123456789012:room/g1H2I3j4k5L6",
		UserID:  "user-ü-42",
		Capabilities: []parley.Capability{
			parley.CapabilityDeleteMessage, parley.CapabilitySendMessage,
			parley.CapabilityDisconnectUser, "SOMETHING_NEW",
		},
		Attributes:      map[string]string{"displayName": "Ada", "": "empty key", "b": ""},
		ConnectDeadline: time.Date(2024, 1, 2, 3, 4, 5, 123456789, loc),
		SessionExpiry:   time.Date(2024, 1, 2, 6, 4, 5, 1, time.UTC),
	}
}

func TestSealOpen(t *testing.T) {
	s := mustSealer(t, mustKey(1))
	for name, tok := range map[string]*parley.ChatToken{
		"Full":  fullToken(),
		"Empty": {},
		"Plain": {ID: "a", RoomID: "b", RoomARN: "c", UserID: "d",
			ConnectDeadline: time.Unix(1700000000, 0), SessionExpiry: time.Unix(-5, 999999999)},
	} {
		t.Run(name, func(t *testing.T) {
			sealed, err := s.Seal(tok)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Open(sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			// Times round-trip to the nanosecond, in UTC.
			if diff := cmp.Diff(tok, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			for _, tm := range []time.Time{got.ConnectDeadline, got.SessionExpiry} {
				if tm.Location() != time.UTC {
					t.Errorf("time %v is not in UTC", tm)
				}
			}
		})
	}
}

func TestSealAlphabet(t *testing.T) {
	s := mustSealer(t, mustKey(1))
	legal := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	seen := make(map[string]bool)
	for range 200 {
		tok, err := s.Seal(fullToken())
		if err != nil {
			t.Fatal(err)
		}
		if !legal.MatchString(tok) {
			t.Fatalf("token %q has characters outside [A-Za-z0-9_-]", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q sealed twice: nonces repeat", tok)
		}
		seen[tok] = true
	}
	tok, _ := s.Seal(&parley.ChatToken{ID: "AbCdEf123456", RoomID: "g1H2I3j4k5L6",
		RoomARN: "arn:aws:ivschat:us-east-1:123456789012:room/g1H2I3j4k5L6", UserID: "user-123456",
		Capabilities:    []parley.Capability{parley.CapabilitySendMessage},
		ConnectDeadline: time.Now(), SessionExpiry: time.Now()})
	t.Logf("typical token: %d characters", len(tok))
	if len(tok) > 200 {
		t.Errorf("typical token is %d characters, want at most 200", len(tok))
	}
}

func TestOpenTampered(t *testing.T) {
	s := mustSealer(t, mustKey(1))
	tok, err := s.Seal(fullToken())
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range tok {
		// Every other character in every position.
		for _, c := range []byte(alphabet) {
			if c == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := s.Open(bad); parley.ErrorCodeOf(err) != parley.Unauthorized {
				t.Fatalf("Open(token with [%d]=%q) err=%v, want Unauthorized", i, c, err)
			}
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for name, bad := range map[string]string{
		"Empty":        "",
		"Truncated":    tok[:len(tok)-1],
		"Shortened":    tok[:len(tok)-4],
		"Extended":     tok + "A",
		"Padded":       tok + "==",
		"StdAlphabet":  strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/",
		"Newline":      tok[:10] + "\n" + tok[10:],
		"Space":        tok + " ",
		"OtherVersion": base64.RawURLEncoding.EncodeToString(append([]byte{2}, raw[1:]...)),
		"Huge":         strings.Repeat("A", 100000),
		"HeaderOnly":   tok[:39],
	} {
		if _, err := s.Open(bad); parley.ErrorCodeOf(err) != parley.Unauthorized {
			t.Errorf("%s: Open err=%v, want Unauthorized", name, err)
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	tok, err := mustSealer(t, mustKey(1)).Seal(fullToken())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustSealer(t, mustKey(2)).Open(tok); parley.ErrorCodeOf(err) != parley.Unauthorized {
		t.Fatalf("Open with another key: err=%v, want Unauthorized", err)
	}
}

func TestRotation(t *testing.T) {
	old := mustSealer(t, mustKey(1))
	oldTok, _ := old.Seal(fullToken())
	rotated := mustSealer(t, mustKey(2), mustKey(1))
	if _, err := rotated.Open(oldTok); err != nil {
		t.Fatalf("rotated sealer cannot open an old token: %v", err)
	}
	newTok, _ := rotated.Seal(fullToken())
	if _, err := mustSealer(t, mustKey(2)).Open(newTok); err != nil {
		t.Fatalf("new key cannot open a token sealed after rotation: %v", err)
	}
	if _, err := old.Open(newTok); err == nil {
		t.Fatal("the old key opened a token sealed with the new one")
	}
}

func TestNewSealerErrors(t *testing.T) {
	for name, keys := range map[string][][]byte{
		"NoKey":       nil,
		"Short":       {make([]byte, 16)},
		"SecondWrong": {mustKey(1), make([]byte, 33)},
	} {
		if _, err := NewSealer(keys...); err == nil {
			t.Errorf("%s: NewSealer succeeded", name)
		}
	}
	if _, err := mustSealer(t, mustKey(1)).Seal(nil); err == nil {
		t.Error("Seal(nil) succeeded")
	}
}

// TestConcurrent seals and opens from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	s := mustSealer(t, mustKey(1), mustKey(2))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				tok, err := s.Seal(fullToken())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Open(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "token.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize || bytes.Equal(k1, make([]byte, KeySize)) {
		t.Fatalf("key=%x, want %d random bytes", k1, KeySize)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode=%v, want 0600", mode)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load=%x, %v, want the same key %x", k2, err, k1)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key (no temporary files)", len(entries))
	}

	t.Run("ErrWrongSize", func(t *testing.T) {
		p := filepath.Join(dir, "short.key")
		os.WriteFile(p, []byte("short"), 0o600)
		if _, err := LoadOrCreateKey(p); err == nil || !strings.Contains(err.Error(), "5 bytes") {
			t.Fatalf("err=%v, want a size error", err)
		}
	})
	t.Run("Race", func(t *testing.T) {
		p := filepath.Join(dir, "race.key")
		keys := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := LoadOrCreateKey(p)
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for _, k := range keys[1:] {
			if !bytes.Equal(k, keys[0]) {
				t.Fatalf("racing callers got different keys")
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	s := mustSealer(b, mustKey(1))
	tok := fullToken()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, keys := range []int{1, 3} {
		b.Run("keys="+string(rune('0'+keys)), func(b *testing.B) {
			ks := [][]byte{mustKey(1), mustKey(2), mustKey(3)}[:keys]
			tok, _ := mustSealer(b, ks[len(ks)-1]).Seal(fullToken()) // sealed with the last key tried
			s := mustSealer(b, ks...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Open(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDeriveKey(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	if !bytes.Equal(DeriveKey(a, "x"), DeriveKey(a, "x")) {
		t.Fatal("DeriveKey is not deterministic")
	}
	for _, other := range [][]byte{DeriveKey(a, "y"), DeriveKey(b, "x"), a} {
		if bytes.Equal(DeriveKey(a, "x"), other) {
			t.Fatalf("DeriveKey(a, x) = %x, equal to a key of another purpose or key", other)
		}
	}
	if n := len(DeriveKey(a, "x")); n != 32 {
		t.Fatalf("len=%d, want 32", n)
	}
}
