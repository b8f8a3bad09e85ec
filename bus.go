package parley

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// BusKind says what a BusMessage asks the nodes to do.
type BusKind uint8

// BusKind values.
const (
	// Broadcast delivers Frame (a MESSAGE or EVENT) to every connection in
	// the room.
	Broadcast BusKind = iota + 1
	// DisconnectUser delivers Frame (the aws:DISCONNECT_USER EVENT) to the
	// room, then closes every connection of UserID in the room cleanly.
	DisconnectUser
	// RoomUpdated carries the room's new settings in Room; live connections
	// apply them at once.
	RoomUpdated
	// RoomDeleted ends every session in the room.
	RoomDeleted
)

// BusMessage is what travels on the Bus. Frame is serialised once by the
// publisher and shared, read-only, by every recipient.
type BusMessage struct {
	Kind   BusKind
	RoomID string
	Frame  []byte
	UserID string
	Room   *Room

	// Origin names the node that published the message; empty where there
	// is only one.
	Origin string
	// Rated marks a Broadcast of a message a client sent: it counts
	// against the room's maximumMessageRatePerSecond, and every node in the
	// room counts the ones other nodes accepted (messaging).
	Rated bool
}

// Bus carries room traffic between the nodes of a deployment: every node
// that subscribed to a room gets every message published to it, in the
// order one publisher published them, including the publisher's own node.
type Bus interface {
	// Publish sends m to every subscriber of m.RoomID.
	Publish(ctx context.Context, m *BusMessage) error

	// Subscribe calls fn for every message published to roomID until the
	// returned function is called. fn must not block: it runs on the bus's
	// delivery path. Messages to one subscription are delivered one at a
	// time, in order.
	Subscribe(roomID string, fn func(*BusMessage)) (unsubscribe func(), err error)

	// Close stops delivery. A networked bus flushes what was published
	// before it returns, until ctx is done.
	Close(ctx context.Context) error
}

// Limiter answers whether one more event fits a rate. Keys name what is
// limited (an API operation, a room); limit is events per second.
type Limiter interface {
	// Allow reports whether an event under key fits limit per second, and
	// counts it when it does.
	Allow(key string, limit int) bool
}

// busWireVersion is the first byte of every encoded BusMessage. A node
// refuses messages of another version rather than guess at them.
const busWireVersion = 1

// valid reports whether k is one of the BusKind values.
func (k BusKind) valid() bool { return k >= Broadcast && k <= RoomDeleted }

