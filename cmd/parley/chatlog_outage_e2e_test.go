package main

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/parleychat/parley/chatlog/chatlogtest"
)

// destLabels are the metric labels of the three destinations of logDests.
var destLabels = []string{"s3:" + logBucket, "cloudwatch:" + logGroup, "firehose:" + logStream}

// setOutage takes every destination down (CloudWatch Logs and Firehose
// answer 503, S3 refuses connections) or brings them back.
func setOutage(t *testing.T, down bool, s3 *chatlogtest.S3, fake *chatlogtest.AWS) {
	t.Helper()
	s3Mode, awsMode := chatlogtest.Up, chatlogtest.Up
	if down {
		s3Mode, awsMode = chatlogtest.Refuse, chatlogtest.Unavailable
	}
	if err := s3.SetMode(s3Mode); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetMode(awsMode); err != nil {
		t.Fatal(err)
	}
}

// waitSpooledAndFailing waits until the server at addr spooled n records
// for every destination and saw CloudWatch Logs and Firehose fail.
func waitSpooledAndFailing(t *testing.T, addr string, n int) {
	t.Helper()
	waitFor(t, 20*time.Second, "records spooled and deliveries failing", func() bool {
		for _, l := range destLabels {
			if metric(t, addr, "parley_chatlog_records_spooled_total", "destination", l) < float64(n) {
				return false
			}
		}
		return metric(t, addr, "parley_chatlog_delivery_failures_total", "destination", destLabels[1]) >= 1 &&
			metric(t, addr, "parley_chatlog_delivery_failures_total", "destination", destLabels[2]) >= 1
	})
}

// outageEnv configures the AWS SDK for an outage test: one attempt per
// delivery, so that chat logging's own spool and retries do the work.
func outageEnv(t *testing.T) {
	setAWSEnv(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// waitDelivered waits for CloudWatch Logs and Firehose to hold n records
// of the room, then checks them against frames. At least once: since every
// stop happened while the destinations were down, no delivery succeeded
// unconfirmed, and the documented rule allows no duplicate here.
func waitDelivered(t *testing.T, fake *chatlogtest.AWS, roomID string, frames [][]byte) {
	t.Helper()
	waitFor(t, 30*time.Second, "CloudWatch Logs and Firehose to catch up", func() bool {
		return len(fake.LogEvents(logGroup, "aws/IVSChatLogs/1.0/room_"+roomID)) >= len(frames) && len(fake.Records(logStream)) >= len(frames)
	})
}

// TestChatLog_OutageRestart: the destinations are down while messages
// flow, the server is closed and a new one opened on the same data dir in
// the middle, more messages flow, the destinations come back: every record
// arrives exactly once, equal to what the clients saw.
func TestChatLog_OutageRestart(t *testing.T) {
	outageEnv(t)
	s3, fake := fakeDestinations(t)
	dir := t.TempDir()
	m := MustOpenMain(t, dir, endpoints(s3, fake))
	client := newClient(m.Addr, testAKID, testSecret)
	arn, id := loggedRoom(t, client)

	setOutage(t, true, s3, fake)
	frames := chatTraffic(t, m.Addr, client, arn, "before")
	waitSpooledAndFailing(t, m.Addr, len(frames))
	closeMain(t, m, time.Second) // gives up on the down destinations

	m = MustOpenMain(t, dir, endpoints(s3, fake))
	client = newClient(m.Addr, testAKID, testSecret)
	after := chatTraffic(t, m.Addr, client, arn, "after")
	waitSpooledAndFailing(t, m.Addr, len(after))
	frames = append(frames, after...)
	setOutage(t, false, s3, fake)

	waitDelivered(t, fake, id, frames)
	if err := closeMain(t, m, 20*time.Second); err != nil { // cuts the S3 objects
		t.Fatalf("Close: %v", err)
	}
	checkRecords(t, "CloudWatch Logs", cloudWatchLines(t, fake, id), frames)
	checkRecords(t, "Firehose", firehoseLines(t, fake), frames)
	checkS3(t, s3, id, frames)
}

// TestChatLog_OutageSIGKILL: as TestChatLog_OutageRestart, with the real
// binary killed by SIGKILL in the middle and stopped by SIGTERM at the end.
func TestChatLog_OutageSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	outageEnv(t)
	s3, fake := fakeDestinations(t)
	bin, dir := buildParley(t), t.TempDir()
	args := []string{"--data-dir", dir, "--s3-endpoint", s3.URL, "--cloudwatch-logs-endpoint", fake.URL,
		"--firehose-endpoint", fake.URL, "--chatlog-flush-interval", "50ms", "--api-rate-limits=false"}
	cmd, addr := startParley(t, bin, args...)
	client := newClient(addr, testAKID, testSecret)
	arn, id := loggedRoom(t, client)

	setOutage(t, true, s3, fake)
	frames := chatTraffic(t, addr, client, arn, "before")
	waitSpooledAndFailing(t, addr, len(frames))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	cmd, addr = startParley(t, bin, args...)
	client = newClient(addr, testAKID, testSecret)
	after := chatTraffic(t, addr, client, arn, "after")
	waitSpooledAndFailing(t, addr, len(after))
	frames = append(frames, after...)
	setOutage(t, false, s3, fake)

	waitDelivered(t, fake, id, frames)
	stopGracefully(t, cmd) // cuts the S3 objects
	checkRecords(t, "CloudWatch Logs", cloudWatchLines(t, fake, id), frames)
	checkRecords(t, "Firehose", firehoseLines(t, fake), frames)
	checkS3(t, s3, id, frames)
}

// stopGracefully sends SIGTERM and waits for a clean exit.
func stopGracefully(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}
