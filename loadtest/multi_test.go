package loadtest

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestRunMultiURL spreads the connections over three listeners of one fake
// cluster and checks that connection i went to URL i mod 3 and that every
// message still reached every connection of its room.
func TestRunMultiURL(t *testing.T) {
	f := newFakeChat(t)
	urls := []string{f.listen(t), f.listen(t), f.listen(t)}
	cfg := testConfig(f)
	cfg.WSURL = strings.Join(urls, ",")
	res := mustRun(t, cfg)
	if want := res.Sent * 100; res.Expected != want || res.Delivered != want || len(res.Failures) != 0 {
		t.Fatalf("expected=%d delivered=%d failures=%v, want %d and none", res.Expected, res.Delivered, res.Failures, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range cfg.Conns {
		u, _ := url.Parse(urls[i%3])
		if got := f.hosts["bench-"+strconv.Itoa(i)]; got != u.Host {
			t.Fatalf("connection %d went to %q, want %q (URL %d mod 3)", i, got, u.Host, i)
		}
	}
}

func TestSplitWSURLs(t *testing.T) {
	got, err := splitWSURLs(" ws://a:1/, wss://b/x ,")
	if err != nil || len(got) != 2 || got[0] != "ws://a:1/" || got[1] != "wss://b/x" {
		t.Fatalf("splitWSURLs=%q, %v", got, err)
	}
	for _, bad := range []string{"", ",", "http://a/", "ws://a/,ftp://b/", "ws:///x"} {
		if _, err := splitWSURLs(bad); err == nil {
			t.Errorf("splitWSURLs(%q) succeeded, want an error", bad)
		}
	}
}
