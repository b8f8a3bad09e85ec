package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRunTokens(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFakeChat(t)
		cfg := testConfig(f)
		cfg.Duration = 300 * time.Millisecond
		res, err := RunTokens(context.Background(), cfg)
		if err != nil {
			t.Fatalf("RunTokens: %v", err)
		}
		// Every request but the room creations and deletions was a token.
		if got, want := int64(res.Tokens), f.requests.Load()-int64(cfg.Rooms)*2; res.Tokens == 0 || got != want {
			t.Fatalf("tokens=%d, want %d (the server's CreateChatToken count)", got, want)
		}
		if len(res.Failures) != 0 || res.Latency.Count != res.Tokens || res.TokensPerSecond <= 0 {
			t.Fatalf("failures=%v latency=%+v tokens/s=%v", res.Failures, res.Latency, res.TokensPerSecond)
		}
		if f.deleted.Load() != int64(cfg.Rooms) || f.badSigs.Load() != 0 {
			t.Fatalf("deleted=%d badSigs=%d, want %d and 0", f.deleted.Load(), f.badSigs.Load(), cfg.Rooms)
		}
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		f := newFakeChat(t)
		f.ThrottleEvery = 3 // the room creation is retried when throttled
		cfg := testConfig(f)
		cfg.Duration = 200 * time.Millisecond
		cfg.Rooms = 1
		res, err := RunTokens(context.Background(), cfg)
		if err != nil {
			t.Fatalf("RunTokens: %v", err)
		}
		if res.Failures["ThrottlingException"] == 0 {
			t.Fatalf("failures=%v, want ThrottlingException counted", res.Failures)
		}
	})
}

func TestMainTokensOnly(t *testing.T) {
	f := newFakeChat(t)
	var out, errOut bytes.Buffer
	args := []string{"-url", f.srv.URL, "-access-key", "AKIDTEST", "-secret-key", "secret",
		"-tokens-only", "-rooms", "2", "-conns", "2", "-senders", "1", "-duration", "200ms", "-json"}
	if err := Main(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("Main: %v (stderr %s)", err, errOut.String())
	}
	var res TokenResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res.Tokens == 0 || res.Rooms != 2 {
		t.Fatalf("result %+v, want tokens in 2 rooms", res)
	}
	out.Reset()
	WriteTokenTable(&out, &res)
	if !strings.Contains(out.String(), "tokens/s") {
		t.Fatalf("table %q lacks tokens/s", out.String())
	}
}
