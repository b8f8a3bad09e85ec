package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
)

// reviewCase is one message sent to a room whose handler plays function.
type reviewCase struct {
	name     string
	function string
	fallback types.FallbackResult
	// want is the Content delivered; "" means the message is rejected
	// (ERROR 406 to the sender, nothing broadcast).
	want      string
	wantAttrs map[string]string
	slow      bool // the handler outlives the review timeout
}

var reviewCases = []reviewCase{
	{"Allow", chatlogtest.FunctionAllow, types.FallbackResultDeny, "hello", map[string]string{"k": "v"}, false},
	{"Deny", chatlogtest.FunctionDeny, types.FallbackResultAllow, "", nil, false},
	{"Rewrite", chatlogtest.FunctionRewrite, types.FallbackResultDeny, chatlogtest.Rewrite("hello"), chatlogtest.RewrittenAttributes, false},
	{"TimeoutFallbackAllow", chatlogtest.FunctionSleep, types.FallbackResultAllow, "hello", map[string]string{"k": "v"}, true},
	{"TimeoutFallbackDeny", chatlogtest.FunctionSleep, types.FallbackResultDeny, "", nil, true},
	{"FunctionErrorFallbackAllow", chatlogtest.FunctionError, types.FallbackResultAllow, "hello", map[string]string{"k": "v"}, false},
	{"FunctionErrorFallbackDeny", chatlogtest.FunctionError, types.FallbackResultDeny, "", nil, false},
	{"InvalidFallbackAllow", chatlogtest.FunctionInvalid, types.FallbackResultAllow, "hello", map[string]string{"k": "v"}, false},
	{"InvalidFallbackDeny", chatlogtest.FunctionInvalid, types.FallbackResultDeny, "", nil, false},
	{"TooLongFallbackDeny", chatlogtest.FunctionTooLong, types.FallbackResultDeny, "", nil, false},
}

// TestReview_EndToEnd runs every review outcome through the real server,
// with the handler reached through the Lambda Invoke API (aws-sdk-go-v2
// against --lambda-endpoint) and as an http webhook.
func TestReview_EndToEnd(t *testing.T) {
	setAWSEnv(t)
	fake := chatlogtest.NewLambda(t)
	m := MustOpenMain(t, t.TempDir(), noAPIRateLimits, func(c *Config) { c.Review.LambdaEndpoint = fake.URL })
	client := newClient(m.Addr, testAKID, testSecret)
	transports := []struct {
		name string
		uri  func(function string) string
	}{
		{"Lambda", chatlogtest.FunctionARN},
		{"Webhook", fake.WebhookURL},
	}
	for _, tr := range transports {
		for _, tt := range reviewCases {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				runReviewCase(t, m, client, fake, tr.uri(tt.function), tt)
			})
		}
	}
	if n := metric(t, m.Addr, "parley_review_invocations_total"); n != float64(2*len(reviewCases)) {
		t.Errorf("parley_review_invocations_total=%v, want %d", n, 2*len(reviewCases))
	}
	if n := metric(t, m.Addr, "parley_review_invocations_total", "outcome", "error_timeout"); n != 4 {
		t.Errorf("parley_review_invocations_total{outcome=error_timeout}=%v, want 4", n)
	}
}

func runReviewCase(t *testing.T, m *Main, client *ivschat.Client, fake *chatlogtest.Lambda, uri string, tt reviewCase) {
	ctx := context.Background()
	room, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{
		MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String(uri), FallbackResult: tt.fallback},
	})
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	arn := aws.ToString(room.Arn)
	sender := dialToken(t, m.Addr, client, &ivschat.CreateChatTokenInput{
		RoomIdentifier: room.Arn, UserId: aws.String("alice"), Capabilities: []types.ChatTokenCapability{types.ChatTokenCapabilitySendMessage},
		Attributes: map[string]string{"role": "tester"},
	})
	receiver := dialRoom(t, m.Addr, client, arn, "bob")

	start := time.Now()
	rid := sender.sendMessage("hello", map[string]string{"k": "v"})
	got := sender.next(5 * time.Second)
	elapsed := time.Since(start)
	if tt.slow && (elapsed < 200*time.Millisecond || elapsed > 2*time.Second) {
		t.Errorf("answer after %v, want the 200 ms review timeout", elapsed)
	}
	if got.RequestID != rid {
		t.Fatalf("sender got %s, want the answer to %s", got.Raw, rid)
	}
	if tt.want == "" {
		if got.Type != parley.TypeError || got.ErrorCode != 406 {
			t.Fatalf("sender got %s, want ERROR 406", got.Raw)
		}
		// Nothing was broadcast: the next frame either client sees is an
		// event sent afterwards.
		if _, err := client.SendEvent(ctx, &ivschat.SendEventInput{RoomIdentifier: room.Arn, EventName: aws.String("marker")}); err != nil {
			t.Fatalf("SendEvent: %v", err)
		}
		for who, c := range map[string]*wsClient{"sender": sender, "receiver": receiver} {
			if f := c.next(5 * time.Second); f.Type != parley.TypeEvent || f.EventName != "marker" {
				t.Errorf("%s got %s after a rejected message, want the marker event", who, f.Raw)
			}
		}
	} else {
		if got.Type != parley.TypeMessage || got.Content != tt.want || !cmp.Equal(got.Attributes, tt.wantAttrs) {
			t.Fatalf("sender got %s, want MESSAGE with Content %q and Attributes %v", got.Raw, tt.want, tt.wantAttrs)
		}
		if f := receiver.next(5 * time.Second); string(f.Raw) != string(got.Raw) {
			t.Errorf("receiver got %s, want the sender's frame %s", f.Raw, got.Raw)
		}
	}
	checkReviewRequest(t, fake, tt.function, arn, got)
}

