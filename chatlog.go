package parley

import (
	"context"
	"time"
)

// LogRecordVersion is the version of the chat log record format.
const LogRecordVersion = "1.0"

// LogRecord is one MESSAGE or EVENT broadcast in a room, as chat logging
// writes it: Payload holds the exact frame that clients received.
type LogRecord struct {
	// Room is the room as the caller knows it (for a connection, the hub's
	// copy, which RoomUpdated keeps current): its ARN and the logging
	// configurations attached to it. It is shared and not modified.
	Room    *Room
	Time    time.Time // the frame's SendTime
	Type    string    // TypeMessage or TypeEvent
	Payload []byte
}

// AppendJSON appends the record in the IVS chat log format:
// {"event_timestamp":…,"type":…,"payload":…,"version":"1.0"}.
func (r *LogRecord) AppendJSON(b []byte) []byte {
	b = append(b, `{"event_timestamp":"`...)
	b = r.Time.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `","type":`...)
	b = AppendJSONString(b, r.Type)
	b = append(b, `,"payload":`...)
	b = append(b, r.Payload...)
	b = append(b, `,"version":"`+LogRecordVersion+`"}`...)
	return b
}

// ChatLog receives every MESSAGE and EVENT broadcast, once per deployment,
// from the node where it originated, after it was published, and logs it
// to the logging configurations attached to rec.Room. Record must not wait
// on a destination.
type ChatLog interface {
	Record(ctx context.Context, rec *LogRecord) error
}
