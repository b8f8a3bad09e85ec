package parley_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := parley.NewID()
		if !parley.ValidID(id) {
			t.Fatalf("NewID()=%q, not a valid ID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	for s, want := range map[string]bool{
		"AbCdEf123456": true, "AbCdEf12345": false, "AbCdEf1234567": false,
		"AbCdEf-23456": false, "": false, "ÄbCdEf12345": false,
	} {
		if got := parley.ValidID(s); got != want {
			t.Errorf("ValidID(%q)=%v, want %v", s, got, want)
		}
	}
}

func TestParseARN(t *testing.T) {
	tests := []struct {
		in      string
		want    parley.ARN
		wantErr bool
	}{
		{in: "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456",
			want: parley.ARN{Region: "us-east-1", AccountID: "123456789012", Resource: "room", ID: "AbCdEf123456"}},
		{in: "arn:aws:ivschat:eu-west-1:000000000000:logging-configuration/ABcdef34ghIJ",
			want: parley.ARN{Region: "eu-west-1", AccountID: "000000000000", Resource: "logging-configuration", ID: "ABcdef34ghIJ"}},
		{in: "arn:aws:ivs:us-east-1:123456789012:room/AbCdEf123456", wantErr: true},
		{in: "arn:aws:ivschat:us-east-1:123456789012:channel/AbCdEf123456", wantErr: true},
		{in: "arn:aws:ivschat:us-east-1:12345678901x:room/AbCdEf123456", wantErr: true},
		{in: "arn:aws:ivschat:us-east-1:123456789012:room/", wantErr: true},
		{in: "arn:aws:ivschat:US-east-1:123456789012:room/abc", wantErr: true},
		{in: "arn:aws:ivschat:us-east-1:123456789012:room/a/b", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parley.ParseARN(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParseARN(%q) err=%v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseARN(%q) (-want +got):\n%s", tt.in, diff)
			}
			if got.String() != tt.in {
				t.Fatalf("String()=%q, want %q", got.String(), tt.in)
			}
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "hello", `quote " back \ slash`, "tab\tnl\ncr\r", "\x00\x01\x1f",
		"héllo 世界 🎉", "bad \xff utf8", "line\u2028sep\u2029", "<html>&amp;"} {
		var decoded string
		if err := json.Unmarshal(parley.AppendJSONString(nil, s), &decoded); err != nil {
			t.Fatalf("AppendJSONString(%q) is not JSON: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if decoded != want {
			t.Fatalf("round trip of %q gave %q", s, decoded)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("hello \"\\ \x00 \xff \u2028")
	f.Fuzz(func(t *testing.T, s string) {
		var decoded string
		if err := json.Unmarshal(parley.AppendJSONString(nil, s), &decoded); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		// encoding/json is the reference: each invalid byte becomes one
		// U+FFFD (strings.ToValidUTF8 would merge a run of them into one).
		ref, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if decoded != want {
			t.Fatalf("round trip of %q gave %q, encoding/json %q", s, decoded, want)
		}
	})
}

func TestMessageAppendJSON(t *testing.T) {
	m := parley.Message{
		ID: "M2YcHkgffEvU", RequestID: "req-1", Content: "Hi",
		SendTime: time.Date(2022, 12, 2, 8, 25, 51, 136912720, time.UTC),
		Sender:   parley.Sender{UserID: "user-55b2dd6b", Attributes: map[string]string{"b": "2", "a": "1"}},
	}
	want := `{"Type":"MESSAGE","Id":"M2YcHkgffEvU","RequestId":"req-1","Attributes":null,"Content":"Hi",` +
		`"SendTime":"2022-12-02T08:25:51.13691272Z","Sender":{"UserId":"user-55b2dd6b","Attributes":{"a":"1","b":"2"}}}`
	if got := string(m.AppendJSON(nil)); got != want {
		t.Fatalf("MESSAGE=%s\nwant   %s", got, want)
	}
	m.Attributes = map[string]string{}
	m.Sender.Attributes = nil
	var v map[string]any
	if err := json.Unmarshal(m.AppendJSON(nil), &v); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{}, v["Attributes"]); diff != "" {
		t.Fatalf("Attributes: %s", diff)
	}
	if diff := cmp.Diff(map[string]any{"UserId": "user-55b2dd6b", "Attributes": map[string]any{}}, v["Sender"]); diff != "" {
		t.Fatalf("Sender: %s", diff)
	}
}

func TestEventAndErrorAppendJSON(t *testing.T) {
	e := parley.Event{ID: "IxTh2Ad9fZIr", EventName: parley.EventDeleteMessage,
		Attributes: map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU"},
		SendTime:   time.Date(2022, 12, 2, 8, 25, 51, 0, time.FixedZone("x", 3600))}
	want := `{"Type":"EVENT","Id":"IxTh2Ad9fZIr","RequestId":"","EventName":"aws:DELETE_MESSAGE",` +
		`"Attributes":{"MessageID":"M2YcHkgffEvU","MessageId":"M2YcHkgffEvU"},"SendTime":"2022-12-02T07:25:51Z"}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Fatalf("EVENT=%s\nwant %s", got, want)
	}
	ef := parley.ErrorFrame{ID: "IG5mcmlvdGlv", RequestID: "r", Code: 400, Message: "too long"}
	want = `{"Type":"ERROR","Id":"IG5mcmlvdGlv","RequestId":"r","ErrorCode":400,"ErrorMessage":"too long"}`
	if got := string(ef.AppendJSON(nil)); got != want {
		t.Fatalf("ERROR=%s\nwant %s", got, want)
	}
}

func TestLogRecordAppendJSON(t *testing.T) {
	r := parley.LogRecord{Time: time.Date(2025, 8, 14, 5, 50, 5, 533134508, time.UTC), Type: parley.TypeMessage,
		Payload: []byte(`{"Type":"MESSAGE"}`)}
	want := `{"event_timestamp":"2025-08-14T05:50:05.533Z","type":"MESSAGE","payload":{"Type":"MESSAGE"},"version":"1.0"}`
	if got := string(r.AppendJSON(nil)); got != want {
		t.Fatalf("record=%s\nwant %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	err := fmt.Errorf("find room: %w", parley.NotFound("room", "AbCdEf123456"))
	if got := parley.ErrorCodeOf(err); got != parley.ResourceNotFoundException {
		t.Fatalf("ErrorCodeOf=%s", got)
	}
	if got := parley.AsError(err).ResourceID; got != "AbCdEf123456" {
		t.Fatalf("ResourceID=%s", got)
	}
	plain := errors.New("disk on fire")
	if got := parley.ErrorCodeOf(plain); got != parley.InternalServerException {
		t.Fatalf("ErrorCodeOf(plain)=%s", got)
	}
	if got := parley.ErrorMessage(plain); strings.Contains(got, "disk") {
		t.Fatalf("ErrorMessage leaks detail: %q", got)
	}
	fe := parley.FieldErrorf("name", "must match %s", "[a-z]")
	if fe.Reason != parley.ReasonFieldValidationFailed || fe.Fields[0].Name != "name" {
		t.Fatalf("FieldErrorf=%+v", fe)
	}
	if parley.ErrorCodeOf(nil) != "" {
		t.Fatal("ErrorCodeOf(nil) not empty")
	}
}

func TestConnectDeadlineFor(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := parley.ConnectDeadlineFor(now, 180*time.Minute); !got.Equal(now.Add(time.Hour)) {
		t.Fatalf("180 min session: deadline %v", got)
	}
	if got := parley.ConnectDeadlineFor(now, 5*time.Minute); !got.Equal(now.Add(5 * time.Minute)) {
		t.Fatalf("5 min session: deadline %v", got)
	}
}
