// Package cloudwatch delivers chat logs to a CloudWatch Logs log group, one
// log stream per room named aws/IVSChatLogs/1.0/room_<roomId>, as IVS Chat
// does. Each log event is one JSON record; its timestamp is the record's
// event_timestamp.
package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/internal/logrec"
)

var _ parley.LogDestination = (*Destination)(nil)

// Kind is the name this package registers its kind of destination
// configuration under (the CloudWatchLogs member).
const Kind = "cloudwatch"

func init() { chatlog.Register(chatlog.Kind{Name: Kind, Target: Target}) }

// Target returns the log group of a CloudWatch Logs destination
// configuration.
func Target(c parley.DestinationConfiguration) (string, bool) {
	if c.CloudWatchLogs == nil {
		return "", false
	}
	return c.CloudWatchLogs.LogGroupName, true
}

// Opener returns a chatlog.Opener of Destinations writing through client.
func Opener(client Client) chatlog.Opener {
	return func(_ parley.DestinationConfiguration, group string) parley.LogDestination {
		return &Destination{Client: client, LogGroup: group}
	}
}

// PutLogEvents limits.
const (
	MaxBatchEvents = 10000
	MaxBatchBytes  = 1048576
	EventOverhead  = 26
	MaxBatchSpan   = 24 * time.Hour
)

// Client is the part of *cloudwatchlogs.Client that Destination uses.
type Client interface {
	PutLogEvents(ctx context.Context, params *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogStream(ctx context.Context, params *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	DescribeLogGroups(ctx context.Context, params *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
}

// Destination writes to one log group.
type Destination struct {
	Client   Client
	LogGroup string
}

// Batching returns LogBatchStream.
func (d *Destination) Batching() parley.LogBatching { return parley.LogBatchStream }

// StreamName returns the log stream of the room with the bare ID roomID.
func StreamName(roomID string) string { return "aws/IVSChatLogs/1.0/room_" + roomID }

// Deliver puts records (JSON) of one room into its stream, creating the
// stream when it is missing, in as many PutLogEvents calls as the limits
// require. Events are sorted by time (stable) first.
func (d *Destination) Deliver(ctx context.Context, room parley.ARN, records [][]byte) error {
	events := make([]types.InputLogEvent, len(records))
	for i, r := range records {
		events[i] = types.InputLogEvent{Message: aws.String(string(r)), Timestamp: aws.Int64(logrec.Time(r).UnixMilli())}
	}
	sort.SliceStable(events, func(i, j int) bool { return *events[i].Timestamp < *events[j].Timestamp })
	stream := StreamName(room.ID)
	for _, b := range Batches(events) {
		if err := d.put(ctx, stream, b); err != nil {
			return err
		}
	}
	return nil
}

func (d *Destination) put(ctx context.Context, stream string, events []types.InputLogEvent) error {
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(d.LogGroup), LogStreamName: aws.String(stream), LogEvents: events}
	_, err := d.Client.PutLogEvents(ctx, in)
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = d.Client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(d.LogGroup), LogStreamName: aws.String(stream)})
		var exists *types.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log stream %s in %s: %w", stream, d.LogGroup, err)
		}
		_, err = d.Client.PutLogEvents(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("put log events to %s/%s: %w", d.LogGroup, stream, err)
	}
	return nil
}

// Batches splits events (sorted by time) into PutLogEvents batches: at most
// MaxBatchEvents events and MaxBatchBytes bytes (message length plus
// EventOverhead each), spanning at most MaxBatchSpan.
func Batches(events []types.InputLogEvent) [][]types.InputLogEvent {
	var out [][]types.InputLogEvent
	start, size := 0, 0
	for i, e := range events {
		n := len(*e.Message) + EventOverhead
		span := time.Duration(*e.Timestamp-*events[start].Timestamp) * time.Millisecond
		if i > start && (i-start >= MaxBatchEvents || size+n > MaxBatchBytes || span > MaxBatchSpan) {
			out = append(out, events[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(events) {
		out = append(out, events[start:])
	}
	return out
}

// Check returns ResourceNotFoundException unless a log group has exactly
// the destination's name.
func (d *Destination) Check(ctx context.Context) error {
	in := &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(d.LogGroup)}
	for page := 0; page < 10; page++ {
		out, err := d.Client.DescribeLogGroups(ctx, in)
		if err != nil {
			return fmt.Errorf("describe log groups %s: %w", d.LogGroup, err)
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == d.LogGroup {
				return nil
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return parley.Errorf(parley.ResourceNotFoundException, "log group %s does not exist", d.LogGroup)
}
