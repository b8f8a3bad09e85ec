package loadtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("PARLEY_ACCESS_KEY_ID", "")
	t.Setenv("PARLEY_SECRET_ACCESS_KEY", "")
	t.Run("OK", func(t *testing.T) {
		cfg, o, err := parseFlags([]string{"--url", "https://chat.example:8443/x", "-access-key", "AK", "-secret-key", "SK",
			"-conns", "500", "-rooms", "5", "-senders", "20", "-rate", "0", "-duration", "3s", "-ramp", "250",
			"-payload", "200", "-window", "8", "-drain", "2s", "-room-rate", "50", "-expect-errors", "429, 406",
			"-fail-on-loss=false", "--json", "--report", "r.html", "-server-pid", "1"}, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("parseFlags: %v", err)
		}
		want := Config{URL: "https://chat.example:8443/x", WSURL: "wss://chat.example:8443/", AccessKey: "AK", SecretKey: "SK",
			Region: "us-east-1", Conns: 500, Rooms: 5, Senders: 20, Rate: 0, Payload: 200, Duration: 3 * time.Second,
			Ramp: 250, DialConcurrency: 64, Window: 8, Settle: time.Second, Drain: 2 * time.Second, RoomRate: 50,
			ExpectErrors: []int{429, 406}, ServerPIDs: []int{1}, Sources: "127.0.0.2-127.0.0.20"}
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Fatalf("config (-want +got):\n%s", diff)
		}
		if o.failOnLoss || !o.jsonOut || o.report != "r.html" {
			t.Fatalf("options=%+v", o)
		}
	})
	t.Run("Env", func(t *testing.T) {
		t.Setenv("PARLEY_ACCESS_KEY_ID", "envAK")
		t.Setenv("PARLEY_SECRET_ACCESS_KEY", "envSK")
		cfg, o, err := parseFlags(nil, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("parseFlags: %v", err)
		}
		if cfg.AccessKey != "envAK" || cfg.SecretKey != "envSK" || cfg.WSURL != "ws://127.0.0.1:8080/" || !o.failOnLoss {
			t.Fatalf("keys %q/%q ws %q failOnLoss %v", cfg.AccessKey, cfg.SecretKey, cfg.WSURL, o.failOnLoss)
		}
	})
	t.Run("DataDir", func(t *testing.T) {
		dir := t.TempDir()
		creds := `{"keys":[{"accessKeyId":"RO","secretAccessKey":"x","actions":["ivschat:GetRoom"]},
			{"accessKeyId":"RW","secretAccessKey":"y","actions":["ivschat:CreateRoom","ivschat:CreateChatToken"]}]}`
		if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := parseFlags([]string{"-data-dir", dir}, &bytes.Buffer{})
		if err != nil || cfg.AccessKey != "RW" || cfg.SecretKey != "y" {
			t.Fatalf("key %q/%q err %v, want the key allowed to create rooms and tokens", cfg.AccessKey, cfg.SecretKey, err)
		}
	})
	t.Run("ErrBad", func(t *testing.T) {
		for _, args := range [][]string{
			{},
			{"-access-key", "a", "-secret-key", "b", "-conns", "0"},
			{"-access-key", "a", "-secret-key", "b", "-conns", "5", "-senders", "6"},
			{"-access-key", "a", "-secret-key", "b", "-payload", "501"},
			{"-access-key", "a", "-secret-key", "b", "-room-rate", "101"},
			{"-access-key", "a", "-secret-key", "b", "-expect-errors", "x"},
			{"-access-key", "a", "-secret-key", "b", "-server-pid", "nope"},
			{"-access-key", "a", "-secret-key", "b", "-url", "ftp://x"},
			{"-access-key", "a", "-secret-key", "b", "-src", "1.2.3.9-1.2.3.1"},
			{"-access-key", "a", "-secret-key", "b", "extra"},
			{"-data-dir", "/nonexistent"},
		} {
			if _, _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
				t.Fatalf("parseFlags(%q) succeeded, want an error", args)
			}
		}
	})
}

func TestMainHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	err := Main(context.Background(), []string{"-h"}, &out, &errOut)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Main(-h)=%v, want flag.ErrHelp", err)
	}
	help := errOut.String()
	fs := newFlagSet(&Config{}, &options{}, &bytes.Buffer{})
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(help, "-"+f.Name) || f.Usage == "" {
			t.Errorf("help does not document -%s", f.Name)
		}
	})
	for _, name := range []string{"url", "ws-url", "access-key", "secret-key", "data-dir", "region", "conns", "rooms",
		"senders", "rate", "duration", "ramp", "payload", "window", "drain", "room-rate", "fail-on-loss", "server-pid", "json", "report"} {
		if fs.Lookup(name) == nil {
			t.Errorf("no flag -%s", name)
		}
	}
}

func TestSourceAddrs(t *testing.T) {
	got, err := sourceAddrs("127.0.0.2-127.0.0.4")
	if err != nil || len(got) != 3 || got[2].String() != "127.0.0.4" {
		t.Fatalf("range: %v %v", got, err)
	}
	got, err = sourceAddrs("127.0.0.5, 127.0.0.9")
	if err != nil || len(got) != 2 || got[1].String() != "127.0.0.9" {
		t.Fatalf("list: %v %v", got, err)
	}
	for raw, want := range map[string]bool{"ws://127.0.0.1:8080/": true, "http://localhost:1": true,
		"ws://10.0.0.1/": false, "ws://[::1]:80/": false, "wss://chat.example/": false} {
		if loopbackHost(raw) != want {
			t.Fatalf("loopbackHost(%q)=%v, want %v", raw, !want, want)
		}
	}
}