// AppendBinary implements encoding.BinaryAppender: it appends the wire
// encoding of m to b and returns the extended slice. It fails only when
// m is nil or its Kind is not a BusKind value.
//
// The encoding is compact and versioned: a version byte, the kind, then
// RoomID, Frame, UserID and Origin, each as a uvarint length and its
// bytes, a byte for Rated, then the Room (a presence byte, then every field of Room in declaration
// order; integers as varints, times as Unix seconds and nanoseconds,
// lists and maps as a uvarint count plus one, zero meaning nil, tags in
// key order). Every field of Room round-trips, including Version; times
// come back in UTC.
func (m *BusMessage) AppendBinary(b []byte) ([]byte, error) {
	if m == nil {
		return b, errors.New("encode bus message: nil message")
	}
	if !m.Kind.valid() {
		return b, fmt.Errorf("encode bus message: invalid kind %d", m.Kind)
	}
	b = append(b, busWireVersion, byte(m.Kind))
	b = appendWireString(b, m.RoomID)
	b = binary.AppendUvarint(b, uint64(len(m.Frame)))
	b = append(b, m.Frame...)
	b = appendWireString(b, m.UserID)
	b = appendWireString(b, m.Origin)
	if m.Rated {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if m.Room == nil {
		return append(b, 0), nil
	}
	return appendWireRoom(append(b, 1), m.Room), nil
}

// MarshalBinary implements encoding.BinaryMarshaler with the encoding of
// AppendBinary.
func (m *BusMessage) MarshalBinary() ([]byte, error) {
	n := 16 + len(m.RoomID) + len(m.Frame) + len(m.UserID) + len(m.Origin)
	if m.Room != nil {
		n += 128 + len(m.Room.ARN) + len(m.Room.Name)
	}
	return m.AppendBinary(make([]byte, 0, n))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler: it replaces m
// with the message encoded in data, as AppendBinary writes it. Nothing of
// m aliases data. Malformed input (truncated, trailing bytes, an unknown
// version or kind, a duplicate tag, out-of-range numbers) is an error and
// leaves m unchanged; no input makes it panic.
func (m *BusMessage) UnmarshalBinary(data []byte) error {
	r := wireReader{b: data}
	if v := r.byte(); r.err == nil && v != busWireVersion {
		return fmt.Errorf("decode bus message: unsupported version %d", v)
	}
	var d BusMessage
	d.Kind = BusKind(r.byte())
	if r.err == nil && !d.Kind.valid() {
		return fmt.Errorf("decode bus message: invalid kind %d", d.Kind)
	}
	d.RoomID = r.string()
	if f := r.bytes(); len(f) > 0 {
		d.Frame = append([]byte(nil), f...)
	}
	d.UserID = r.string()
	d.Origin = r.string()
	d.Rated = r.flag()
	if r.flag() {
		d.Room = r.room()
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("decode bus message: %w", r.err)
	}
	*m = d
	return nil
}

func appendWireString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendWireTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendWireRoom(b []byte, r *Room) []byte {
	b = appendWireString(b, r.ID)
	b = appendWireString(b, r.ARN)
	b = appendWireString(b, r.Name)
	b = binary.AppendVarint(b, int64(r.MaximumMessageRatePerSecond))
	b = binary.AppendVarint(b, int64(r.MaximumMessageLength))
	if h := r.MessageReviewHandler; h != nil {
		b = append(b, 1)
		b = appendWireString(b, h.URI)
		b = appendWireString(b, string(h.FallbackResult))
	} else {
		b = append(b, 0)
	}
	if ids := r.LoggingConfigurationIdentifiers; ids != nil {
		b = binary.AppendUvarint(b, uint64(len(ids))+1)
		for _, id := range ids {
			b = appendWireString(b, id)
		}
	} else {
		b = append(b, 0)
	}
	if r.Tags != nil {
		b = binary.AppendUvarint(b, uint64(len(r.Tags))+1)
		for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
			b = appendWireString(b, k)
			b = appendWireString(b, r.Tags[k])
		}
	} else {
		b = append(b, 0)
	}
	b = appendWireTime(b, r.CreateTime)
	b = appendWireTime(b, r.UpdateTime)
	return binary.AppendVarint(b, r.Version)
}

// wireReader reads the fields AppendBinary writes. The first error sticks:
// later reads return zero values, so callers check err once at the end.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *wireReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("unexpected end of input")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// flag reads a presence byte: 0 or 1.
func (r *wireReader) flag() bool {
	switch c := r.byte(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("invalid presence byte %d", c)
		return false
	}
}

func (r *wireReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("malformed uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("malformed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads a varint that must fit an int.
func (r *wireReader) int() int {
	v := r.varint()
	if int64(int(v)) != v {
		r.fail("integer %d out of range", v)
		return 0
	}
	return int(v)
}

// count reads a uvarint that must not exceed what is left of the input,
// since every counted item takes at least one byte.
func (r *wireReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("length %d exceeds the %d bytes left", n, len(r.b))
		return 0
	}
	return int(n)
}

// bytes returns the next length-prefixed field, aliasing the input.
func (r *wireReader) bytes() []byte {
	n := r.count()
	if r.err != nil {
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}

func (r *wireReader) string() string { return string(r.bytes()) }

// optionalCount reads a count written plus one; ok is false for nil.
func (r *wireReader) optionalCount() (n int, ok bool) {
	c := r.count()
	if c == 0 {
		return 0, false
	}
	return c - 1, true
}

func (r *wireReader) time() time.Time {
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= uint64(time.Second) {
		r.fail("nanoseconds %d out of range", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *wireReader) room() *Room {
	room := &Room{ID: r.string(), ARN: r.string(), Name: r.string()}
	room.MaximumMessageRatePerSecond = r.int()
	room.MaximumMessageLength = r.int()
	if r.flag() {
		room.MessageReviewHandler = &MessageReviewHandler{URI: r.string(), FallbackResult: FallbackResult(r.string())}
	}
	if n, ok := r.optionalCount(); ok {
		room.LoggingConfigurationIdentifiers = make([]string, n)
		for i := range n {
			room.LoggingConfigurationIdentifiers[i] = r.string()
		}
	}
	if n, ok := r.optionalCount(); ok {
		room.Tags = make(map[string]string, n)
		for range n {
			k, v := r.string(), r.string()
			if _, dup := room.Tags[k]; dup && r.err == nil {
				r.fail("duplicate tag %q", k)
			}
			room.Tags[k] = v
		}
	}
	room.CreateTime = r.time()
	room.UpdateTime = r.time()
	room.Version = r.varint()
	return room
}
