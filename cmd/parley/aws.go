package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/review"
)

// endpointOr returns the specific endpoint, else the shared --aws-endpoint.
func (c *Config) endpointOr(specific string) string {
	if specific != "" {
		return specific
	}
	return c.AWSEndpoint
}

// openChatLog opens chat logging: to AWS (or compatible) services when an
// endpoint is configured, else to local files under the data dir.
func (m *Main) openChatLog(ctx context.Context) (*chatlog.Logger, error) {
	c := &m.Config
	cfg := chatlog.Config{
		Store:          m.store,
		SpoolDir:       filepath.Join(c.DataDir, "chatlog-spool"),
		MaxSpoolBytes:  c.ChatLog.SpoolMaxBytes,
		FlushInterval:  c.ChatLog.FlushInterval,
		ObjectInterval: c.ChatLog.ObjectInterval,
		LocalDir:       filepath.Join(c.DataDir, "chatlogs"),
		Logger:         m.Logger,
		Registerer:     m.registry,
	}
	s3, cw, fh := c.endpointOr(c.ChatLog.S3Endpoint), c.endpointOr(c.ChatLog.CloudWatchLogsEndpoint), c.endpointOr(c.ChatLog.FirehoseEndpoint)
	if s3 != "" || cw != "" || fh != "" {
		d, err := chatlog.NewDestinations(ctx, chatlog.DestinationsConfig{
			Region:                 c.Region,
			UsePathStyle:           true,
			S3Endpoint:             s3,
			CloudWatchLogsEndpoint: cw,
			FirehoseEndpoint:       fh,
		})
		if err != nil {
			return nil, fmt.Errorf("chat log destinations: %w", err)
		}
		cfg.Destinations = d
	}
	l, err := chatlog.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open chat log: %w", err)
	}
	return l, nil
}

// newReviewer builds the review handler invoker: Lambda through the Invoke
// API, http(s) URLs by POST.
func (m *Main) newReviewer(ctx context.Context) (*review.Invoker, error) {
	c := &m.Config
	lc, err := review.NewLambdaClient(ctx, c.endpointOr(c.Review.LambdaEndpoint), c.Region)
	if err != nil {
		return nil, fmt.Errorf("lambda client: %w", err)
	}
	return &review.Invoker{Lambda: lc, HTTP: &http.Client{}, Registerer: m.registry}, nil
}
