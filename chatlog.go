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

// LogDestination is where the records of one destination configuration
// go: a bucket, a log group, a delivery stream, or files standing in for
// one of them. chatlog/s3, chatlog/cloudwatch, chatlog/firehose and
// chatlog/local implement it.
type LogDestination interface {
	// Deliver stores records (each one JSON record, no newline) of the
	// room room, in order. A nil error means every record is stored; on
	// error the same records are delivered again later, so Deliver must
	// tolerate records it already stored.
	Deliver(ctx context.Context, room ARN, records [][]byte) error
	// Check returns ResourceNotFoundException when the bucket, log group or
	// delivery stream does not exist.
	Check(ctx context.Context) error
	// Batching says how the records given to Deliver are gathered.
	Batching() LogBatching
}

// LogBatching is how a LogDestination wants its records gathered.
type LogBatching int

const (
	// LogBatchStream delivers what is pending every flush interval, in
	// batches of at most 1 MiB (CloudWatch Logs, Firehose).
	LogBatchStream LogBatching = iota
	// LogBatchObject writes one object per room every object interval, or
	// sooner once enough bytes are pending (S3).
	LogBatchObject
)
