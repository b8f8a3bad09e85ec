package inmem_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
)

func mustSubscribe(t *testing.T, b *inmem.Bus, room string, fn func(*parley.BusMessage)) func() {
	t.Helper()
	unsub, err := b.Subscribe(room, fn)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", room, err)
	}
	return unsub
}

func mustPublish(t *testing.T, b *inmem.Bus, m *parley.BusMessage) {
	t.Helper()
	if err := b.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func TestBus(t *testing.T) {
	t.Run("OrderAndRooms", func(t *testing.T) {
		b := inmem.New()
		var got []string
		mustSubscribe(t, b, "A", func(m *parley.BusMessage) { got = append(got, "1:"+string(m.Frame)) })
		mustSubscribe(t, b, "A", func(m *parley.BusMessage) { got = append(got, "2:"+string(m.Frame)) })
		mustSubscribe(t, b, "B", func(m *parley.BusMessage) { got = append(got, "B:"+string(m.Frame)) })
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A", Frame: []byte("x")})
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A", Frame: []byte("y")})
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "C", Frame: []byte("z")})
		want := []string{"1:x", "2:x", "1:y", "2:y"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("deliveries (-want +got):\n%s", diff)
		}
	})
	t.Run("Unsubscribe", func(t *testing.T) {
		b := inmem.New()
		n1, n2 := 0, 0
		u1 := mustSubscribe(t, b, "A", func(*parley.BusMessage) { n1++ })
		mustSubscribe(t, b, "A", func(*parley.BusMessage) { n2++ })
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A"})
		u1()
		u1() // idempotent
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A"})
		if n1 != 1 || n2 != 2 {
			t.Fatalf("n1=%d n2=%d, want 1 2", n1, n2)
		}
	})
	t.Run("UnsubscribeFromCallback", func(t *testing.T) {
		b := inmem.New()
		n := 0
		var unsub func()
		unsub = mustSubscribe(t, b, "A", func(*parley.BusMessage) { n++; unsub() })
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A"})
		mustPublish(t, b, &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A"})
		if n != 1 {
			t.Fatalf("n=%d, want 1", n)
		}
	})
	t.Run("CopiesMessage", func(t *testing.T) {
		b := inmem.New()
		var got []*parley.BusMessage
		mustSubscribe(t, b, "A", func(m *parley.BusMessage) { got = append(got, m) })
		frame := []byte("abc")
		room := &parley.Room{ID: "A", MaximumMessageLength: 7, MessageReviewHandler: &parley.MessageReviewHandler{URI: "u"}}
		m := &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: "A", Frame: frame, Room: room}
		mustPublish(t, b, m)
		frame[0] = 'X'
		room.MaximumMessageLength = 9
		room.MessageReviewHandler.URI = "changed"
		if got[0] == m || string(got[0].Frame) != "abc" || got[0].Room.MaximumMessageLength != 7 || got[0].Room.MessageReviewHandler.URI != "u" {
			t.Fatalf("subscriber saw the publisher's memory: %+v", got[0])
		}
	})
	t.Run("Closed", func(t *testing.T) {
		b := inmem.New()
		mustSubscribe(t, b, "A", func(*parley.BusMessage) { t.Error("delivered after Close") })
		b.Close(context.Background())
		if err := b.Publish(context.Background(), &parley.BusMessage{Kind: parley.Broadcast, RoomID: "A"}); err == nil {
			t.Fatal("Publish after Close: nil error")
		}
		if _, err := b.Subscribe("A", func(*parley.BusMessage) {}); err == nil {
			t.Fatal("Subscribe after Close: nil error")
		}
	})
}

// TestBusConcurrent publishes from several goroutines while others
// subscribe and unsubscribe; every steady subscriber must see each
// publisher's messages in order and all subscribers the same global order.
func TestBusConcurrent(t *testing.T) {
	b := inmem.New()
	const publishers, perPublisher = 4, 200
	var mu sync.Mutex
	seen := [2][]string{}
	for i := range 2 {
		mustSubscribe(t, b, "R", func(m *parley.BusMessage) {
			mu.Lock()
			seen[i] = append(seen[i], string(m.Frame))
			mu.Unlock()
		})
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perPublisher {
				b.Publish(context.Background(), &parley.BusMessage{Kind: parley.Broadcast, RoomID: "R", Frame: fmt.Appendf(nil, "%d:%d", p, i)})
			}
		}()
	}
	wg.Add(1)
	go func() { // churn other subscriptions concurrently
		defer wg.Done()
		for range 200 {
			u, err := b.Subscribe("R", func(*parley.BusMessage) {})
			if err != nil {
				t.Error(err)
				return
			}
			u()
		}
	}()
	wg.Wait()
	if len(seen[0]) != publishers*perPublisher {
		t.Fatalf("got %d messages, want %d", len(seen[0]), publishers*perPublisher)
	}
	if diff := cmp.Diff(seen[0], seen[1]); diff != "" {
		t.Fatalf("subscribers saw different orders:\n%s", diff)
	}
	next := make(map[int]int)
	for _, s := range seen[0] {
		var p, i int
		fmt.Sscanf(s, "%d:%d", &p, &i)
		if i != next[p] {
			t.Fatalf("publisher %d: got message %d, want %d", p, i, next[p])
		}
		next[p]++
	}
}
