package nats_test

import (
	"context"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleychat/parley/bus/nats"
)

func nodeCounts(buses []*nats.Bus) []int {
	n := make([]int, len(buses))
	for i, b := range buses {
		n[i] = b.Nodes()
	}
	return n
}

// TestNodes: three nodes on one server each count three within a round
// trip of the last one's start (newcomers are answered); after one
// closes, the other two count two at once (its goodbye), well within the
// three-interval window.
func TestNodes(t *testing.T) {
	_, url := startServer(t, -1)
	var buses []*nats.Bus
	for _, name := range []string{"n1", "n2", "n3"} {
		buses = append(buses, open(t, url, func(b *nats.Bus) { b.Name = name }))
	}
	start := time.Now()
	waitUntil(t, "every node counts 3", time.Second/2, func() bool {
		n := nodeCounts(buses)
		return n[0] == 3 && n[1] == 3 && n[2] == 3
	})
	t.Logf("every node counted 3 after %v", time.Since(start))
	if err := buses[2].Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitUntil(t, "the remaining nodes count 2", 2*time.Second, func() bool {
		n := nodeCounts(buses[:2])
		return n[0] == 2 && n[1] == 2
	})
	t.Logf("the remaining nodes counted 2 after %v", time.Since(start))
	// Nothing brings the closed node back.
	if n := buses[2].Nodes(); n < 1 {
		t.Fatalf("closed node counts %d, want at least 1", n)
	}
}

// TestNodesVanished: a node that stops announcing itself without a
// goodbye (it crashed, or its network went) stops counting within three
// intervals.
func TestNodesVanished(t *testing.T) {
	_, url := startServer(t, -1)
	const interval = 100 * time.Millisecond
	b := open(t, url, func(b *nats.Bus) { b.PresenceInterval = interval })
	if n := b.Nodes(); n != 1 {
		t.Fatalf("alone: Nodes()=%d, want 1", n)
	}
	raw, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range []string{"alive ghostInstance1 ghost", "alive ghostInstance2 ghost", "bogus", "alive", ""} {
		raw.Publish("parley.nodes", []byte(s))
	}
	raw.Flush()
	waitUntil(t, "the two ghosts counted", 2*time.Second, func() bool { return b.Nodes() == 3 })
	last := time.Now()
	waitUntil(t, "the ghosts forgotten", 2*time.Second, func() bool { return b.Nodes() == 1 })
	if d := time.Since(last); d < 2*interval {
		t.Fatalf("ghosts forgotten after %v, want no sooner than the window (%v)", d, 3*interval)
	}
}

// TestNodesPrefix: deployments on one server with different prefixes do
// not count each other.
func TestNodesPrefix(t *testing.T) {
	_, url := startServer(t, -1)
	a := open(t, url, func(b *nats.Bus) { b.Prefix = "alpha" })
	b := open(t, url, func(b *nats.Bus) { b.Prefix = "beta" })
	c := open(t, url, func(b *nats.Bus) { b.Prefix = "beta" })
	waitUntil(t, "beta counts 2", 5*time.Second, func() bool { return b.Nodes() == 2 && c.Nodes() == 2 })
	if n := a.Nodes(); n != 1 {
		t.Fatalf("alpha counts %d, want 1", n)
	}
}
