package controlplane_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"
)

func TestTags(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	room := e.mustCreateRoom(t, &ivschat.CreateRoomInput{Tags: map[string]string{"a": "1"}})
	lc, err := e.client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: s3Dest("bucket"), Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, arn string) map[string]string {
		t.Helper()
		out, err := e.client.ListTagsForResource(ctx, &ivschat.ListTagsForResourceInput{ResourceArn: &arn})
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		return out.Tags
	}
	for name, arn := range map[string]string{"Room": *room.Arn, "LoggingConfiguration": *lc.Arn} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(map[string]string{"a": "1"}, list(t, arn)); diff != "" {
				t.Fatalf("created tags (-want +got):\n%s", diff)
			}
			tags := map[string]string{"a": "2", "b c/d:e": "x y", "ünï": ""}
			if _, err := e.client.TagResource(ctx, &ivschat.TagResourceInput{ResourceArn: &arn, Tags: tags}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			if diff := cmp.Diff(tags, list(t, arn)); diff != "" {
				t.Fatalf("tags (-want +got):\n%s", diff)
			}
			_, err := e.client.UntagResource(ctx, &ivschat.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"b c/d:e", "absent"}})
			if err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			if diff := cmp.Diff(map[string]string{"a": "2", "ünï": ""}, list(t, arn)); diff != "" {
				t.Fatalf("after untag (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("GetRoomShowsTags", func(t *testing.T) {
		if diff := cmp.Diff(map[string]string{"a": "2", "ünï": ""}, e.mustGetRoom(t, *room.Arn).Tags); diff != "" {
			t.Fatalf("GetRoom tags (-want +got):\n%s", diff)
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		tags := map[string]string{}
		for i := 0; i < 49; i++ {
			tags[fmt.Sprint("k", i)] = "v"
		}
		_, err := e.client.TagResource(ctx, &ivschat.TagResourceInput{ResourceArn: room.Arn, Tags: tags})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || *ve.FieldList[0].Name != "tags" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
		if got := len(list(t, *room.Arn)); got != 2 {
			t.Fatalf("a failed TagResource left %d tags, want 2", got)
		}
	})
	t.Run("ErrNoTagKeys", func(t *testing.T) {
		_, err := e.client.UntagResource(ctx, &ivschat.UntagResourceInput{ResourceArn: room.Arn, TagKeys: []string{}})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || *ve.FieldList[0].Name != "tagKeys" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, arn := range []string{roomARN("ZZZZZZZZZZZZ"), "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/ZZZZZZZZZZZZ",
			"arn:aws:ivschat:us-west-2:123456789012:room/" + *room.Id} {
			_, err := e.client.ListTagsForResource(ctx, &ivschat.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			rnf := as[*types.ResourceNotFoundException](t, err)
			if id := aws.ToString(rnf.ResourceId); id != arn[len(arn)-12:] {
				t.Fatalf("%s: resourceId=%q", arn, id)
			}
			_, err = e.client.TagResource(ctx, &ivschat.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"a": "b"}})
			as[*types.ResourceNotFoundException](t, err)
			_, err = e.client.UntagResource(ctx, &ivschat.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}})
			as[*types.ResourceNotFoundException](t, err)
		}
	})
	t.Run("ErrBadArn", func(t *testing.T) {
		_, err := e.client.ListTagsForResource(ctx, &ivschat.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ivschat:us-east-1:123456789012:channel/AAAAAAAAAAAA")})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || *ve.FieldList[0].Name != "resourceArn" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
}
