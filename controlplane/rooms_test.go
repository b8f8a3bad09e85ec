package controlplane_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/controlplane"
)

// roomView is the comparable part of a room output.
type roomView struct {
	Name           string
	Rate, Length   int32
	Handler        *types.MessageReviewHandler
	Tags           map[string]string
	Logging        []string
	Create, Update time.Time
}

func viewOf(o *ivschat.GetRoomOutput) roomView {
	return roomView{aws.ToString(o.Name), aws.ToInt32(o.MaximumMessageRatePerSecond), aws.ToInt32(o.MaximumMessageLength),
		o.MessageReviewHandler, o.Tags, o.LoggingConfigurationIdentifiers, aws.ToTime(o.CreateTime), aws.ToTime(o.UpdateTime)}
}

var cmpHandler = cmp.Comparer(func(a, b *types.MessageReviewHandler) bool {
	if a == nil || b == nil {
		return a == b
	}
	return aws.ToString(a.Uri) == aws.ToString(b.Uri) && a.FallbackResult == b.FallbackResult
})

func (e *env) mustCreateRoom(t *testing.T, in *ivschat.CreateRoomInput) *ivschat.CreateRoomOutput {
	t.Helper()
	if in == nil {
		in = &ivschat.CreateRoomInput{}
	}
	out, err := e.client.CreateRoom(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return out
}

func (e *env) mustGetRoom(t *testing.T, arn string) *ivschat.GetRoomOutput {
	t.Helper()
	out, err := e.client.GetRoom(context.Background(), &ivschat.GetRoomInput{Identifier: &arn})
	if err != nil {
		t.Fatalf("GetRoom: %v", err)
	}
	return out
}

func TestCreateRoom(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	t.Run("Defaults", func(t *testing.T) {
		out := e.mustCreateRoom(t, nil)
		if !parley.ValidID(aws.ToString(out.Id)) || aws.ToString(out.Arn) != roomARN(aws.ToString(out.Id)) {
			t.Fatalf("id=%q arn=%q", aws.ToString(out.Id), aws.ToString(out.Arn))
		}
		if !out.CreateTime.Equal(*out.UpdateTime) || out.CreateTime.Nanosecond()%1e6 != 0 {
			t.Fatalf("createTime=%v updateTime=%v", out.CreateTime, out.UpdateTime)
		}
		want := roomView{Rate: 10, Length: 500, Tags: map[string]string{}, Logging: []string{},
			Create: *out.CreateTime, Update: *out.UpdateTime}
		got := viewOf(e.mustGetRoom(t, *out.Arn))
		if diff := cmp.Diff(want, got, cmpHandler); diff != "" {
			t.Fatalf("GetRoom (-want +got):\n%s", diff)
		}
	})
	t.Run("AllMembers", func(t *testing.T) {
		out := e.mustCreateRoom(t, &ivschat.CreateRoomInput{
			Name: aws.String("lobby-1"), MaximumMessageRatePerSecond: aws.Int32(100), MaximumMessageLength: aws.Int32(1),
			MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String("arn:aws:lambda:us-east-1:123456789012:function:review")},
			Tags:                 map[string]string{"team": "a", "empty": ""},
		})
		got := viewOf(e.mustGetRoom(t, *out.Arn))
		want := roomView{Name: "lobby-1", Rate: 100, Length: 1,
			Handler: &types.MessageReviewHandler{Uri: aws.String("arn:aws:lambda:us-east-1:123456789012:function:review"), FallbackResult: types.FallbackResultAllow},
			Tags:    map[string]string{"team": "a", "empty": ""}, Logging: []string{}, Create: *out.CreateTime, Update: *out.UpdateTime}
		if diff := cmp.Diff(want, got, cmpHandler); diff != "" {
			t.Fatalf("GetRoom (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want.Handler, out.MessageReviewHandler, cmpHandler); diff != "" {
			t.Fatalf("CreateRoom handler (-want +got):\n%s", diff)
		}
	})
	t.Run("ErrUnknownLoggingConfiguration", func(t *testing.T) {
		arn := "arn:aws:ivschat:us-east-1:123456789012:logging-configuration/AAAAAAAAAAAA"
		_, err := e.client.CreateRoom(ctx, &ivschat.CreateRoomInput{LoggingConfigurationIdentifiers: []string{arn}})
		if got := aws.ToString(as[*types.ResourceNotFoundException](t, err).ResourceId); got != "AAAAAAAAAAAA" {
			t.Fatalf("resourceId=%q", got)
		}
	})
	t.Run("ErrValidation", func(t *testing.T) {
		_, err := e.client.CreateRoom(ctx, &ivschat.CreateRoomInput{MaximumMessageLength: aws.Int32(501), Name: aws.String("no spaces")})
		ve := as[*types.ValidationException](t, err)
		var names []string
		for _, f := range ve.FieldList {
			names = append(names, aws.ToString(f.Name))
		}
		if diff := cmp.Diff([]string{"name", "maximumMessageLength"}, names); diff != "" || ve.Reason != types.ValidationExceptionReasonFieldValidationFailed {
			t.Fatalf("reason=%s fieldList (-want +got):\n%s", ve.Reason, diff)
		}
	})
}

func TestRoomQuota(t *testing.T) {
	e := newEnv(t, func(s *controlplane.Server) { s.Quotas.MaxRooms = 2; s.MaxRoomRate = 5 })
	e.mustCreateRoom(t, nil)
	e.mustCreateRoom(t, nil)
	_, err := e.client.CreateRoom(context.Background(), &ivschat.CreateRoomInput{})
	if got := as[*types.ServiceQuotaExceededException](t, err).Limit; got != 2 {
		t.Fatalf("limit=%d, want 2", got)
	}
	t.Run("MaxRoomRate", func(t *testing.T) {
		_, err := e.client.UpdateRoom(context.Background(), &ivschat.UpdateRoomInput{
			Identifier: aws.String(roomARN("AAAAAAAAAAAA")), MaximumMessageRatePerSecond: aws.Int32(6)})
		as[*types.ValidationException](t, err)
	})
}

func TestGetRoom(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for name, arn := range map[string]string{
		"Unknown":      roomARN("AAAAAAAAAAAA"),
		"OtherAccount": "arn:aws:ivschat:us-east-1:999999999999:room/AAAAAAAAAAAA",
		"OtherRegion":  "arn:aws:ivschat:eu-west-1:123456789012:room/AAAAAAAAAAAA",
	} {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := e.client.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: &arn})
			rnf := as[*types.ResourceNotFoundException](t, err)
			if aws.ToString(rnf.ResourceId) != "AAAAAAAAAAAA" || rnf.ResourceType != types.ResourceTypeRoom {
				t.Fatalf("resourceId=%q resourceType=%q", aws.ToString(rnf.ResourceId), rnf.ResourceType)
			}
		})
	}
	t.Run("ErrBareID", func(t *testing.T) {
		_, err := e.client.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: aws.String("AAAAAAAAAAAA")})
		ve := as[*types.ValidationException](t, err)
		if len(ve.FieldList) != 1 || aws.ToString(ve.FieldList[0].Name) != "identifier" {
			t.Fatalf("fieldList=%+v", ve.FieldList)
		}
	})
}

