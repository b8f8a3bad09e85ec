// Package firehose delivers chat logs to a Kinesis Data Firehose delivery
// stream: one record per chat log record, its JSON followed by a newline
// (so that the objects Firehose writes to S3 are newline-delimited JSON).
package firehose

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
)

var _ parley.LogDestination = (*Destination)(nil)

// Kind is the name this package registers its kind of destination
// configuration under (the Firehose member).
const Kind = "firehose"

func init() { chatlog.Register(chatlog.Kind{Name: Kind, Target: Target}) }

// Target returns the delivery stream of a Firehose destination
// configuration.
func Target(c parley.DestinationConfiguration) (string, bool) {
	if c.Firehose == nil {
		return "", false
	}
	return c.Firehose.DeliveryStreamName, true
}

// Opener returns a chatlog.Opener of Destinations writing through client.
func Opener(client Client) chatlog.Opener {
	return func(_ parley.DestinationConfiguration, stream string) parley.LogDestination {
		return &Destination{Client: client, Stream: stream}
	}
}

// PutRecordBatch limits.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 << 20
)

// Client is the part of *firehose.Client that Destination uses.
type Client interface {
	PutRecordBatch(ctx context.Context, params *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
	DescribeDeliveryStream(ctx context.Context, params *firehose.DescribeDeliveryStreamInput, optFns ...func(*firehose.Options)) (*firehose.DescribeDeliveryStreamOutput, error)
}

// Destination writes to one delivery stream.
type Destination struct {
	Client Client
	Stream string
	// Retries is how many times the records that failed in a batch
	// (FailedPutCount) are sent again before Deliver gives up. Zero means 5.
	Retries int
	// RetryDelay is the first pause before such a retry, doubled each time.
	// Zero means 100 ms.
	RetryDelay time.Duration
}

// Batching returns LogBatchStream.
func (d *Destination) Batching() parley.LogBatching { return parley.LogBatchStream }

// Deliver puts records in batches within the PutRecordBatch limits,
// retrying only the records the service reported as failed. When it gives
// up, the records that did succeed may be sent again by the caller's retry.
func (d *Destination) Deliver(ctx context.Context, room parley.ARN, records [][]byte) error {
	var batch []types.Record
	size := 0
	for _, r := range records {
		data := append(append(make([]byte, 0, len(r)+1), r...), '\n')
		if len(batch) > 0 && (len(batch) >= MaxBatchRecords || size+len(data) > MaxBatchBytes) {
			if err := d.putAll(ctx, batch); err != nil {
				return err
			}
			batch, size = nil, 0
		}
		batch = append(batch, types.Record{Data: data})
		size += len(data)
	}
	if len(batch) > 0 {
		return d.putAll(ctx, batch)
	}
	return nil
}

// putAll sends batch, then again the records that failed, until none is
// left or the retries are used up.
func (d *Destination) putAll(ctx context.Context, batch []types.Record) error {
	retries, delay := d.Retries, d.RetryDelay
	if retries <= 0 {
		retries = 5
	}
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		out, err := d.Client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(d.Stream), Records: batch})
		if err != nil {
			return fmt.Errorf("put record batch to %s: %w", d.Stream, err)
		}
		if aws.ToInt32(out.FailedPutCount) == 0 {
			return nil
		}
		var failed []types.Record
		for i, resp := range out.RequestResponses {
			if resp.ErrorCode != nil && i < len(batch) {
				failed = append(failed, batch[i])
			}
		}
		if len(failed) == 0 || len(out.RequestResponses) != len(batch) {
			failed = batch // cannot tell which failed: send them all again
		}
		if attempt >= retries {
			return fmt.Errorf("put record batch to %s: %d of %d records still failing", d.Stream, len(failed), len(batch))
		}
		batch = failed
		pause := delay << attempt
		pause = pause/2 + rand.N(pause/2+1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("put record batch to %s: %w", d.Stream, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// Check returns ResourceNotFoundException when the delivery stream does not
// exist.
func (d *Destination) Check(ctx context.Context) error {
	_, err := d.Client.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(d.Stream)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return parley.Errorf(parley.ResourceNotFoundException, "delivery stream %s does not exist", d.Stream)
	}
	if err != nil {
		return fmt.Errorf("describe delivery stream %s: %w", d.Stream, err)
	}
	return nil
}
