package cloudwatch_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/cloudwatch"
	"github.com/parleychat/parley/chatlog/destinationtest"
)

func TestDestination(t *testing.T) {
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchStream,
		New: func(t *testing.T) *destinationtest.Env {
			fake := chatlogtest.NewAWS(t)
			fake.CreateLogGroup("/ivs/chat")
			client := cloudwatchlogs.New(cloudwatchlogs.Options{
				Region: chatlogtest.Region, BaseEndpoint: aws.String(fake.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			})
			return &destinationtest.Env{
				Dest:    &cloudwatch.Destination{Client: client, LogGroup: "/ivs/chat"},
				Missing: &cloudwatch.Destination{Client: client, LogGroup: "/ivs"}, // a prefix of a group is not a group
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					var out []string
					for _, room := range rooms {
						out = append(out, fake.Messages("/ivs/chat", cloudwatch.StreamName(room.ID))...)
					}
					return out
				},
				SetDown: func(t *testing.T, down bool) {
					mode := chatlogtest.Up
					if down {
						mode = chatlogtest.Unavailable
					}
					if err := fake.SetMode(mode); err != nil {
						t.Fatal(err)
					}
				},
			}
		},
	})
}
