package s3_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/chatlogtest"
	"github.com/parleychat/parley/chatlog/destinationtest"
	"github.com/parleychat/parley/chatlog/s3"
)

func TestDestination(t *testing.T) {
	destinationtest.Run(t, destinationtest.Harness{
		Batching: parley.LogBatchObject,
		New: func(t *testing.T) *destinationtest.Env {
			fake := chatlogtest.NewS3(t, "chat-logs")
			// No SDK retries: a failure reaches the caller at once.
			client := awss3.New(awss3.Options{
				Region: chatlogtest.Region, BaseEndpoint: aws.String(fake.URL), UsePathStyle: true, RetryMaxAttempts: 1,
				Credentials:                credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
			})
			return &destinationtest.Env{
				Dest:    &s3.Destination{Client: client, Bucket: "chat-logs"},
				Missing: &s3.Destination{Client: client, Bucket: "missing"},
				Stored: func(t *testing.T, rooms ...parley.ARN) []string {
					var out []string
					for _, room := range rooms {
						prefix := "AWSLogs/" + room.AccountID + "/IVSChatLogs/1.0/" + room.Region + "/room_" + room.ID + "/"
						l, err := fake.Lines(context.Background(), "chat-logs", prefix)
						if err != nil {
							t.Fatal(err)
						}
						out = append(out, l...)
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
