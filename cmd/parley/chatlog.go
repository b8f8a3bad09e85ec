package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awsfh "github.com/aws/aws-sdk-go-v2/service/firehose"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/firehose"
	"github.com/parleychat/parley/chatlog/jetstream"
	"github.com/parleychat/parley/chatlog/local"
	"github.com/parleychat/parley/chatlog/s3"
)

// openChatLog opens chat logging: to AWS (or compatible) services when an
// endpoint is configured, else to local files under the data dir. With a
// NATS URL (cluster mode) records wait for delivery in a JetStream stream
// that every node delivers from, so none is lost with a node; without one,
// in the on-disk spool under the data dir.
func (m *Main) openChatLog(ctx context.Context, natsURL string) (*chatlog.Logger, error) {
	c := &m.Config
	dests, err := c.chatLogDestinations(ctx)
	if err != nil {
		return nil, fmt.Errorf("chat log destinations: %w", err)
	}
	var sp chatlog.Spool // nil: the on-disk spool
	if natsURL != "" {
		js, err := jetstream.Dial(ctx, natsURL, jetstream.Options{MaxBytes: c.ChatLog.SpoolMaxBytes})
		if err != nil {
			return nil, fmt.Errorf("chat log spool: %w", err)
		}
		sp = js
	}
	l, err := chatlog.Open(ctx, chatlog.Config{
		Store:          m.store,
		Spool:          sp,
		SpoolDir:       filepath.Join(c.DataDir, "chatlog-spool"),
		MaxSpoolBytes:  c.ChatLog.SpoolMaxBytes,
		FlushInterval:  c.ChatLog.FlushInterval,
		ObjectInterval: c.ChatLog.ObjectInterval,
		Destinations:   dests,
		Logger:         m.Logger,
		Registerer:     m.metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("open chat log: %w", err)
	}
	return l, nil
}

// chatLogDestinations returns an Opener per kind of destination: the SDK
// client of the service when it has an endpoint (its own, or
// --aws-endpoint), else files under <data-dir>/chatlogs. The AWS
// configuration is loaded only when some endpoint is set.
func (c *Config) chatLogDestinations(ctx context.Context) (map[string]chatlog.Opener, error) {
	files := local.Opener(filepath.Join(c.DataDir, "chatlogs"))
	dests := map[string]chatlog.Opener{s3.Kind: files, cloudwatch.Kind: files, firehose.Kind: files}
	s3ep, cwep, fhep := c.endpointOr(c.ChatLog.S3Endpoint), c.endpointOr(c.ChatLog.CloudWatchLogsEndpoint), c.endpointOr(c.ChatLog.FirehoseEndpoint)
	if s3ep == "" && cwep == "" && fhep == "" {
		return dests, nil
	}
	cfg, err := c.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	if s3ep != "" {
		dests[s3.Kind] = s3.Opener(awss3.NewFromConfig(cfg, func(o *awss3.Options) {
			o.BaseEndpoint = aws.String(s3ep)
			o.UsePathStyle = true // <endpoint>/<bucket>, as MinIO wants
			// S3-compatible stores do not all accept the SDK's default
			// trailing checksums.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}))
	}
	if cwep != "" {
		dests[cloudwatch.Kind] = cloudwatch.Opener(awscwl.NewFromConfig(cfg, func(o *awscwl.Options) {
			o.BaseEndpoint = aws.String(cwep)
		}))
	}
	if fhep != "" {
		dests[firehose.Kind] = firehose.Opener(awsfh.NewFromConfig(cfg, func(o *awsfh.Options) {
			o.BaseEndpoint = aws.String(fhep)
		}))
	}
	return dests, nil
}
