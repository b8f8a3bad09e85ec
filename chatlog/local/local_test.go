package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/destinationtest"
	"github.com/parleychat/parley/chatlog/local"
)

// setDown makes writes under dir fail by putting a file in its place (as
// root, permissions would not stop them).
func setDown(dir string) func(t *testing.T, down bool) {
	return func(t *testing.T, down bool) {
		var err error
		if down {
			if err = os.Rename(dir, dir+".up"); err == nil || os.IsNotExist(err) {
				err = os.WriteFile(dir, []byte("not a directory"), 0o644)
			}
		} else if err = os.Remove(dir); err == nil {
			if err = os.Rename(dir+".up", dir); os.IsNotExist(err) {
				err = nil
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestS3(t *testing.T) {
	dest := parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "chat-logs"}}
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchObject,
		New: func(t *testing.T) *destinationtest.Env {
			dir := filepath.Join(t.TempDir(), "chatlogs")
			return &destinationtest.Env{
				Dest: local.Opener(dir)(dest, "chat-logs"),
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					var out []string
					for _, room := range rooms {
						objs, err := filepath.Glob(filepath.Join(dir, "s3", "chat-logs", "AWSLogs", room.AccountID, "IVSChatLogs", "1.0",
							room.Region, "room_"+room.ID, "*", "*", "*", "*", "*.log.gz"))
						if err != nil {
							t.Fatal(err)
						}
						for _, o := range objs {
							body, err := os.ReadFile(o)
							if err != nil {
								t.Fatal(err)
							}
							l, err := chatlogtest.Gunzip(body)
							if err != nil {
								t.Fatalf("%s: %v", o, err)
							}
							out = append(out, l...)
						}
					}
					return out
				},
				SetDown: setDown(dir),
			}
		},
	})
}

func TestCloudWatch(t *testing.T) {
	dest := parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "/ivs/chat"}}
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchStream,
		New: func(t *testing.T) *destinationtest.Env {
			dir := filepath.Join(t.TempDir(), "chatlogs")
			return &destinationtest.Env{
				Dest: local.Opener(dir)(dest, "/ivs/chat"),
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					var out []string
					for _, room := range rooms {
						out = append(out, readLines(t, filepath.Join(dir, "cloudwatch", "ivs", "chat", filepath.FromSlash(cloudwatch.StreamName(room.ID))+".log"))...)
					}
					return out
				},
				SetDown: setDown(dir),
			}
		},
	})
}

func TestFirehose(t *testing.T) {
	dest := parley.DestinationConfiguration{Firehose: &parley.FirehoseDestination{DeliveryStreamName: "chat"}}
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchStream,
		New: func(t *testing.T) *destinationtest.Env {
			dir := filepath.Join(t.TempDir(), "chatlogs")
			return &destinationtest.Env{
				Dest: local.Opener(dir)(dest, "chat"),
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					return readLines(t, filepath.Join(dir, "firehose", "chat", "2025-08-14.log"))
				},
				SetDown: setDown(dir),
			}
		},
	})
}
