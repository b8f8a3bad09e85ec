package token

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/parleychat/parley"
)

// The claims are encoded as, in order:
//
//	ID, RoomID, RoomARN, UserID   strings
//	Capabilities                  count, then per capability a code byte
//	                              (capCodes), or 0 and a string for others
//	Attributes                    count, then key and value strings, keys sorted
//	ConnectDeadline, SessionExpiry  times
//
// A string is its length (uvarint) and bytes; a count is a uvarint; a time is
// Unix seconds (varint) and nanoseconds (uvarint), so times keep nanosecond
// precision and come back in UTC. Empty lists and maps come back nil.

// capCodes are the one-byte codes of the known capabilities.
var capCodes = []parley.Capability{
	1: parley.CapabilitySendMessage,
	2: parley.CapabilityDisconnectUser,
	3: parley.CapabilityDeleteMessage,
}

var errMalformed = errors.New("malformed token claims")

// encode writes the claims of t.
func encode(t *parley.ChatToken) []byte {
	n := 48 + len(t.ID) + len(t.RoomID) + len(t.RoomARN) + len(t.UserID) +
		len(t.Capabilities) + 2*len(t.Attributes) + parley.AttributesSize(t.Attributes)
	b := make([]byte, 0, n)
	for _, s := range []string{t.ID, t.RoomID, t.RoomARN, t.UserID} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(t.Capabilities)))
	for _, c := range t.Capabilities {
		if code := slices.Index(capCodes, c); code > 0 {
			b = append(b, byte(code))
		} else {
			b = appendString(append(b, 0), string(c))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(t.Attributes)))
	keys := make([]string, 0, len(t.Attributes))
	for k := range t.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendString(appendString(b, k), t.Attributes[k])
	}
	b = appendTime(b, t.ConnectDeadline)
	return appendTime(b, t.SessionExpiry)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendTime(b []byte, t time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(b, t.Unix()), uint64(t.Nanosecond()))
}

// decoder reads the encoding of encode; the first failure sticks. The
// strings it returns are slices of one copy of the claims, so that decoding
// allocates one string rather than one per claim.
type decoder struct {
	b   []byte
	s   string // the same bytes as b
	err error
}

// decode reads claims written by encode.
func decode(b []byte) (*parley.ChatToken, error) {
	s := string(b)
	d := &decoder{b: b, s: s}
	t := &parley.ChatToken{ID: d.string(), RoomID: d.string(), RoomARN: d.string(), UserID: d.string()}
	if n := d.count(); n > 0 {
		t.Capabilities = make([]parley.Capability, 0, n)
		for range n {
			t.Capabilities = append(t.Capabilities, d.capability())
		}
	}
	if n := d.count(); n > 0 {
		t.Attributes = make(map[string]string, n)
		for range n {
			k := d.string()
			t.Attributes[k] = d.string()
		}
	}
	t.ConnectDeadline = d.time()
	t.SessionExpiry = d.time()
	if d.err == nil && len(d.b) != 0 {
		d.err = errMalformed
	}
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

// skip drops the first n bytes of d.b and d.s.
func (d *decoder) skip(n int) {
	d.b, d.s = d.b[n:], d.s[n:]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errMalformed
		return 0
	}
	d.skip(n)
	return v
}

// count reads a count, which cannot exceed the bytes left (every element
// takes at least one byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errMalformed
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := d.s[:n]
	d.skip(n)
	return s
}

func (d *decoder) capability() parley.Capability {
	if d.err != nil || len(d.b) == 0 {
		d.err = errMalformed
		return ""
	}
	code := int(d.b[0])
	d.skip(1)
	switch {
	case code == 0:
		return parley.Capability(d.string())
	case code < len(capCodes):
		return capCodes[code]
	}
	d.err = errMalformed
	return ""
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	sec, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errMalformed
		return time.Time{}
	}
	d.skip(n)
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.err = errMalformed
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
