package controlplane

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// splitSeeds are JSON texts for the splitter tests: flat and nested objects,
// arrays, escapes in keys and values, white space, duplicates, invalid UTF-8.
var splitSeeds = []string{
	`{}`, ` { } `, `[]`, `[ ]`, `null`, `"s"`, `1`, `{"a":1}x`, `{"a":`,
	`{"roomIdentifier":"arn:aws:ivschat:us-east-1:123456789012:room/AbCdEf123456","userId":"u","capabilities":["SEND_MESSAGE"],"sessionDurationInMinutes":180,"attributes":{"a":"b"}}`,
	"{\n\t\"a\" : \"x\\\"y\" ,\r\n \"b\":[1, {\"c\":[]} , \"]}\"], \"d\": null, \"e\":true,\"f\":-1.5e3 }",
	`{"a":1,"a":2}`, `{"\u0061":1}`, `{"a\\b":"c"}`, "{\"\xff\":1}", "{\"a\":\"\xff\"}",
	`["a","b\n", "\u00e9", "\ud800"]`, `[[],{},""]`, `{"a":{"b":{"c":{}}}}`,
	`"plain"`, `"with \"escape\""`, `"\u2028"`,
}

// FuzzSplit checks that splitObject, splitArray and plainString, where they
// answer, agree with json.Unmarshal.
func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSplit(t, b)
	})
}

func TestSplit(t *testing.T) {
	for _, s := range splitSeeds {
		checkSplit(t, []byte(s))
	}
	// The hot request shape takes the fast path.
	if _, ok := splitObject([]byte(splitSeeds[9])); !ok {
		t.Fatal("splitObject refused a CreateChatToken body")
	}
}

func checkSplit(t *testing.T, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		return // the splitters are only called on valid JSON
	}
	if got, ok := splitObject(b); ok {
		var want map[string]json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("splitObject(%q) answered, json.Unmarshal: %v", b, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("splitObject(%q) (-json +got):\n%s", b, diff)
		}
	}
	if got, ok := splitArray(b); ok {
		var want []json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("splitArray(%q) answered, json.Unmarshal: %v", b, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("splitArray(%q) (-json +got):\n%s", b, diff)
		}
	}
	if got, ok := plainString(b); ok {
		var want string
		if err := json.Unmarshal(b, &want); err != nil || got != want {
			t.Fatalf("plainString(%q)=%q, json.Unmarshal: %q, %v", b, got, want, err)
		}
	}
}
