// Package bustest is the contract suite every parley.Bus passes. Run it
// from a backend's tests:
//
//	func TestContract(t *testing.T) {
//		bustest.Run(t, func(t *testing.T) func() parley.Bus { ... })
//	}
//
// A networked bus delivers asynchronously, so the suite waits for
// deliveries with a deadline instead of expecting them when Publish
// returns; absence (no delivery after unsubscribing, none from another
// room) is checked behind a later message that must arrive.
package bustest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
)

// Timeout bounds every wait for a delivery.
var Timeout = 10 * time.Second

// NewCluster starts a fresh backplane for one subtest and returns a
// function that attaches a new node to it: each call returns a Bus that
// stands for another node of one deployment. An in-process bus, where the
// process is the deployment, may return the same Bus every time. The
// suite closes every node it was given when the subtest ends, so Close
// must be harmless when called twice.
type NewCluster func(t *testing.T) (node func() parley.Bus)

// Run runs the contract suite against the Bus that newCluster makes.
func Run(t *testing.T, newCluster NewCluster) {
	start := func(t *testing.T) func() parley.Bus {
		node := newCluster(t)
		return func() parley.Bus {
			b := node()
			t.Cleanup(func() {
				if err := b.Close(context.Background()); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return b
		}
	}
	t.Run("DeliveryToEveryNode", func(t *testing.T) { testDelivery(t, start(t)) })
	t.Run("PerPublisherOrder", func(t *testing.T) { testOrder(t, start(t)) })
	t.Run("Unsubscribe", func(t *testing.T) { testUnsubscribe(t, start(t)) })
	t.Run("UnsubscribeFromCallback", func(t *testing.T) { testUnsubscribeFromCallback(t, start(t)) })
	t.Run("Contents", func(t *testing.T) { testContents(t, start(t)) })
	t.Run("RoomsApart", func(t *testing.T) { testRoomsApart(t, start(t)) })
	t.Run("SubscribeThenPublish", func(t *testing.T) { testSubscribeThenPublish(t, start(t)) })
	t.Run("ErrInvalidKind", func(t *testing.T) { testInvalidKind(t, start(t)) })
	t.Run("ErrClosed", func(t *testing.T) { testClosed(t, start(t)) })
}

// Recorder is a subscription callback that keeps what it is given and lets
// a test wait for it. It reports an error if it is ever called while a
// previous call is still running.
type Recorder struct {
	t       testing.TB
	running atomic.Int32

	mu      sync.Mutex
	msgs    []*parley.BusMessage
	changed chan struct{} // closed and replaced on every delivery
}

// NewRecorder returns an empty Recorder reporting to t.
func NewRecorder(t testing.TB) *Recorder {
	return &Recorder{t: t, changed: make(chan struct{})}
}

// Fn is the callback to pass to Subscribe.
func (r *Recorder) Fn(m *parley.BusMessage) {
	if r.running.Add(1) != 1 {
		r.t.Errorf("subscription called concurrently")
	}
	defer r.running.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Messages returns what was delivered so far.
func (r *Recorder) Messages() []*parley.BusMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*parley.BusMessage(nil), r.msgs...)
}

// Wait returns the deliveries once there are at least n, and fails the
// test when Timeout passes first.
func (r *Recorder) Wait(t testing.TB, n int) []*parley.BusMessage {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, changed := len(r.msgs), r.changed
		r.mu.Unlock()
		if got >= n {
			return r.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%d messages delivered after %v, want %d", got, Timeout, n)
		}
	}
}

// Frames returns the frames of msgs as strings.
func Frames(msgs []*parley.BusMessage) []string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = string(m.Frame)
	}
	return s
}

func mustSubscribe(t *testing.T, b parley.Bus, room string, fn func(*parley.BusMessage)) func() {
	t.Helper()
	unsub, err := b.Subscribe(room, fn)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", room, err)
	}
	return unsub
}

