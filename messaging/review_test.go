package messaging_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/messaging"
)

// fakeReviewer answers by handler URI.
type fakeReviewer struct {
	mu       sync.Mutex
	handlers map[string]func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error)
	last     *parley.ReviewRequest
}

func (r *fakeReviewer) Review(ctx context.Context, uri string, req *parley.ReviewRequest) (*parley.ReviewResponse, error) {
	r.mu.Lock()
	h := r.handlers[uri]
	r.last = req
	r.mu.Unlock()
	return h(ctx, req)
}

func ptr[T any](v T) *T { return &v }

func TestReview(t *testing.T) {
	release := make(chan struct{})
	rv := &fakeReviewer{handlers: map[string]func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error){
		"rewrite": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return &parley.ReviewResponse{ReviewResult: "ALLOW", Content: ptr("clean"), Attributes: map[string]string{"x": "y"}}, nil
		},
		"allow": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return &parley.ReviewResponse{ReviewResult: "ALLOW"}, nil
		},
		"deny": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return &parley.ReviewResponse{ReviewResult: "DENY"}, nil
		},
		"slow": func(ctx context.Context, _ *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		"invalid": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return &parley.ReviewResponse{ReviewResult: "MAYBE"}, nil
		},
		"toolong": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return &parley.ReviewResponse{ReviewResult: "ALLOW", Content: ptr(strings.Repeat("x", 501))}, nil
		},
		"failing": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			return nil, errors.New("lambda exploded")
		},
		"blocked": func(context.Context, *parley.ReviewRequest) (*parley.ReviewResponse, error) {
			<-release
			return &parley.ReviewResponse{ReviewResult: "ALLOW"}, nil
		},
	}}
	e := newEnv(t, func(s *messaging.Server) { s.Reviewer = rv })
	roomWith := func(uri string, fb parley.FallbackResult) *parley.Room {
		return e.createRoom(t, func(r *parley.Room) {
			r.MessageReviewHandler = &parley.MessageReviewHandler{URI: uri, FallbackResult: fb}
		})
	}
	send := func(t *testing.T, room *parley.Room, content string, attrs map[string]string) (*client, frame) {
		t.Helper()
		c := e.connect(t, tokenOpts{room: room, user: "u", caps: allCaps, attrs: map[string]string{"name": "U"}})
		c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "rq", "Content": content, "Attributes": attrs})
		return c, c.read()
	}
	t.Run("AllowRewrites", func(t *testing.T) {
		room := roomWith("rewrite", parley.FallbackAllow)
		_, f := send(t, room, "dirty", map[string]string{"a": "b"})
		if f.Type != parley.TypeMessage || f.Content != "clean" || !cmp.Equal(f.Attributes, map[string]string{"x": "y"}) {
			t.Fatalf("got %s", f.Raw)
		}
		rv.mu.Lock()
		got := rv.last
		rv.mu.Unlock()
		want := &parley.ReviewRequest{Content: "dirty", MessageID: f.ID, RoomARN: room.ARN, Attributes: map[string]string{"a": "b"},
			Sender: parley.ReviewSender{Attributes: map[string]string{"name": "U"}, UserID: "u", IP: "127.0.0.1"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ReviewRequest (-want +got):\n%s", diff)
		}
	})
	for _, tc := range []struct {
		name, uri string
		fb        parley.FallbackResult
		deliver   bool
		fallback  bool
	}{
		{"AllowKeepsOriginal", "allow", parley.FallbackDeny, true, false},
		{"Deny", "deny", parley.FallbackAllow, false, false},
		{"TimeoutFallbackAllow", "slow", parley.FallbackAllow, true, true},
		{"TimeoutFallbackDeny", "slow", parley.FallbackDeny, false, true},
		{"InvalidResultFallbackAllow", "invalid", parley.FallbackAllow, true, true},
		{"InvalidResultFallbackDeny", "invalid", parley.FallbackDeny, false, true},
		{"ContentTooLongFallbackDeny", "toolong", parley.FallbackDeny, false, true},
		{"ErrorFallbackAllow", "failing", parley.FallbackAllow, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fallbacks := func() float64 {
				return e.metric(t, "parley_review_fallbacks_total", map[string]string{"result": strings.ToLower(string(tc.fb))})
			}
			before := fallbacks()
			_, f := send(t, roomWith(tc.uri, tc.fb), "original", nil)
			if got := fallbacks() - before; tc.fallback != (got == 1) || got > 1 {
				t.Fatalf("fallbacks recorded=%v, want fallback=%v", got, tc.fallback)
			}
			switch {
			case tc.deliver && (f.Type != parley.TypeMessage || f.Content != "original"):
				t.Fatalf("got %s, want the original MESSAGE", f.Raw)
			case !tc.deliver && (f.Type != parley.TypeError || f.ErrorCode != 406 || f.RequestID != "rq"):
				t.Fatalf("got %s, want ERROR 406", f.Raw)
			}
		})
	}
	t.Run("SlowRoomDoesNotDelayOthers", func(t *testing.T) {
		blocked := roomWith("blocked", parley.FallbackAllow)
		a := e.connect(t, tokenOpts{room: blocked, user: "a", caps: allCaps})
		a.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "wait", "Content": "x"})
		_, f := send(t, roomWith("allow", parley.FallbackDeny), "other room", nil)
		if f.Content != "other room" {
			t.Fatalf("got %s", f.Raw)
		}
		close(release)
		if f := a.read(); f.RequestID != "wait" {
			t.Fatalf("got %s", f.Raw)
		}
	})
}

func TestReviewWithoutReviewer(t *testing.T) {
	e := newEnv(t, nil)
	for _, fb := range []parley.FallbackResult{parley.FallbackAllow, parley.FallbackDeny} {
		room := e.createRoom(t, func(r *parley.Room) {
			r.MessageReviewHandler = &parley.MessageReviewHandler{URI: "any", FallbackResult: fb}
		})
		c := e.connect(t, tokenOpts{room: room, user: "u", caps: allCaps})
		c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": "rq", "Content": "hi"})
		f := c.read()
		if fb == parley.FallbackAllow && f.Type != parley.TypeMessage || fb == parley.FallbackDeny && f.ErrorCode != 406 {
			t.Fatalf("fallback %s: got %s", fb, f.Raw)
		}
	}
}
