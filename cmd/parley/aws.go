package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/parleychat/parley/review"
)

// endpointOr returns the specific endpoint, else the shared --aws-endpoint:
// the one place where that fallback is written.
func (c *Config) endpointOr(specific string) string {
	if specific != "" {
		return specific
	}
	return c.AWSEndpoint
}

// awsConfig loads the SDK's default configuration (credential chain,
// shared files) for the configured region.
func (c *Config) awsConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// newReviewer builds the review handler invoker: Lambda through the Invoke
// API, http(s) URLs by POST.
func (m *Main) newReviewer(ctx context.Context) (*review.Invoker, error) {
	c := &m.Config
	lc, err := review.NewLambdaClient(ctx, c.endpointOr(c.Review.LambdaEndpoint), c.Region)
	if err != nil {
		return nil, fmt.Errorf("lambda client: %w", err)
	}
	return &review.Invoker{Lambda: lc, HTTP: &http.Client{}, Registerer: m.metrics}, nil
}
