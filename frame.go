package parley

import (
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// Frame types sent to messaging clients.
const (
	TypeMessage = "MESSAGE"
	TypeEvent   = "EVENT"
	TypeError   = "ERROR"
)

// Names of the system events and their attributes.
const (
	EventDeleteMessage  = "aws:DELETE_MESSAGE"
	EventDisconnectUser = "aws:DISCONNECT_USER"
)

// Message is a MESSAGE frame: a chat message as every client in the room
// receives it.
type Message struct {
	ID         string
	RequestID  string
	Attributes map[string]string // nil is sent as null
	Content    string
	SendTime   time.Time
	Sender     Sender
}

// Sender is the author of a Message, taken from their chat token.
type Sender struct {
	UserID     string
	Attributes map[string]string // nil is sent as {}
}

// Event is an EVENT frame: an application event from SendEvent or a system
// event (aws:DELETE_MESSAGE, aws:DISCONNECT_USER).
type Event struct {
	ID         string
	RequestID  string
	EventName  string
	Attributes map[string]string // nil is sent as {}
	SendTime   time.Time
}

// ErrorFrame is an ERROR frame, sent only to the connection whose request
// failed. Code is the HTTP-like number of the IVS messaging API.
type ErrorFrame struct {
	ID        string
	RequestID string
	Code      int
	Message   string
}

// AppendJSON appends the frame as the IVS messaging API writes it, with the
// keys in the order the real service sends them.
func (m *Message) AppendJSON(b []byte) []byte {
	b = append(b, `{"Type":"MESSAGE","Id":`...)
	b = AppendJSONString(b, m.ID)
	b = append(b, `,"RequestId":`...)
	b = AppendJSONString(b, m.RequestID)
	b = append(b, `,"Attributes":`...)
	if m.Attributes == nil {
		b = append(b, "null"...)
	} else {
		b = appendStringMap(b, m.Attributes)
	}
	b = append(b, `,"Content":`...)
	b = AppendJSONString(b, m.Content)
	b = append(b, `,"SendTime":`...)
	b = AppendSendTime(b, m.SendTime)
	b = append(b, `,"Sender":{"UserId":`...)
	b = AppendJSONString(b, m.Sender.UserID)
	b = append(b, `,"Attributes":`...)
	b = appendStringMap(b, m.Sender.Attributes)
	return append(b, "}}"...)
}

// AppendJSON appends the EVENT frame.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"Type":"EVENT","Id":`...)
	b = AppendJSONString(b, e.ID)
	b = append(b, `,"RequestId":`...)
	b = AppendJSONString(b, e.RequestID)
	b = append(b, `,"EventName":`...)
	b = AppendJSONString(b, e.EventName)
	b = append(b, `,"Attributes":`...)
	b = appendStringMap(b, e.Attributes)
	b = append(b, `,"SendTime":`...)
	b = AppendSendTime(b, e.SendTime)
	return append(b, '}')
}

// AppendJSON appends the ERROR frame; ErrorCode is a JSON number.
func (e *ErrorFrame) AppendJSON(b []byte) []byte {
	b = append(b, `{"Type":"ERROR","Id":`...)
	b = AppendJSONString(b, e.ID)
	b = append(b, `,"RequestId":`...)
	b = AppendJSONString(b, e.RequestID)
	b = append(b, `,"ErrorCode":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"ErrorMessage":`...)
	b = AppendJSONString(b, e.Message)
	return append(b, '}')
}

// AppendSendTime appends t as a JSON string in the real service's SendTime
// format: RFC 3339 in UTC with up to nine fractional digits, trailing zeros
// trimmed.
func AppendSendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k)
		b = append(b, ':')
		b = AppendJSONString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; U+2028 and U+2029 are escaped so the output is also
// valid JavaScript.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
