package controlplane

import (
	"errors"
	"net/url"
	"sort"
	"testing"

	"github.com/parleychat/parley"
)

// FuzzDecodeRequest checks that decoding any request for any operation
// never panics and yields either an input or a *parley.Error.
func FuzzDecodeRequest(f *testing.F) {
	room := `"arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456"`
	seeds := []string{
		``, `{}`, `null`, `[]`, `{"name":`, `{} x`,
		`{"identifier":` + room + `}`,
		`{"roomIdentifier":` + room + `,"userId":"u","capabilities":["SEND_MESSAGE"],"sessionDurationInMinutes":180,"attributes":{"a":"b"}}`,
		`{"name":"n","maximumMessageRatePerSecond":10,"maximumMessageLength":500,"messageReviewHandler":{"uri":"","fallbackResult":"DENY"},"tags":{"k":"v"},"loggingConfigurationIdentifiers":[]}`,
		`{"destinationConfiguration":{"s3":{"bucketName":"abc"},"firehose":null},"name":"x"}`,
		`{"roomIdentifier":` + room + `,"eventName":"e","attributes":{"k":"v"}}`,
		`{"roomIdentifier":` + room + `,"id":"M2YcHkgffEvU","reason":"r"}`,
		`{"maxResults":1e400,"nextToken":""}`,
		`{"tags":{"a":1}}`,
		`{"maximumMessageLength":-9223372036854775809}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456", "tagKeys=a&tagKeys=b")
	}
	var names []string
	for name := range operations {
		names = append(names, name)
	}
	sort.Strings(names)
	s := &Server{Region: "us-east-1", AccountID: "123456789012"}
	f.Fuzz(func(t *testing.T, body []byte, arn, rawQuery string) {
		query, _ := url.ParseQuery(rawQuery)
		for _, name := range names {
			in, err := operations[name].decode(s, &request{body: body, arn: arn, query: query})
			if err == nil {
				if in == nil {
					t.Fatalf("%s: nil input and nil error", name)
				}
				continue
			}
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Code != parley.ValidationException {
				t.Fatalf("%s: error %v (%T), want a ValidationException", name, err, err)
			}
			if pe.Reason == parley.ReasonFieldValidationFailed && len(pe.Fields) == 0 {
				t.Fatalf("%s: FIELD_VALIDATION_FAILED without fieldList", name)
			}
		}
	})
}
