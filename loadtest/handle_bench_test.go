package loadtest

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// BenchmarkHandle measures the receiver's work per delivered MESSAGE frame:
// finding and parsing the mark, loss accounting and the latency histogram.
func BenchmarkHandle(b *testing.B) {
	r := &run{cfg: Config{Rooms: 1, Senders: 1}}
	c := &client{sender: -1, streams: make([]stream, 1)}
	frames := make([][]byte, 1024)
	for i := range frames {
		req := appendMark(nil, 0, uint32(i), time.Now().UnixNano(), 100)
		m := parley.Message{ID: parley.NewID(), RequestID: "pb-0-1", Content: string(req), SendTime: time.Now(),
			Sender: parley.Sender{UserID: "bench-0"}}
		frames[i] = m.AppendJSON(nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%len(frames) == 0 {
			c.streams[0] = stream{}
		}
		r.handle(c, frames[i%len(frames)], time.Now().UnixNano())
	}
}
