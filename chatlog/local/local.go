// Package local writes chat logs under a directory, in the layout of the
// destination they were meant for, when no AWS endpoint is configured:
//
//	s3/<bucket>/AWSLogs/<account>/IVSChatLogs/1.0/<region>/room_<id>/<YYYY>/<MM>/<DD>/<HH>/<…>.log.gz
//	cloudwatch/<logGroup>/aws/IVSChatLogs/1.0/room_<id>.log   (NDJSON, appended)
//	firehose/<deliveryStream>/<YYYY-MM-DD>.log                (NDJSON by event date, appended)
//
// A '/' in a log group name makes subdirectories; "." and ".." path
// elements are written as "%2E" and "%2E%2E".
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/internal/logrec"
	"github.com/parleychat/parley/chatlog/s3"
)

var _ parley.LogDestination = (*Destination)(nil)

// Opener returns a chatlog.Opener of Destinations under dir, for any kind
// of destination configuration: cmd/parley uses it for the kinds that have
// no endpoint configured.
func Opener(dir string) chatlog.Opener {
	return func(c parley.DestinationConfiguration, _ string) parley.LogDestination {
		return &Destination{Dir: dir, Config: c}
	}
}

// Destination writes the records for one destination configuration under
// Dir.
type Destination struct {
	Dir    string
	Config parley.DestinationConfiguration
}

// Deliver writes records of one room and syncs the files.
func (d *Destination) Deliver(ctx context.Context, room parley.ARN, records [][]byte) error {
	c := d.Config
	switch {
	case c.S3 != nil:
		key, body, err := s3.Encode(room, records)
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(d.Dir, "s3", safePath(c.S3.BucketName), filepath.FromSlash(key)), body)
	case c.CloudWatchLogs != nil:
		path := filepath.Join(d.Dir, "cloudwatch", safePath(c.CloudWatchLogs.LogGroupName), safePath(cloudwatch.StreamName(room.ID))+".log")
		return appendLines(path, records)
	case c.Firehose != nil:
		byDate := map[string][][]byte{}
		var dates []string
		for _, r := range records {
			day := logrec.Time(r).UTC().Format("2006-01-02")
			if byDate[day] == nil {
				dates = append(dates, day)
			}
			byDate[day] = append(byDate[day], r)
		}
		for _, day := range dates {
			path := filepath.Join(d.Dir, "firehose", safePath(c.Firehose.DeliveryStreamName), day+".log")
			if err := appendLines(path, byDate[day]); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("local chat log: empty destination configuration")
}

// Batching returns LogBatchObject for S3 configurations (one object per
// room per interval, as S3 would get) and LogBatchStream for the others.
func (d *Destination) Batching() parley.LogBatching {
	if d.Config.S3 != nil {
		return parley.LogBatchObject
	}
	return parley.LogBatchStream
}

// Check accepts every destination: directories are created on demand.
func (d *Destination) Check(ctx context.Context) error { return nil }

// safePath turns a slash-separated name into a relative path that cannot
// leave its parent directory.
func safePath(name string) string {
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "":
			continue
		case ".":
			p = "%2E"
		case "..":
			p = "%2E%2E"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "_"
	}
	return filepath.Join(parts...)
}

// writeFile writes data to path atomically (temporary file, sync, rename).
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write chat log: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write chat log: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write chat log %s: %w", path, err)
	}
	return nil
}

// appendLines appends one line per record to path and syncs it.
func appendLines(path string, records [][]byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("append chat log: %w", err)
	}
	var buf []byte
	for _, r := range records {
		buf = append(append(buf, r...), '\n')
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append chat log: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append chat log %s: %w", path, err)
	}
	return nil
}