func TestUpdateRoom(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	lc, err := e.client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("logs")}}})
	if err != nil {
		t.Fatalf("CreateLoggingConfiguration: %v", err)
	}
	lambda := "arn:aws:lambda:us-east-1:123456789012:function:f"
	created := e.mustCreateRoom(t, &ivschat.CreateRoomInput{
		Name: aws.String("a"), MaximumMessageLength: aws.Int32(200), Tags: map[string]string{"k": "v"},
		MessageReviewHandler:            &types.MessageReviewHandler{Uri: &lambda, FallbackResult: types.FallbackResultDeny},
		LoggingConfigurationIdentifiers: []string{*lc.Arn},
	})
	arn := *created.Arn
	bus := e.subscribe(t, *created.Id)
	want := viewOf(e.mustGetRoom(t, arn))
	steps := []struct {
		name   string
		in     ivschat.UpdateRoomInput
		change func(v *roomView)
	}{
		{"NothingChanges", ivschat.UpdateRoomInput{}, func(v *roomView) {}},
		{"Name", ivschat.UpdateRoomInput{Name: aws.String("b")}, func(v *roomView) { v.Name = "b" }},
		{"Limits", ivschat.UpdateRoomInput{MaximumMessageRatePerSecond: aws.Int32(3), MaximumMessageLength: aws.Int32(7)},
			func(v *roomView) { v.Rate, v.Length = 3, 7 }},
		{"FallbackOnly", ivschat.UpdateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{FallbackResult: types.FallbackResultAllow}},
			func(v *roomView) {
				v.Handler = &types.MessageReviewHandler{Uri: &lambda, FallbackResult: types.FallbackResultAllow}
			}},
		{"RemoveHandler", ivschat.UpdateRoomInput{MessageReviewHandler: &types.MessageReviewHandler{Uri: aws.String("")}},
			func(v *roomView) { v.Handler = nil }},
		{"ClearLogging", ivschat.UpdateRoomInput{LoggingConfigurationIdentifiers: []string{}},
			func(v *roomView) { v.Logging = []string{} }},
		{"SetLogging", ivschat.UpdateRoomInput{LoggingConfigurationIdentifiers: []string{*lc.Arn}},
			func(v *roomView) { v.Logging = []string{*lc.Arn} }},
	}
	for i, step := range steps {
		in := step.in
		in.Identifier = &arn
		out, err := e.client.UpdateRoom(ctx, &in)
		if err != nil {
			t.Fatalf("%s: UpdateRoom: %v", step.name, err)
		}
		if !out.UpdateTime.After(want.Update) {
			t.Fatalf("%s: updateTime %v is not after %v", step.name, out.UpdateTime, want.Update)
		}
		step.change(&want)
		want.Update = *out.UpdateTime
		if diff := cmp.Diff(want, viewOf(e.mustGetRoom(t, arn)), cmpHandler); diff != "" {
			t.Fatalf("%s: GetRoom (-want +got):\n%s", step.name, diff)
		}
		msgs := bus.wait(t, i+1)
		m := msgs[i]
		if m.Kind != parley.RoomUpdated || m.RoomID != *created.Id || m.Room == nil || m.Room.Name != want.Name {
			t.Fatalf("%s: bus message %+v", step.name, m)
		}
	}
	t.Run("ErrUnknownRoom", func(t *testing.T) {
		_, err := e.client.UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: aws.String(roomARN("BBBBBBBBBBBB"))})
		as[*types.ResourceNotFoundException](t, err)
	})
}

func TestDeleteRoom(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r := e.mustCreateRoom(t, nil)
	bus := e.subscribe(t, *r.Id)
	if _, err := e.client.DeleteRoom(ctx, &ivschat.DeleteRoomInput{Identifier: r.Arn}); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if m := bus.wait(t, 1)[0]; m.Kind != parley.RoomDeleted || m.RoomID != *r.Id {
		t.Fatalf("bus message %+v", m)
	}
	_, err := e.client.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: r.Arn})
	as[*types.ResourceNotFoundException](t, err)
	_, err = e.client.DeleteRoom(ctx, &ivschat.DeleteRoomInput{Identifier: r.Arn})
	as[*types.ResourceNotFoundException](t, err)
}
