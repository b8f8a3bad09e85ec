// Package logrec reads what the destinations need from an encoded chat log
// record (parley.LogRecord.AppendJSON).
package logrec

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/parleychat/parley"
)

const prefix = `{"event_timestamp":"`

// Time returns the record's event_timestamp, or the zero time when the
// record does not start with one.
func Time(rec []byte) time.Time {
	if bytes.HasPrefix(rec, []byte(prefix)) && len(rec) >= len(prefix)+len(parley.TimeFormat) {
		s := rec[len(prefix) : len(prefix)+len(parley.TimeFormat)]
		if t, err := time.Parse(parley.TimeFormat, string(s)); err == nil {
			return t
		}
	}
	var v struct {
		EventTimestamp time.Time `json:"event_timestamp"`
	}
	json.Unmarshal(rec, &v)
	return v.EventTimestamp
}
