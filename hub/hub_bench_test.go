package hub_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/hub"
)

// countConn accepts every frame and only counts it, like a connection whose
// writer keeps up.
type countConn struct{ n atomic.Int64 }

func (c *countConn) Enqueue([]byte) bool   { c.n.Add(1); return true }
func (c *countConn) Close(hub.CloseReason) {}
func (c *countConn) UserID() string        { return "u" }

// BenchmarkBroadcast measures one Broadcast through the in-process bus to
// every connection of a room; allocations must not grow with the number of
// recipients.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			bus := inmem.New()
			h := hub.New(bus)
			room := &parley.Room{ID: "benchROOM123"}
			conns := make([]*countConn, n)
			for i := range conns {
				conns[i] = &countConn{}
				if _, _, err := h.Join(room, conns[i]); err != nil {
					b.Fatal(err)
				}
			}
			frame := []byte(`{"Type":"MESSAGE","Id":"M2YcHkgffEvU","RequestId":"","Attributes":null,"Content":"Hi"}`)
			m := &parley.BusMessage{Kind: parley.Broadcast, RoomID: room.ID, Frame: frame}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bus.Publish(ctx, m)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
			if conns[0].n.Load() == 0 {
				b.Fatal("nothing delivered")
			}
		})
	}
}