func mustPublish(t *testing.T, b parley.Bus, m *parley.BusMessage) {
	t.Helper()
	if err := b.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func broadcast(room, frame string) *parley.BusMessage {
	return &parley.BusMessage{Kind: parley.Broadcast, RoomID: room, Frame: []byte(frame)}
}

// testDelivery: every subscription on every node gets every message,
// including the subscriptions on the publisher's own node.
func testDelivery(t *testing.T, node func() parley.Bus) {
	a, b, c := node(), node(), node()
	recs := []*Recorder{NewRecorder(t), NewRecorder(t), NewRecorder(t)}
	mustSubscribe(t, a, "roomA", recs[0].Fn)
	mustSubscribe(t, b, "roomA", recs[1].Fn)
	mustSubscribe(t, b, "roomA", recs[2].Fn)
	mustPublish(t, a, broadcast("roomA", "from a"))
	mustPublish(t, c, broadcast("roomA", "from c"))
	for i, r := range recs {
		got := Frames(r.Wait(t, 2))
		if len(got) != 2 || !(got[0] == "from a" && got[1] == "from c" || got[0] == "from c" && got[1] == "from a") {
			t.Errorf("subscription %d got %q, want both messages once", i, got)
		}
	}
}

// testOrder: two nodes publish at once; every subscriber sees each
// publisher's messages in the order they were published.
func testOrder(t *testing.T, node func() parley.Bus) {
	const perPublisher = 200
	p1, p2, s := node(), node(), node()
	recs := []*Recorder{NewRecorder(t), NewRecorder(t)}
	mustSubscribe(t, p1, "roomO", recs[0].Fn)
	mustSubscribe(t, s, "roomO", recs[1].Fn)
	var wg sync.WaitGroup
	for p, b := range []parley.Bus{p1, p2} {
		wg.Go(func() {
			for i := range perPublisher {
				if err := b.Publish(context.Background(), broadcast("roomO", fmt.Sprintf("%d:%d", p, i))); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, r := range recs {
		next := [2]int{}
		for _, f := range Frames(r.Wait(t, 2*perPublisher)) {
			var p, n int
			if _, err := fmt.Sscanf(f, "%d:%d", &p, &n); err != nil || n != next[p] {
				t.Fatalf("subscriber %d: got %q, want %d:%d", i, f, p, next[p])
			}
			next[p]++
		}
	}
}

// testUnsubscribe: after unsubscribe returns, the subscription gets nothing
// published later; other subscriptions to the room are unaffected; a room
// unsubscribed by its last subscription can be subscribed to again.
func testUnsubscribe(t *testing.T, node func() parley.Bus) {
	a, b := node(), node()
	gone, stays := NewRecorder(t), NewRecorder(t)
	unsub := mustSubscribe(t, b, "roomU", gone.Fn)
	mustSubscribe(t, b, "roomU", stays.Fn)
	mustPublish(t, a, broadcast("roomU", "1"))
	gone.Wait(t, 1)
	stays.Wait(t, 1)
	unsub()
	unsub() // harmless
	mustPublish(t, a, broadcast("roomU", "2"))
	if got := Frames(stays.Wait(t, 2)); !cmp.Equal(got, []string{"1", "2"}) {
		t.Fatalf("remaining subscription got %q, want [1 2]", got)
	}
	if got := Frames(gone.Messages()); !cmp.Equal(got, []string{"1"}) {
		t.Fatalf("unsubscribed subscription got %q, want [1]", got)
	}

	last, again := NewRecorder(t), NewRecorder(t)
	u := mustSubscribe(t, a, "roomV", last.Fn)
	u()
	mustSubscribe(t, a, "roomV", again.Fn)
	mustPublish(t, b, broadcast("roomV", "x"))
	if got := Frames(again.Wait(t, 1)); !cmp.Equal(got, []string{"x"}) {
		t.Fatalf("subscription after resubscribing got %q, want [x]", got)
	}
	if n := len(last.Messages()); n != 0 {
		t.Fatalf("unsubscribed subscription got %d messages", n)
	}
}

// testUnsubscribeFromCallback: fn may unsubscribe its own subscription.
func testUnsubscribeFromCallback(t *testing.T, node func() parley.Bus) {
	a := node()
	var (
		mu    sync.Mutex
		unsub func()
		n     int
	)
	mu.Lock() // held until unsub is set: the callback may run at once
	unsub = mustSubscribe(t, a, "roomC", func(*parley.BusMessage) {
		mu.Lock()
		n++
		u := unsub
		mu.Unlock()
		u()
	})
	mu.Unlock()
	witness := NewRecorder(t)
	mustSubscribe(t, a, "roomC", witness.Fn)
	mustPublish(t, a, broadcast("roomC", "1"))
	mustPublish(t, a, broadcast("roomC", "2"))
	witness.Wait(t, 2)
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Fatalf("self-unsubscribing callback called %d times, want 1", n)
	}
}

// Messages returns one message of every kind, with every field set,
// including a Room with every field set and its nil and empty forms.
func Messages(roomID string) []*parley.BusMessage {
	full := &parley.Room{
		ID:                              roomID,
		ARN:                             "arn:aws:ivschat:us-east-1:000000000000:room/" + roomID,
		Name:                            "lobby ☃",
		MaximumMessageRatePerSecond:     7,
		MaximumMessageLength:            321,
		MessageReviewHandler:            &parley.MessageReviewHandler{URI: "https://review.example/x", FallbackResult: parley.FallbackDeny},
		LoggingConfigurationIdentifiers: []string{"arn:aws:ivschat:us-east-1:000000000000:logging-configuration/AbCdEf123456", "arn:b"},
		Tags:                            map[string]string{"team": "video", "empty": ""},
		CreateTime:                      time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC),
		UpdateTime:                      time.Date(2024, 3, 2, 13, 4, 5, 1, time.UTC),
		Version:                         42,
	}
	empty := *full
	empty.MessageReviewHandler = nil
	empty.LoggingConfigurationIdentifiers = []string{}
	empty.Tags = map[string]string{}
	empty.Version = 0
	bare := &parley.Room{ID: roomID}
	return []*parley.BusMessage{
		{Kind: parley.Broadcast, RoomID: roomID, Frame: []byte(`{"Type":"MESSAGE","Content":"héllo"}`)},
		{Kind: parley.DisconnectUser, RoomID: roomID, Frame: []byte(`{"Type":"EVENT","EventName":"aws:DISCONNECT_USER"}`), UserID: "user-1"},
		{Kind: parley.RoomUpdated, RoomID: roomID, Room: full},
		{Kind: parley.RoomUpdated, RoomID: roomID, Room: &empty},
		{Kind: parley.RoomUpdated, RoomID: roomID, Room: bare},
		{Kind: parley.RoomDeleted, RoomID: roomID},
	}
}

// testContents: every kind and every field arrives intact, on another
// node and on the publisher's, and the publisher may reuse its message.
func testContents(t *testing.T, node func() parley.Bus) {
	a, b := node(), node()
	there, here := NewRecorder(t), NewRecorder(t)
	mustSubscribe(t, b, "roomM", there.Fn)
	mustSubscribe(t, a, "roomM", here.Fn)
	want := Messages("roomM")
	for _, m := range Messages("roomM") {
		mustPublish(t, a, m)
		if len(m.Frame) > 0 {
			m.Frame[0] = 'X' // the publisher's memory is its own again
		}
		if m.Room != nil {
			m.Room.Name = "changed"
		}
	}
	for name, r := range map[string]*Recorder{"other node": there, "own node": here} {
		if diff := cmp.Diff(want, r.Wait(t, len(want))); diff != "" {
			t.Errorf("%s got (-want +got):\n%s", name, diff)
		}
	}
}

// testRoomsApart: a subscription gets only its own room's messages.
func testRoomsApart(t *testing.T, node func() parley.Bus) {
	a, b, c := node(), node(), node()
	r1, r2, r1b := NewRecorder(t), NewRecorder(t), NewRecorder(t)
	mustSubscribe(t, a, "room1", r1.Fn)
	mustSubscribe(t, b, "room2", r2.Fn)
	mustSubscribe(t, b, "room1", r1b.Fn)
	for i := range 20 {
		mustPublish(t, c, broadcast("room2", fmt.Sprint("2:", i)))
		mustPublish(t, c, broadcast("room3", fmt.Sprint("3:", i))) // nobody listens
		mustPublish(t, c, broadcast("room1", fmt.Sprint("1:", i)))
	}
	for name, w := range map[string]struct {
		r    *Recorder
		room string
	}{"room1 on a": {r1, "room1"}, "room2 on b": {r2, "room2"}, "room1 on b": {r1b, "room1"}} {
		got := w.r.Wait(t, 20)
		for _, m := range got {
			if m.RoomID != w.room {
				t.Errorf("%s got a message of %s: %q", name, m.RoomID, m.Frame)
			}
		}
	}
	// Anything misrouted from room2 or room3 was published before room1's
	// last message, so it would have arrived by now.
	for name, r := range map[string]*Recorder{"room1 on a": r1, "room1 on b": r1b, "room2 on b": r2} {
		if n := len(r.Messages()); n != 20 {
			t.Errorf("%s got %d messages, want 20", name, n)
		}
	}
}

// testSubscribeThenPublish: once Subscribe returns, a message that another
// node publishes reaches the subscription (a handshake answers the client
// right after subscribing, and the client may send at once).
func testSubscribeThenPublish(t *testing.T, node func() parley.Bus) {
	a, b := node(), node()
	for i := range 200 {
		room := fmt.Sprint("roomS", i)
		r := NewRecorder(t)
		unsub := mustSubscribe(t, a, room, r.Fn)
		mustPublish(t, b, broadcast(room, "first"))
		if got := Frames(r.Wait(t, 1)); got[0] != "first" {
			t.Fatalf("iteration %d: got %q, want [first]", i, got)
		}
		unsub()
	}
}

// testInvalidKind: a message the wire cannot carry is refused, whether or
// not the room has subscribers.
func testInvalidKind(t *testing.T, node func() parley.Bus) {
	a := node()
	if err := a.Publish(context.Background(), &parley.BusMessage{Kind: 0, RoomID: "roomK"}); err == nil {
		t.Errorf("Publish with kind 0 and no subscriber: nil error")
	}
	mustSubscribe(t, a, "roomK", NewRecorder(t).Fn)
	if err := a.Publish(context.Background(), &parley.BusMessage{Kind: parley.RoomDeleted + 1, RoomID: "roomK"}); err == nil {
		t.Errorf("Publish with an unknown kind: nil error")
	}
}

// testClosed: Publish with a done context fails; after Close, Publish and
// Subscribe fail, nothing is delivered, and Close again is harmless.
func testClosed(t *testing.T, node func() parley.Bus) {
	a := node()
	r := NewRecorder(t)
	mustSubscribe(t, a, "roomX", r.Fn)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Publish(ctx, broadcast("roomX", "x")); err == nil {
		t.Errorf("Publish with a done context: nil error")
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.Publish(context.Background(), broadcast("roomX", "late")); err == nil {
		t.Errorf("Publish after Close: nil error")
	}
	if _, err := a.Subscribe("roomX", r.Fn); err == nil {
		t.Errorf("Subscribe after Close: nil error")
	}
	if err := a.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := len(r.Messages()); n != 0 {
		t.Errorf("%d messages delivered after Close", n)
	}
}
