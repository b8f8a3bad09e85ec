package controlplane_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley/controlplane"
)

func TestListRoomsPaginator(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	want := map[string]bool{}
	for i := 0; i < 57; i++ {
		want[*e.mustCreateRoom(t, nil).Id] = true
	}
	seen := map[string]bool{}
	p := ivschat.NewListRoomsPaginator(e.client, &ivschat.ListRoomsInput{})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for i, r := range out.Rooms {
			if seen[*r.Id] {
				t.Fatalf("room %s listed twice", *r.Id)
			}
			seen[*r.Id] = true
			if i > 0 && r.UpdateTime.After(*out.Rooms[i-1].UpdateTime) {
				t.Fatalf("rooms not sorted by updateTime descending")
			}
		}
		// Rooms added while paginating sort first and are not listed.
		e.mustCreateRoom(t, nil)
	}
	if pages != 2 {
		t.Fatalf("pages=%d, want 2", pages)
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("rooms listed (-want +got):\n%s", diff)
	}
}

func TestListRoomsSmallPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append([]string{*e.mustCreateRoom(t, nil).Id}, ids...) // newest first
	}
	var got []string
	p := ivschat.NewListRoomsPaginator(e.client, &ivschat.ListRoomsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Rooms {
			got = append(got, *r.Id)
		}
	}
	// Rooms created in the same millisecond sort by ID descending; compare
	// as sets, and the order against the store's own.
	if len(got) != 5 {
		t.Fatalf("listed %d rooms, want 5", len(got))
	}
	out, err := e.client.ListRooms(ctx, &ivschat.ListRoomsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range out.Rooms {
		all = append(all, *r.Id)
	}
	if diff := cmp.Diff(all, got); diff != "" || out.NextToken != nil {
		t.Fatalf("nextToken=%v paged order (-one page +pages):\n%s", out.NextToken, diff)
	}
	if out.Rooms[0].Tags == nil || out.Rooms[0].LoggingConfigurationIdentifiers == nil {
		t.Fatalf("summary lacks tags or loggingConfigurationIdentifiers: %+v", out.Rooms[0])
	}
}

func TestListRoomsFilters(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	lc := e.mustCreateLogging(t, s3Dest("bucket"))
	uri := "arn:aws:lambda:us-east-1:123456789012:function:f"
	handler := &types.MessageReviewHandler{Uri: &uri}
	rooms := map[string]*ivschat.CreateRoomInput{
		"plain":       {Name: aws.String("x")},
		"handler":     {Name: aws.String("x"), MessageReviewHandler: handler},
		"logged":      {Name: aws.String("x"), LoggingConfigurationIdentifiers: []string{*lc.Arn}},
		"both":        {Name: aws.String("x"), MessageReviewHandler: handler, LoggingConfigurationIdentifiers: []string{*lc.Arn}},
		"bothOtherNm": {Name: aws.String("y"), MessageReviewHandler: handler, LoggingConfigurationIdentifiers: []string{*lc.Arn}},
	}
	names := map[string]string{}
	for label, in := range rooms {
		names[*e.mustCreateRoom(t, in).Id] = label
	}
	list := func(in *ivschat.ListRoomsInput) map[string]bool {
		out, err := e.client.ListRooms(ctx, in)
		if err != nil {
			t.Fatalf("ListRooms: %v", err)
		}
		got := map[string]bool{}
		for _, r := range out.Rooms {
			got[names[*r.Id]] = true
		}
		return got
	}
	tests := []struct {
		name string
		in   ivschat.ListRoomsInput
		want []string
	}{
		{"All", ivschat.ListRoomsInput{}, []string{"plain", "handler", "logged", "both", "bothOtherNm"}},
		{"Name", ivschat.ListRoomsInput{Name: aws.String("y")}, []string{"bothOtherNm"}},
		{"Handler", ivschat.ListRoomsInput{MessageReviewHandlerUri: &uri}, []string{"handler", "both", "bothOtherNm"}},
		{"Logging", ivschat.ListRoomsInput{LoggingConfigurationIdentifier: lc.Arn}, []string{"logged", "both", "bothOtherNm"}},
		{"AND", ivschat.ListRoomsInput{Name: aws.String("x"), MessageReviewHandlerUri: &uri, LoggingConfigurationIdentifier: lc.Arn}, []string{"both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, w := range tt.want {
				want[w] = true
			}
			if diff := cmp.Diff(want, list(&tt.in)); diff != "" {
				t.Fatalf("rooms (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ErrUnknownLoggingConfiguration", func(t *testing.T) {
		_, err := e.client.ListRooms(ctx, &ivschat.ListRoomsInput{
			LoggingConfigurationIdentifier: aws.String("arn:aws:ivschat:us-east-1:123456789012:logging-configuration/AAAAAAAAAAAA")})
		as[*types.ResourceNotFoundException](t, err)
	})
}

func TestPaginationTokens(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		e.mustCreateRoom(t, &ivschat.CreateRoomInput{Name: aws.String("n")})
	}
	out, err := e.client.ListRooms(ctx, &ivschat.ListRoomsInput{MaxResults: aws.Int32(1)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("ListRooms: nextToken=%v err=%v", out.NextToken, err)
	}
	tok := *out.NextToken
	bad := map[string]*ivschat.ListRoomsInput{
		"Tampered":     {NextToken: aws.String(tok[:len(tok)-2] + flip(tok[len(tok)-2:]))},
		"Garbage":      {NextToken: aws.String("not a token")},
		"OtherFilter":  {NextToken: &tok, Name: aws.String("n")},
		"MaxResults0":  {MaxResults: aws.Int32(0)},
		"MaxResults51": {MaxResults: aws.Int32(51)},
		"TooLongToken": {NextToken: aws.String(string(make([]byte, 1025)))},
	}
	for name, in := range bad {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := e.client.ListRooms(ctx, in)
			ve := as[*types.ValidationException](t, err)
			if len(ve.FieldList) != 1 {
				t.Fatalf("fieldList=%+v", ve.FieldList)
			}
		})
	}
	t.Run("EmptyTokenIsFirstPage", func(t *testing.T) {
		out, err := e.client.ListRooms(ctx, &ivschat.ListRoomsInput{NextToken: aws.String("")})
		if err != nil || len(out.Rooms) != 3 {
			t.Fatalf("rooms=%d err=%v", len(out.Rooms), err)
		}
	})
	t.Run("TokenFromOtherServer", func(t *testing.T) {
		other := newEnv(t, nil)
		_, err := other.client.ListRooms(ctx, &ivschat.ListRoomsInput{NextToken: &tok})
		as[*types.ValidationException](t, err)
	})
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestListLoggingConfigurationsPaginator(t *testing.T) {
	e := newEnv(t, func(s *controlplane.Server) { s.Quotas.MaxLoggingConfigurations = -1 })
	ctx := context.Background()
	want := map[string]bool{}
	for i := 0; i < 53; i++ {
		want[*e.mustCreateLogging(t, s3Dest(fmt.Sprintf("bucket-%d", i))).Id] = true
	}
	seen := map[string]bool{}
	p := ivschat.NewListLoggingConfigurationsPaginator(e.client, &ivschat.ListLoggingConfigurationsInput{})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for _, c := range out.LoggingConfigurations {
			if seen[*c.Id] {
				t.Fatalf("configuration %s listed twice", *c.Id)
			}
			seen[*c.Id] = true
		}
		e.mustCreateLogging(t, s3Dest("added"))
	}
	if pages != 2 {
		t.Fatalf("pages=%d, want 2", pages)
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("configurations listed (-want +got):\n%s", diff)
	}
}
