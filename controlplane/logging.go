package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley"
)

// DefaultMaxLoggingConfigurations is the quota when
// Quotas.MaxLoggingConfigurations is zero.
const DefaultMaxLoggingConfigurations = 10

// loggingInput is the input of CreateLoggingConfiguration and
// UpdateLoggingConfiguration.
type loggingInput struct {
	identifier  string
	name        *string
	destination *parley.DestinationConfiguration
	tags        map[string]string
}

// destination decodes the DestinationConfiguration union: exactly one
// member, with its required inner member.
func (f *fields) destination(name string) *parley.DestinationConfiguration {
	u := f.object(name)
	if u == nil {
		return nil
	}
	var d parley.DestinationConfiguration
	n := 0
	if o := u.object("s3"); o != nil {
		n++
		o.required("bucketName")
		d.S3 = &parley.S3Destination{BucketName: deref(o.strOf("bucketName", ruleBucketName))}
	}
	if o := u.object("cloudWatchLogs"); o != nil {
		n++
		o.required("logGroupName")
		d.CloudWatchLogs = &parley.CloudWatchLogsDestination{LogGroupName: deref(o.strOf("logGroupName", ruleLogGroupName))}
	}
	if o := u.object("firehose"); o != nil {
		n++
		o.required("deliveryStreamName")
		d.Firehose = &parley.FirehoseDestination{DeliveryStreamName: deref(o.strOf("deliveryStreamName", ruleDeliveryStream))}
	}
	if n != 1 {
		f.fail(name, "must set exactly one of s3, cloudWatchLogs, firehose")
	}
	return &d
}

func decodeCreateLogging(s *Server, req *request) (*loggingInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	f.required("destinationConfiguration")
	in := &loggingInput{
		name:        f.strOf("name", ruleName),
		destination: f.destination("destinationConfiguration"),
		tags:        f.mapOf("tags", parley.MaxTagsPerResource, ruleTagKey, ruleTagValue),
	}
	return in, f.err()
}

func decodeUpdateLogging(s *Server, req *request) (*loggingInput, error) {
	f, err := parseBody(req.body)
	if err != nil {
		return nil, err
	}
	f.required("identifier")
	in := &loggingInput{
		identifier:  deref(f.strOf("identifier", ruleLogIdentifier)),
		name:        f.strOf("name", ruleName),
		destination: f.destination("destinationConfiguration"),
	}
	return in, f.err()
}

func decodeLoggingIdentifier(s *Server, req *request) (*identifierInput, error) {
	return decodeIdentifier(req, ruleLogIdentifier)
}

func (s *Server) checkDestination(ctx context.Context, d *parley.DestinationConfiguration) error {
	if s.Destinations == nil || d == nil {
		return nil
	}
	if err := s.Destinations.CheckDestination(ctx, *d); err != nil {
		return fmt.Errorf("check destination: %w", err)
	}
	return nil
}

func (s *Server) createLogging(ctx context.Context, in *loggingInput) (any, error) {
	if err := s.checkDestination(ctx, in.destination); err != nil {
		return nil, err
	}
	now := s.stamp()
	id := parley.NewID()
	c := &parley.LoggingConfiguration{
		ID: id, ARN: s.arn(parley.ResourceLoggingConfiguration, id), Name: deref(in.name),
		Destination: *in.destination, State: parley.StateActive, Tags: in.tags,
		CreateTime: now, UpdateTime: now,
	}
	if c.Tags == nil {
		c.Tags = map[string]string{}
	}
	max := quota(s.Quotas.MaxLoggingConfigurations, DefaultMaxLoggingConfigurations)
	if err := s.Store.CreateLoggingConfiguration(ctx, c, max); err != nil {
		return nil, fmt.Errorf("create logging configuration: %w", err)
	}
	return loggingResponse(c), nil
}

func (s *Server) getLogging(ctx context.Context, in *identifierInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceLoggingConfiguration)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.FindLoggingConfiguration(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find logging configuration: %w", err)
	}
	return loggingResponse(c), nil
}

func (s *Server) updateLogging(ctx context.Context, in *loggingInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceLoggingConfiguration)
	if err != nil {
		return nil, err
	}
	cur, err := s.Store.FindLoggingConfiguration(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find logging configuration: %w", err)
	}
	if err := s.checkDestination(ctx, in.destination); err != nil {
		return nil, err
	}
	now := s.stamp()
	if next := cur.UpdateTime.Add(time.Millisecond); now.Before(next) {
		now = next
	}
	upd := parley.LoggingConfigurationUpdate{Name: in.name, Destination: in.destination}
	c, err := s.Store.UpdateLoggingConfiguration(ctx, id, upd, now)
	if err != nil {
		return nil, fmt.Errorf("update logging configuration: %w", err)
	}
	c.State = parley.StateActive
	return loggingResponse(c), nil
}

func (s *Server) deleteLogging(ctx context.Context, in *identifierInput) (any, error) {
	id, err := s.resolve(in.identifier, parley.ResourceLoggingConfiguration)
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteLoggingConfiguration(ctx, id); err != nil {
		return nil, fmt.Errorf("delete logging configuration: %w", err)
	}
	return noContent{}, nil
}
