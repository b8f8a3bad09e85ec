package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/chatlog/s3"
)

// TestChatLogDestinations: a kind of destination goes to its service when
// it has an endpoint (its own or --aws-endpoint), else to local files.
func TestChatLogDestinations(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	fake := chatlogtest.NewAWS(t)
	fake.CreateLogGroup("g")
	ctx := context.Background()
	cw := parley.DestinationConfiguration{CloudWatchLogs: &parley.CloudWatchLogsDestination{LogGroupName: "g"}}
	bucket := parley.DestinationConfiguration{S3: &parley.S3Destination{BucketName: "b"}}
	stream := parley.DestinationConfiguration{Firehose: &parley.FirehoseDestination{DeliveryStreamName: "s"}}

	t.Run("OneEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1", CloudWatchLogsEndpoint: fake.URL}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dest := d[cloudwatch.Kind](cw, "g")
		if _, ok := dest.(*cloudwatch.Destination); !ok {
			t.Fatalf("CloudWatch Logs destination is %T, want *cloudwatch.Destination", dest)
		}
		if err := dest.Check(ctx); err != nil {
			t.Errorf("Check through the configured client: %v", err)
		}
		for name, got := range map[string]parley.LogDestination{"s3": d[s3.Kind](bucket, "b"), "firehose": d[firehose.Kind](stream, "s")} {
			if _, ok := got.(*local.Destination); !ok {
				t.Errorf("%s destination without an endpoint is %T, want *local.Destination", name, got)
			}
		}
	})
	t.Run("AWSEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1", AWSEndpoint: fake.URL}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := d[s3.Kind](bucket, "b").(*s3.Destination); !ok || got.Bucket != "b" {
			t.Errorf("S3 destination is %#v, want *s3.Destination of bucket b", got)
		}
		if _, ok := d[cloudwatch.Kind](cw, "g").(*cloudwatch.Destination); !ok {
			t.Errorf("CloudWatch Logs destination is not *cloudwatch.Destination")
		}
		if _, ok := d[firehose.Kind](stream, "s").(*firehose.Destination); !ok {
			t.Errorf("Firehose destination is not *firehose.Destination")
		}
	})
	t.Run("NoEndpoint", func(t *testing.T) {
		c := Config{DataDir: t.TempDir(), Region: "us-east-1"}
		d, err := c.chatLogDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for kind, open := range d {
			if _, ok := open(bucket, "b").(*local.Destination); !ok {
				t.Errorf("%s destination is not local", kind)
			}
		}
		if len(d) != 3 {
			t.Errorf("%d kinds, want 3", len(d))
		}
	})
}