// checkReviewRequest checks the request that the handler received for the
// message of room.
func checkReviewRequest(t *testing.T, fake *chatlogtest.Lambda, function, roomARN string, answer wsFrame) {
	t.Helper()
	var reqs []parley.ReviewRequest
	for _, r := range fake.Requests(function) {
		if r.RoomARN == roomARN {
			reqs = append(reqs, r)
		}
	}
	if len(reqs) != 1 {
		t.Fatalf("handler %s got %d requests for the room, want 1", function, len(reqs))
	}
	want := parley.ReviewRequest{
		Content: "hello", MessageID: reqs[0].MessageID, RoomARN: roomARN, Attributes: map[string]string{"k": "v"},
		Sender: parley.ReviewSender{UserID: "alice", IP: "127.0.0.1", Attributes: map[string]string{"role": "tester"}},
	}
	if answer.Type == parley.TypeMessage {
		want.MessageID = answer.ID
	}
	if diff := cmp.Diff(want, reqs[0]); diff != "" {
		t.Errorf("review request (-want +got):\n%s", diff)
	}
	if !parley.ValidID(reqs[0].MessageID) {
		t.Errorf("MessageId %q is not a 12-character message Id", reqs[0].MessageID)
	}
}

// TestReview_SlowHandlerIsolation: a handler that takes 1 s in room A
// delays neither room B's messages nor other connections of room A.
func TestReview_SlowHandlerIsolation(t *testing.T) {
	setAWSEnv(t)
	fake := chatlogtest.NewLambda(t)
	m := MustOpenMain(t, t.TempDir(), noAPIRateLimits, func(c *Config) {
		c.Review.LambdaEndpoint = fake.URL
		c.Review.Timeout = 3 * time.Second // let the slow handler answer
	})
	client := newClient(m.Addr, testAKID, testSecret)
	ctx := context.Background()
	newRoom := func(function string) string {
		out, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{
			MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String(chatlogtest.FunctionARN(function)), FallbackResult: types.FallbackResultDeny},
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Arn)
	}
	roomA, roomB := newRoom("sleep-1s"), newRoom(chatlogtest.FunctionRewrite)
	senderA := dialRoom(t, m.Addr, client, roomA, "a", types.ChatTokenCapabilitySendMessage)
	senderB := dialRoom(t, m.Addr, client, roomB, "b", types.ChatTokenCapabilitySendMessage)
	receiverB := dialRoom(t, m.Addr, client, roomB, "watcher")

	start := time.Now()
	ridA := senderA.sendMessage("slow one", nil)
	waitFor(t, 2*time.Second, "the slow handler to be called", func() bool { return len(fake.Requests("sleep-1s")) == 1 })
	for i := range 3 {
		sent := time.Now()
		rid := senderB.sendMessage("fast", nil)
		f := receiverB.next(5 * time.Second)
		if f.RequestID != rid || f.Content != chatlogtest.Rewrite("fast") {
			t.Fatalf("room B got %s, want the rewritten message %s", f.Raw, rid)
		}
		if d := time.Since(sent); d > 500*time.Millisecond {
			t.Errorf("room B message %d took %v while room A's handler was busy", i, d)
		}
	}
	if time.Since(start) >= time.Second {
		t.Fatalf("room B's messages took %v: not sent while room A's handler was busy", time.Since(start))
	}
	f := senderA.next(5 * time.Second)
	if f.RequestID != ridA || f.Type != parley.TypeMessage || f.Content != "slow one" {
		t.Fatalf("room A got %s, want the slow message", f.Raw)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("room A's message arrived after %v, before its 1 s handler finished", d)
	}
}
