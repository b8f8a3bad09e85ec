package controlplane_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/controlplane"
)

func s3Dest(bucket string) types.DestinationConfiguration {
	return &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: &bucket}}
}

func (e *env) mustCreateLogging(t *testing.T, d types.DestinationConfiguration) *ivschat.CreateLoggingConfigurationOutput {
	t.Helper()
	out, err := e.client.CreateLoggingConfiguration(context.Background(), &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: d})
	if err != nil {
		t.Fatalf("CreateLoggingConfiguration: %v", err)
	}
	return out
}

// destString describes a destination union value.
func destString(d types.DestinationConfiguration) string {
	switch v := d.(type) {
	case *types.DestinationConfigurationMemberS3:
		return "s3:" + aws.ToString(v.Value.BucketName)
	case *types.DestinationConfigurationMemberCloudWatchLogs:
		return "cloudWatchLogs:" + aws.ToString(v.Value.LogGroupName)
	case *types.DestinationConfigurationMemberFirehose:
		return "firehose:" + aws.ToString(v.Value.DeliveryStreamName)
	}
	return "?"
}

// missingDestinations is a DestinationChecker that knows no "missing" bucket.
type missingDestinations struct{}

func (missingDestinations) CheckDestination(_ context.Context, d parley.DestinationConfiguration) error {
	if d.S3 != nil && d.S3.BucketName == "missing" {
		return parley.NotFound("bucket", "missing")
	}
	return nil
}

func TestLoggingConfigurations(t *testing.T) {
	e := newEnv(t, func(s *controlplane.Server) { s.Destinations = missingDestinations{} })
	ctx := context.Background()
	dests := []types.DestinationConfiguration{
		s3Dest("my-bucket.logs"),
		&types.DestinationConfigurationMemberCloudWatchLogs{Value: types.CloudWatchLogsDestinationConfiguration{LogGroupName: aws.String("/ivs/chat#1")}},
		&types.DestinationConfigurationMemberFirehose{Value: types.FirehoseDestinationConfiguration{DeliveryStreamName: aws.String("stream_1.a")}},
	}
	for _, d := range dests {
		t.Run(destString(d), func(t *testing.T) {
			out, err := e.client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{
				DestinationConfiguration: d, Name: aws.String("cfg"), Tags: map[string]string{"a": "b"}})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if out.State != types.CreateLoggingConfigurationStateActive || destString(out.DestinationConfiguration) != destString(d) {
				t.Fatalf("state=%s destination=%s", out.State, destString(out.DestinationConfiguration))
			}
			got, err := e.client.GetLoggingConfiguration(ctx, &ivschat.GetLoggingConfigurationInput{Identifier: out.Arn})
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(
				[]any{*out.Arn, *out.Id, "cfg", destString(d), "ACTIVE", map[string]string{"a": "b"}, *out.CreateTime, *out.CreateTime},
				[]any{*got.Arn, *got.Id, *got.Name, destString(got.DestinationConfiguration), string(got.State), got.Tags, *got.CreateTime, *got.UpdateTime},
			); diff != "" {
				t.Fatalf("Get (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("Update", func(t *testing.T) {
		c := e.mustCreateLogging(t, s3Dest("one"))
		up, err := e.client.UpdateLoggingConfiguration(ctx, &ivschat.UpdateLoggingConfigurationInput{Identifier: c.Arn, Name: aws.String("renamed")})
		if err != nil {
			t.Fatal(err)
		}
		if *up.Name != "renamed" || destString(up.DestinationConfiguration) != "s3:one" || !up.UpdateTime.After(*c.UpdateTime) {
			t.Fatalf("after rename: %+v", up)
		}
		up2, err := e.client.UpdateLoggingConfiguration(ctx, &ivschat.UpdateLoggingConfigurationInput{Identifier: c.Arn, DestinationConfiguration: dests[2]})
		if err != nil {
			t.Fatal(err)
		}
		if *up2.Name != "renamed" || destString(up2.DestinationConfiguration) != destString(dests[2]) || up2.State != "ACTIVE" {
			t.Fatalf("after destination change: %+v", up2)
		}
	})
	t.Run("ErrDestinationNotFound", func(t *testing.T) {
		_, err := e.client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: s3Dest("missing")})
		as[*types.ResourceNotFoundException](t, err)
	})
	t.Run("ErrBucketName", func(t *testing.T) {
		_, err := e.client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: s3Dest("UPPER")})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || *ve.FieldList[0].Name != "destinationConfiguration.s3.bucketName" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
	t.Run("DeleteAttached", func(t *testing.T) {
		c := e.mustCreateLogging(t, s3Dest("att"))
		r := e.mustCreateRoom(t, &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: []string{*c.Arn}})
		_, err := e.client.DeleteLoggingConfiguration(ctx, &ivschat.DeleteLoggingConfigurationInput{Identifier: c.Arn})
		as[*types.ConflictException](t, err)
		if _, err := e.client.UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: r.Arn, LoggingConfigurationIdentifiers: []string{}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DeleteLoggingConfiguration(ctx, &ivschat.DeleteLoggingConfigurationInput{Identifier: c.Arn}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, err = e.client.GetLoggingConfiguration(ctx, &ivschat.GetLoggingConfigurationInput{Identifier: c.Arn})
		if got := aws.ToString(as[*types.ResourceNotFoundException](t, err).ResourceId); got != *c.Id {
			t.Fatalf("resourceId=%q, want %q", got, *c.Id)
		}
	})
}

func TestLoggingConfigurationQuota(t *testing.T) {
	e := newEnv(t, nil)
	for i := 0; i < controlplane.DefaultMaxLoggingConfigurations; i++ {
		e.mustCreateLogging(t, s3Dest("bucket"))
	}
	_, err := e.client.CreateLoggingConfiguration(context.Background(), &ivschat.CreateLoggingConfigurationInput{DestinationConfiguration: s3Dest("bucket")})
	if got := as[*types.ServiceQuotaExceededException](t, err).Limit; got != 10 {
		t.Fatalf("limit=%d, want 10", got)
	}
}
