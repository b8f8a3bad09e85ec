// Package s3 delivers chat logs to an Amazon S3 bucket (or any compatible
// store, such as MinIO) in the IVS Chat layout: gzip-compressed,
// newline-delimited JSON objects under
// AWSLogs/<account>/IVSChatLogs/1.0/<region>/room_<roomId>/<YYYY>/<MM>/<DD>/<HH>/.
package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/internal/logrec"
)

var _ parley.LogDestination = (*Destination)(nil)

// Kind is the name this package registers its kind of destination
// configuration under (the S3 member of parley.DestinationConfiguration).
const Kind = "s3"

func init() { chatlog.Register(chatlog.Kind{Name: Kind, Target: Target}) }

// Target returns the bucket of an S3 destination configuration.
func Target(c parley.DestinationConfiguration) (string, bool) {
	if c.S3 == nil {
		return "", false
	}
	return c.S3.BucketName, true
}

// Opener returns a chatlog.Opener of Destinations writing through client.
func Opener(client Client) chatlog.Opener {
	return func(_ parley.DestinationConfiguration, bucket string) parley.LogDestination {
		return &Destination{Client: client, Bucket: bucket}
	}
}

// Client is the part of *s3.Client that Destination uses.
type Client interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadBucket(ctx context.Context, params *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// Destination writes one object per Deliver call.
type Destination struct {
	Client Client
	Bucket string
}

// Deliver writes records (JSON, without newlines) of one room as one object.
// The object name ends in a hash of its content rather than a random one,
// so that retrying a batch whose first attempt did succeed overwrites the
// same object instead of duplicating it.
func (d *Destination) Deliver(ctx context.Context, room parley.ARN, records [][]byte) error {
	key, body, err := Encode(room, records)
	if err != nil {
		return err
	}
	_, err = d.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(d.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/x-gzip"),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", d.Bucket, key, err)
	}
	return nil
}

// Batching returns LogBatchObject: one object per room per interval.
func (d *Destination) Batching() parley.LogBatching { return parley.LogBatchObject }

// Check returns ResourceNotFoundException when the bucket does not exist.
func (d *Destination) Check(ctx context.Context) error {
	_, err := d.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(d.Bucket)})
	if err == nil {
		return nil
	}
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	var api smithy.APIError
	if errors.As(err, &nf) || errors.As(err, &nsb) || errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchBucket") {
		return parley.Errorf(parley.ResourceNotFoundException, "S3 bucket %s does not exist", d.Bucket)
	}
	return fmt.Errorf("head bucket %s: %w", d.Bucket, err)
}

// Encode returns the object key and gzip-compressed body for records of
// room. The key's time is the first record's event_timestamp.
func Encode(room parley.ARN, records [][]byte) (key string, body []byte, err error) {
	var raw bytes.Buffer
	for _, r := range records {
		raw.Write(r)
		raw.WriteByte('\n')
	}
	sum := sha256.Sum256(raw.Bytes())
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(raw.Bytes()); err != nil {
		return "", nil, fmt.Errorf("compress chat log: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", nil, fmt.Errorf("compress chat log: %w", err)
	}
	t := time.Now()
	if len(records) > 0 {
		if rt := logrec.Time(records[0]); !rt.IsZero() {
			t = rt
		}
	}
	return Key(room, t, hex.EncodeToString(sum[:8])), gz.Bytes(), nil
}

// Key returns the IVS Chat object key for room at t with the given hash.
func Key(room parley.ARN, t time.Time, hash string) string {
	t = t.UTC()
	return fmt.Sprintf("AWSLogs/%s/IVSChatLogs/1.0/%s/room_%s/%s/%s_IVSChatLogs_1.0_%s_room_%s_%s_%s.log.gz",
		room.AccountID, room.Region, room.ID, t.Format("2006/01/02/15"),
		room.AccountID, room.Region, room.ID, t.Format("20060102T1504Z"), hash)
}
