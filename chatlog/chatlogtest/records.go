package chatlogtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Record is one chat log record decoded field by field.
type Record struct {
	EventTimestamp string          `json:"event_timestamp"`
	Type           string          `json:"type"`
	Payload        json.RawMessage `json:"payload"`
	Version        string          `json:"version"`
}

// ParseRecords decodes records (one JSON object each, no unknown keys) and
// sorts them by payload, so that lists can be compared regardless of order.
func ParseRecords(lines []string) ([]Record, error) {
	var out []Record
	for _, s := range lines {
		var r Record
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("decode record %q: %w", s, err)
		}
		out = append(out, r)
	}
	SortRecords(out)
	return out, nil
}

// SortRecords sorts records by payload bytes.
func SortRecords(recs []Record) {
	sort.SliceStable(recs, func(i, j int) bool { return string(recs[i].Payload) < string(recs[j].Payload) })
}

// RecordOf returns the record that chat logging must write for a MESSAGE or
// EVENT frame as a client received it: the frame bytes as payload, its Type,
// and its SendTime cut to milliseconds as event_timestamp.
func RecordOf(frame []byte) (Record, error) {
	var f struct {
		Type     string
		SendTime time.Time
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		return Record{}, fmt.Errorf("decode frame %s: %w", frame, err)
	}
	if f.Type != "MESSAGE" && f.Type != "EVENT" {
		return Record{}, fmt.Errorf("frame of type %q is not logged", f.Type)
	}
	return Record{
		EventTimestamp: f.SendTime.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		Type:           f.Type, Payload: append(json.RawMessage(nil), frame...), Version: "1.0",
	}, nil
}

// Gunzip returns the lines of a gzip-compressed, newline-delimited .log.gz
// body. The body must end with a newline.
func Gunzip(body []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	if !bytes.HasSuffix(raw, []byte("\n")) {
		return nil, errors.New("object does not end with a newline")
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n"), nil
}
