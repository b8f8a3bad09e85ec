package parley_test

import (
	"encoding"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
)

var (
	_ encoding.BinaryAppender    = (*parley.BusMessage)(nil)
	_ encoding.BinaryMarshaler   = (*parley.BusMessage)(nil)
	_ encoding.BinaryUnmarshaler = (*parley.BusMessage)(nil)
)

// fullRoom has every field of Room set, times with nanoseconds.
func fullRoom() *parley.Room {
	return &parley.Room{
		ID:                              "AbCdEf123456",
		ARN:                             "arn:aws:ivschat:us-east-1:000000000000:room/AbCdEf123456",
		Name:                            "lobby ☃",
		MaximumMessageRatePerSecond:     10,
		MaximumMessageLength:            500,
		MessageReviewHandler:            &parley.MessageReviewHandler{URI: "arn:aws:lambda:us-east-1:000000000000:function:f", FallbackResult: parley.FallbackDeny},
		LoggingConfigurationIdentifiers: []string{"arn:aws:ivschat:us-east-1:000000000000:logging-configuration/A", "arn:b"},
		Tags:                            map[string]string{"team": "video", "env": "", "z": "last"},
		CreateTime:                      time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC),
		UpdateTime:                      time.Date(2024, 3, 2, 13, 4, 5, 1, time.UTC),
		Version:                         1<<40 + 7,
	}
}

// busMessages covers every kind and every field, including the nil and
// empty forms that must stay distinct.
func busMessages() map[string]*parley.BusMessage {
	empty := fullRoom()
	empty.MessageReviewHandler = nil
	empty.LoggingConfigurationIdentifiers = []string{}
	empty.Tags = map[string]string{}
	empty.Version = 0
	bare := &parley.Room{ID: "R", CreateTime: time.Unix(-5, 999999999).UTC(), MaximumMessageLength: -1}
	return map[string]*parley.BusMessage{
		"Broadcast":      {Kind: parley.Broadcast, RoomID: "AbCdEf123456", Frame: []byte(`{"Type":"MESSAGE","Content":"hi"}`)},
		"RatedBroadcast": {Kind: parley.Broadcast, RoomID: "AbCdEf123456", Frame: []byte(`{"Type":"MESSAGE"}`), Origin: "node-2", Rated: true},
		"DisconnectUser": {Kind: parley.DisconnectUser, RoomID: "AbCdEf123456", Frame: []byte(`{"Type":"EVENT"}`), UserID: "user-ü"},
		"RoomUpdated":    {Kind: parley.RoomUpdated, RoomID: "AbCdEf123456", Room: fullRoom()},
		"RoomEmptyLists": {Kind: parley.RoomUpdated, RoomID: "AbCdEf123456", Room: empty},
		"RoomBare":       {Kind: parley.RoomUpdated, RoomID: "R", Room: bare},
		"RoomDeleted":    {Kind: parley.RoomDeleted, RoomID: "AbCdEf123456"},
		"LargeFrame":     {Kind: parley.Broadcast, RoomID: "R", Frame: []byte(strings.Repeat("x", 70000))},
	}
}

func TestBusMessageBinary(t *testing.T) {
	for name, m := range busMessages() {
		t.Run(name, func(t *testing.T) {
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var got parley.BusMessage
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if diff := cmp.Diff(m, &got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			if m.Room != nil && got.Room.UpdateTime.Location() != time.UTC {
				t.Fatalf("UpdateTime location %v, want UTC", got.Room.UpdateTime.Location())
			}
			again, _ := got.AppendBinary([]byte("prefix"))
			if string(again[6:]) != string(b) || string(again[:6]) != "prefix" {
				t.Fatalf("AppendBinary of the decoded message differs from MarshalBinary")
			}
			if len(m.Frame) > 0 {
				b[len(b)-len(m.Frame)-2] ^= 0xff // inside Frame (UserID, Origin, Rated and the Room flag follow)
				if got.Frame[len(got.Frame)-1] != m.Frame[len(m.Frame)-1] {
					t.Fatalf("decoded Frame aliases the input")
				}
			}
		})
	}
	t.Run("Compact", func(t *testing.T) {
		m := &parley.BusMessage{Kind: parley.Broadcast, RoomID: "AbCdEf123456", Frame: make([]byte, 200)}
		b, _ := m.MarshalBinary()
		if len(b) != 2+1+12+2+200+1+1+1+1 {
			t.Fatalf("len=%d, want %d", len(b), 2+1+12+2+200+1+1+1+1)
		}
	})
}

func TestBusMessageBinaryErrors(t *testing.T) {
	t.Run("ErrInvalidKind", func(t *testing.T) {
		for _, k := range []parley.BusKind{0, parley.RoomDeleted + 1} {
			if _, err := (&parley.BusMessage{Kind: k, RoomID: "R"}).MarshalBinary(); err == nil {
				t.Errorf("MarshalBinary with kind %d: nil error", k)
			}
		}
		var m *parley.BusMessage
		if _, err := m.AppendBinary(nil); err == nil {
			t.Errorf("AppendBinary of nil message: nil error")
		}
	})
	full, err := busMessages()["RoomUpdated"].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ErrTruncated", func(t *testing.T) {
		for n := range len(full) {
			var m parley.BusMessage
			if err := m.UnmarshalBinary(full[:n]); err == nil {
				t.Fatalf("UnmarshalBinary of the first %d of %d bytes: nil error, got %+v", n, len(full), m)
			}
		}
	})
	tagRoom := &parley.BusMessage{Kind: parley.RoomUpdated, RoomID: "R", Room: &parley.Room{Tags: map[string]string{"a": "1", "b": "2"}}}
	tagged, _ := tagRoom.MarshalBinary()
	dupTag := []byte(strings.Replace(string(tagged), "\x01b\x012", "\x01a\x012", 1))
	badNanos := binary.AppendUvarint(append([]byte(nil), tagged[:len(tagged)-2]...), uint64(time.Second))
	badNanos = append(badNanos, 0) // Version
	for name, data := range map[string][]byte{
		"ErrTrailing":     append(append([]byte(nil), full...), 0),
		"ErrVersion":      append([]byte{2}, full[1:]...),
		"ErrKind":         append([]byte{1, 9}, full[2:]...),
		"ErrPresenceByte": {1, 4, 1, 'R', 0, 0, 2},
		"ErrLength":       {1, 1, 0x7f, 'R'},
		"ErrUvarint":      {1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"ErrDuplicateTag": dupTag,
		"ErrNanoseconds":  badNanos,
		"ErrEmpty":        {},
	} {
		t.Run(name, func(t *testing.T) {
			var m parley.BusMessage
			m.RoomID = "unchanged"
			if err := m.UnmarshalBinary(data); err == nil {
				t.Fatalf("UnmarshalBinary(%q): nil error, got %+v", data, m)
			}
			if m.RoomID != "unchanged" {
				t.Fatalf("failed UnmarshalBinary changed the message: %+v", m)
			}
		})
	}
}

// FuzzBusMessage checks that decoding never panics and that whatever
// decodes re-encodes to an equal message.
func FuzzBusMessage(f *testing.F) {
	for _, m := range busMessages() {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m parley.BusMessage
		if err := m.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded message: %v", err)
		}
		var again parley.BusMessage
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary of a re-encoded message: %v", err)
		}
		if diff := cmp.Diff(&m, &again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		b2, _ := again.MarshalBinary()
		if string(b) != string(b2) {
			t.Fatalf("encoding not stable:\n%q\n%q", b, b2)
		}
	})
}
