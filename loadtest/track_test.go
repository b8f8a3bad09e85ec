package loadtest

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

func TestStreamSee(t *testing.T) {
	tests := []struct {
		name    string
		seqs    []uint32
		want    []int
		next    uint32
		missing int
	}{
		{"InOrder", []uint32{0, 1, 2, 3}, []int{deliveryNew, deliveryNew, deliveryNew, deliveryNew}, 4, 0},
		{"Gap", []uint32{0, 3}, []int{deliveryNew, deliveryNew}, 4, 2},
		{"Late", []uint32{0, 3, 1, 2}, []int{deliveryNew, deliveryNew, deliveryLate, deliveryLate}, 4, 0},
		{"Dup", []uint32{0, 1, 1, 0}, []int{deliveryNew, deliveryNew, deliveryDup, deliveryDup}, 2, 0},
		{"DupOfLate", []uint32{2, 0, 0}, []int{deliveryNew, deliveryLate, deliveryDup}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stream
			var got []int
			for _, q := range tt.seqs {
				got = append(got, s.see(q))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("outcomes (-want +got):\n%s", diff)
			}
			if s.next != tt.next || len(s.missing) != tt.missing {
				t.Fatalf("next=%d missing=%d, want %d and %d", s.next, len(s.missing), tt.next, tt.missing)
			}
		})
	}
}

func TestAccount(t *testing.T) {
	rej := func(seqs ...uint32) map[uint32]struct{} {
		m := map[uint32]struct{}{}
		for _, q := range seqs {
			m[q] = struct{}{}
		}
		return m
	}
	tests := []struct {
		name     string
		seen     []uint32
		log      senderLog
		want     tally
		wantMiss []uint32
	}{
		{"AllSeen", []uint32{0, 1, 2}, senderLog{sent: 3}, tally{Expected: 3}, nil},
		{"NothingSent", nil, senderLog{}, tally{}, nil},
		{"LostTail", []uint32{0, 1}, senderLog{sent: 5}, tally{Expected: 5, Lost: 3}, []uint32{2, 3, 4}},
		{"LostMiddle", []uint32{0, 3, 4}, senderLog{sent: 5}, tally{Expected: 5, Lost: 2}, []uint32{1, 2}},
		{"RejectedGap", []uint32{0, 2}, senderLog{sent: 3, rejected: rej(1)}, tally{Expected: 2}, nil},
		{"RejectedTail", []uint32{0, 1}, senderLog{sent: 4, rejected: rej(2, 3)}, tally{Expected: 2}, nil},
		{"RejectedAndLost", []uint32{0}, senderLog{sent: 4, rejected: rej(1, 3)}, tally{Expected: 2, Lost: 1}, []uint32{2}},
		{"RejectedDelivered", []uint32{0, 1, 2}, senderLog{sent: 3, rejected: rej(1)}, tally{Expected: 2, Spurious: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stream
			for _, q := range tt.seen {
				s.see(q)
			}
			if diff := cmp.Diff(tt.want, account(&s, &tt.log)); diff != "" {
				t.Fatalf("tally (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMiss, missingSample(&s, &tt.log, 10)); diff != "" {
				t.Fatalf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMark(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		now := time.Now().UnixNano()
		req := appendSend(nil, 17, 4_000_000_000, now, 100)
		var in struct{ Action, RequestId, Content string }
		if err := json.Unmarshal(req, &in); err != nil {
			t.Fatalf("SEND_MESSAGE is not JSON: %v: %s", err, req)
		}
		if in.Action != "SEND_MESSAGE" || utf8.RuneCountInString(in.Content) != 100 {
			t.Fatalf("action=%q content length=%d, want SEND_MESSAGE and 100", in.Action, len(in.Content))
		}
		// Receivers see it inside a MESSAGE frame as the server writes it.
		m := parley.Message{ID: parley.NewID(), RequestID: in.RequestId, Content: in.Content, SendTime: time.Now()}
		s, q, ns, ok := findMark(m.AppendJSON(nil))
		if !ok || s != 17 || q != 4_000_000_000 || ns != now {
			t.Fatalf("findMark=(%d, %d, %d, %v), want (17, 4000000000, %d, true)", s, q, ns, ok, now)
		}
		s, q, ok = parseRequestID(in.RequestId)
		if !ok || s != 17 || q != 4_000_000_000 {
			t.Fatalf("parseRequestID(%q)=(%d, %d, %v)", in.RequestId, s, q, ok)
		}
	})
	t.Run("ShortPayload", func(t *testing.T) {
		c := appendMark(nil, 1, 2, 3, 1)
		if string(c) != "~pb:1:2:3~" {
			t.Fatalf("mark=%q, want the bare mark", c)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		for _, f := range []string{`{"Content":"hello"}`, `~pb:1:2~`, `~pb::2:3~`, `~pb:1:x:3~`, `~pb:1:2:3`, `~pb:1:99999999999:3~`} {
			if _, _, _, ok := findMark([]byte(f)); ok {
				t.Fatalf("findMark(%q) ok, want not found", f)
			}
		}
		for _, id := range []string{"", "pb-", "pb-1", "pb-1-", "x-1-2", "pb-a-1", "pb-1-2x"} {
			if _, _, ok := parseRequestID(id); ok {
				t.Fatalf("parseRequestID(%q) ok, want not", id)
			}
		}
	})
}

func TestSendersIn(t *testing.T) {
	for _, tc := range []struct{ rooms, senders int }{{1, 1}, {3, 6}, {3, 7}, {10, 3}, {4, 4}} {
		total := 0
		for room := range tc.rooms {
			n := sendersIn(room, tc.rooms, tc.senders)
			count := 0
			for k := range tc.senders {
				if k%tc.rooms == room {
					count++
				}
			}
			if n != count {
				t.Fatalf("sendersIn(%d, %d, %d)=%d, want %d", room, tc.rooms, tc.senders, n, count)
			}
			total += n
		}
		if total != tc.senders {
			t.Fatalf("rooms=%d senders=%d: total %d", tc.rooms, tc.senders, total)
		}
	}
}
