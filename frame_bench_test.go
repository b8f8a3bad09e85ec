package parley_test

import (
	"testing"
	"time"

	"github.com/parleychat/parley"
)

// benchMessage is a typical chat message: a few attributes, a short text,
// sender attributes.
func benchMessage() *parley.Message {
	return &parley.Message{
		ID:         "u8Xc1qTpZbmW",
		RequestID:  "c2d5c4a2-8d0c-4d5a-9b8e-1f0e0b6f2a11",
		Attributes: map[string]string{"mark": "r0/s1/42", "lang": "en"},
		Content:    "Hello, everyone! \"Quoted\" text, a tab\tand café ☕.",
		SendTime:   time.Date(2026, 11, 27, 2, 30, 0, 123456789, time.UTC),
		Sender: parley.Sender{
			UserID:     "user-4711",
			Attributes: map[string]string{"displayName": "Ada", "color": "teal", "role": "mod"},
		},
	}
}

// BenchmarkMessageAppendJSON encodes a MESSAGE frame into a reused buffer,
// as the hub does once per broadcast.
func BenchmarkMessageAppendJSON(b *testing.B) {
	m := benchMessage()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEventAppendJSON encodes an EVENT frame into a reused buffer.
func BenchmarkEventAppendJSON(b *testing.B) {
	e := &parley.Event{
		ID:         "u8Xc1qTpZbmW",
		RequestID:  "c2d5c4a2-8d0c-4d5a-9b8e-1f0e0b6f2a11",
		EventName:  "app:score",
		Attributes: map[string]string{"home": "2", "away": "1", "minute": "88"},
		SendTime:   time.Date(2026, 11, 27, 2, 30, 0, 123456789, time.UTC),
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAppendJSONString encodes strings into a reused buffer.
func BenchmarkAppendJSONString(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"ascii", "The quick brown fox jumps over the lazy dog, 0123456789 times."},
		{"escapes", "line one\nline \"two\"\t\\ and a bell \x07 in it"},
		{"utf8", "Grüße aus Köln — 東京からこんにちは — emoji 🎉🎉"},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			for b.Loop() {
				buf = parley.AppendJSONString(buf[:0], c.s)
			}
		})
	}
}

// TestAppendJSONAllocs checks that encoding a frame into a buffer with room
// allocates nothing: the hub encodes every broadcast once, on its hot path.
func TestAppendJSONAllocs(t *testing.T) {
	m := benchMessage()
	e := &parley.Event{ID: "x", EventName: "app:e", Attributes: map[string]string{"a": "1", "b": "2"}}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf = m.AppendJSON(buf[:0])
		buf = e.AppendJSON(buf)
		buf = parley.AppendJSONString(buf, "caf\xe9 \u2028")
	})
	if allocs != 0 {
		t.Fatalf("allocs=%v, want 0", allocs)
	}
}
