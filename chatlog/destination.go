package chatlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awscwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awsfh "github.com/aws/aws-sdk-go-v2/service/firehose"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/chatlog/s3"
)

// Destination is where the records of one destination configuration go:
// chatlog/s3, chatlog/cloudwatch, chatlog/firehose and chatlog/local
// implement it.
type Destination interface {
	// Deliver stores records (each one JSON record, no newline) of the room
	// room, in order. A nil error means every record is stored; on error
	// the same records are delivered again later.
	Deliver(ctx context.Context, room parley.ARN, records [][]byte) error
	// Check returns ResourceNotFoundException when the bucket, log group or
	// delivery stream does not exist.
	Check(ctx context.Context) error
}

// Destinations holds the clients of the AWS services that chat logs go to.
// A nil client makes that kind of destination write under Config.LocalDir.
type Destinations struct {
	S3             s3.Client
	CloudWatchLogs cloudwatch.Client
	Firehose       firehose.Client
}

// DestinationsConfig says how cmd/parley reaches the AWS services.
type DestinationsConfig struct {
	// Endpoint is the endpoint of all three services (PARLEY_AWS_ENDPOINT),
	// unless a per-service endpoint is set.
	Endpoint               string
	S3Endpoint             string
	CloudWatchLogsEndpoint string
	FirehoseEndpoint       string
	// UseAWS sends logs of services with no endpoint configured to AWS's
	// own endpoints. When false, they are written under the local dir.
	UseAWS bool
	Region string
	// UsePathStyle addresses buckets as <endpoint>/<bucket> (MinIO).
	UsePathStyle bool
}

// NewDestinations creates clients with the SDK's default credential chain
// for the services that have an endpoint (or all of them with UseAWS).
func NewDestinations(ctx context.Context, c DestinationsConfig) (*Destinations, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Region))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	endpoint := func(specific string) (string, bool) {
		if specific == "" {
			specific = c.Endpoint
		}
		return specific, specific != "" || c.UseAWS
	}
	d := &Destinations{}
	if ep, ok := endpoint(c.S3Endpoint); ok {
		d.S3 = awss3.NewFromConfig(cfg, func(o *awss3.Options) {
			o.UsePathStyle = c.UsePathStyle
			// S3-compatible stores do not all accept the SDK's default
			// trailing checksums.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		})
	}
	if ep, ok := endpoint(c.CloudWatchLogsEndpoint); ok {
		d.CloudWatchLogs = awscwl.NewFromConfig(cfg, func(o *awscwl.Options) {
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		})
	}
	if ep, ok := endpoint(c.FirehoseEndpoint); ok {
		d.Firehose = awsfh.NewFromConfig(cfg, func(o *awsfh.Options) {
			if ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		})
	}
	return d, nil
}

// kindName returns the kind ("s3", "cloudwatch" or "firehose") and name of
// a destination configuration.
func kindName(c parley.DestinationConfiguration) (kind, name string, err error) {
	switch {
	case c.S3 != nil:
		return "s3", c.S3.BucketName, nil
	case c.CloudWatchLogs != nil:
		return "cloudwatch", c.CloudWatchLogs.LogGroupName, nil
	case c.Firehose != nil:
		return "firehose", c.Firehose.DeliveryStreamName, nil
	}
	return "", "", errors.New("empty destination configuration")
}

// newDestination returns the Destination for c: the AWS client of its kind,
// or the local directory when that client is nil.
func (l *Logger) newDestination(c parley.DestinationConfiguration) (Destination, error) {
	kind, name, err := kindName(c)
	if err != nil {
		return nil, err
	}
	var d Destinations
	if l.cfg.Destinations != nil {
		d = *l.cfg.Destinations
	}
	switch {
	case kind == "s3" && d.S3 != nil:
		return &s3.Destination{Client: d.S3, Bucket: name}, nil
	case kind == "cloudwatch" && d.CloudWatchLogs != nil:
		return &cloudwatch.Destination{Client: d.CloudWatchLogs, LogGroup: name}, nil
	case kind == "firehose" && d.Firehose != nil:
		return &firehose.Destination{Client: d.Firehose, Stream: name}, nil
	}
	return &local.Destination{Dir: l.cfg.LocalDir, Config: c}, nil
}

// queueName names the spool queue of a destination: readable, a valid file
// name, and unique thanks to a hash of kind and name.
func queueName(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 40 {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return kind + "-" + b.String() + "-" + hex.EncodeToString(sum[:6])
}

// CheckDestination returns ResourceNotFoundException when the bucket, log
// group or delivery stream of d does not exist. Local destinations always
// exist. It implements controlplane.DestinationChecker.
func (l *Logger) CheckDestination(ctx context.Context, d parley.DestinationConfiguration) error {
	dest, err := l.newDestination(d)
	if err != nil {
		return parley.Errorf(parley.ValidationException, "%v", err)
	}
	return dest.Check(ctx)
}

func encodeMeta(c parley.DestinationConfiguration) ([]byte, error) {
	return json.Marshal(c)
}

func decodeMeta(b []byte) (parley.DestinationConfiguration, error) {
	var c parley.DestinationConfiguration
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	_, _, err := kindName(c)
	return c, err
}
