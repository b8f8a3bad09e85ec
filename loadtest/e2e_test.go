package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testConfig is a small run against f: a few hundred connections for about
// two seconds.
func testConfig(f *fakeChat) Config {
	return Config{
		URL: f.srv.URL, AccessKey: "AKIDTEST", SecretKey: "secret", Region: "us-east-1",
		Conns: 300, Rooms: 3, Senders: 6, Rate: 300, Payload: 64,
		Duration: 2 * time.Second, Ramp: 0, DialConcurrency: 32, Window: 64,
		Settle: 200 * time.Millisecond, Drain: 5 * time.Second, RoomRate: 100, Sources: "127.0.0.2-127.0.0.20",
	}
}

func mustRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Connected != uint64(cfg.Conns) {
		t.Fatalf("connected=%d, want %d (failures %v)", res.Connected, cfg.Conns, res.ConnectFailures)
	}
	return res
}

func TestRunEndToEnd(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFakeChat(t)
		res := mustRun(t, testConfig(f))
		if res.Sent < 300 {
			t.Fatalf("sent=%d, want at least 300 (2 s at 300/s, allowing for start-up)", res.Sent)
		}
		// Every message reaches every connection of its room: 100 each.
		if want := res.Sent * 100; res.Expected != want || res.Delivered != want {
			t.Fatalf("expected=%d delivered=%d, want %d", res.Expected, res.Delivered, want)
		}
		if res.Lost != 0 || res.Duplicated != 0 || len(res.Failures) != 0 {
			t.Fatalf("lost=%d duplicated=%d failures=%v, want none", res.Lost, res.Duplicated, res.Failures)
		}
		if !res.DrainComplete || res.Latency.Count != res.Delivered || res.Latency.P99Ms <= 0 {
			t.Fatalf("drainComplete=%v latency=%+v", res.DrainComplete, res.Latency)
		}
		if got := f.deleted.Load(); got != 3 {
			t.Fatalf("rooms deleted=%d, want 3", got)
		}
		if f.badSigs.Load() != 0 {
			t.Fatalf("%d control-plane requests were not signed for ivschat", f.badSigs.Load())
		}
	})
	t.Run("ErrLoss", func(t *testing.T) {
		f := newFakeChat(t)
		f.DropEvery = 7
		cfg := testConfig(f)
		cfg.Drain = time.Second
		res := mustRun(t, cfg)
		want := uint64(f.msgs.Load() / 7)
		if res.Lost != want || res.LossyReceivers != 3 {
			t.Fatalf("lost=%d at %d connections, want %d at one connection per room; %v", res.Lost, res.LossyReceivers, want, res.LossSamples)
		}
		if len(res.Failures) == 0 || len(res.LossSamples) == 0 {
			t.Fatalf("failures=%v samples=%v, want the loss reported", res.Failures, res.LossSamples)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		f := newFakeChat(t)
		f.DupEvery = 5
		res := mustRun(t, testConfig(f))
		if want := uint64(f.msgs.Load() / 5); res.Duplicated != want || res.Lost != 0 {
			t.Fatalf("duplicated=%d lost=%d, want %d and 0", res.Duplicated, res.Lost, want)
		}
		if len(res.Failures) == 0 {
			t.Fatal("no failure reported for duplicates")
		}
	})
	t.Run("ThrottledControlPlane", func(t *testing.T) {
		f := newFakeChat(t)
		f.ThrottleEvery = 4
		res := mustRun(t, testConfig(f))
		if res.ControlPlaneRetries < 75 || len(res.Failures) != 0 {
			t.Fatalf("retries=%d failures=%v, want about a quarter of 306 calls retried and a clean run", res.ControlPlaneRetries, res.Failures)
		}
	})
	t.Run("RejectedNotLost", func(t *testing.T) {
		f := newFakeChat(t)
		f.RejectEvery = 10
		cfg := testConfig(f)
		cfg.ExpectErrors = []int{429}
		res := mustRun(t, cfg)
		want := uint64(f.msgs.Load() / 10)
		if res.Rejected != want || res.Errors["429"] != int(want) {
			t.Fatalf("rejected=%d errors=%v, want %d", res.Rejected, res.Errors, want)
		}
		if res.Lost != 0 || len(res.Failures) != 0 || res.Expected != (res.Sent-res.Rejected)*100 {
			t.Fatalf("lost=%d expected=%d failures=%v samples=%v", res.Lost, res.Expected, res.Failures, res.LossSamples)
		}
	})
}

// TestMainJSON runs the whole command, flags to JSON, against the fake, and
// checks that -fail-on-loss turns a loss into an error.
func TestMainJSON(t *testing.T) {
	f := newFakeChat(t)
	args := []string{"-url", f.srv.URL, "-access-key", "AK", "-secret-key", "SK",
		"-conns", "60", "-rooms", "2", "-senders", "4", "-rate", "80", "-duration", "1s",
		"-ramp", "0", "-settle", "200ms", "-json", "-quiet", "-report", t.TempDir() + "/r.html"}
	var out, errOut bytes.Buffer
	if err := Main(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("Main: %v\n%s", err, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode -json output: %v", err)
	}
	got := [3]uint64{res.Connected, res.Lost, res.Duplicated}
	if diff := cmp.Diff([3]uint64{60, 0, 0}, got); diff != "" || res.Delivered != res.Sent*30 {
		t.Fatalf("connected/lost/duplicated (-want +got):\n%s delivered=%d sent=%d", diff, res.Delivered, res.Sent)
	}

	f.DropEvery = 3
	out.Reset()
	err := Main(context.Background(), append(args[:len(args)-2], "-drain", "300ms"), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("Main with a lossy server: err=%v, want a loss error", err)
	}
	if !strings.Contains(out.String(), `"lost"`) {
		t.Fatalf("no JSON result on a failed run:\n%s", out.String())
	}
}
