package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestPprofListen: profiles are served on --pprof-listen only, and a busy
// --pprof-listen address fails Open cleanly.
func TestPprofListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	m := MustOpenMain(t, t.TempDir(), func(c *Config) { c.PprofListen = addr })
	for _, tc := range []struct {
		addr   string
		served bool
	}{{addr, true}, {m.Addr, false}} {
		resp, err := http.Get("http://" + tc.addr + "/debug/pprof/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusOK; got != tc.served {
			t.Errorf("GET %s/debug/pprof/cmdline: status %d, served=%v, want %v", tc.addr, resp.StatusCode, got, tc.served)
		}
	}
	busy := NewMain()
	busy.Config.Listen, busy.Config.DataDir, busy.Config.PprofListen = "127.0.0.1:0", t.TempDir(), addr
	busy.Config.Auth.AccessKeyID, busy.Config.Auth.SecretAccessKey = testAKID, testSecret
	if err := busy.Open(context.Background()); err == nil || !strings.Contains(err.Error(), "pprof") {
		busy.Close(context.Background())
		t.Fatalf("Open with a busy --pprof-listen: %v, want a pprof listen error", err)
	}
	if busy.store != nil || busy.bus != nil || busy.chatlog != nil || busy.listener != nil {
		t.Fatal("a failed Open left components open")
	}
}
