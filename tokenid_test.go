package parley_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
)

func TestNewTokenID(t *testing.T) {
	const sorted = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		before := time.Now().UnixMilli()
		id := parley.NewTokenID()
		after := time.Now().UnixMilli()
		if len(id) != parley.TokenIDLength || strings.Trim(id, sorted) != "" {
			t.Fatalf("NewTokenID()=%q, want %d alphanumerics", id, parley.TokenIDLength)
		}
		if seen[id] {
			t.Fatalf("NewTokenID() repeated %q", id)
		}
		seen[id] = true
		var ms int64
		for _, c := range id[:8] {
			ms = ms*62 + int64(strings.IndexRune(sorted, c))
		}
		if ms < before || ms > after {
			t.Fatalf("NewTokenID()=%q holds time %d, want between %d and %d", id, ms, before, after)
		}
		if i > 0 && id[:8] < prev[:8] {
			t.Fatalf("NewTokenID()=%q sorts before the earlier %q", id, prev)
		}
		prev = id
	}
}
