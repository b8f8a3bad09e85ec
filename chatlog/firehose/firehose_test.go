package firehose_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsfh "github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/destinationtest"
	"github.com/parleychat/parley/chatlog/firehose"
)

func TestDestination(t *testing.T) {
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchStream,
		New: func(t *testing.T) *destinationtest.Env {
			fake := chatlogtest.NewAWS(t)
			fake.CreateDeliveryStream("chat")
			client := awsfh.New(awsfh.Options{
				Region: chatlogtest.Region, BaseEndpoint: aws.String(fake.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			})
			return &destinationtest.Env{
				Dest:    &firehose.Destination{Client: client, Stream: "chat", RetryDelay: time.Millisecond},
				Missing: &firehose.Destination{Client: client, Stream: "missing", RetryDelay: time.Millisecond},
				// A delivery stream mixes rooms: every record it got.
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					var out []string
					for _, r := range fake.Records("chat") {
						line, ok := strings.CutSuffix(r, "\n")
						if !ok {
							t.Fatalf("Firehose record %q does not end with a newline", r)
						}
						out = append(out, line)
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
