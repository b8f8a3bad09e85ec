package messaging

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

// FuzzFrameParser feeds arbitrary bytes to the client-frame parser, whole
// and in chunks. It must never panic, must find the same things however
// the bytes are split, and every data message it finds must decode into a
// request or an ERROR frame.
func FuzzFrameParser(f *testing.F) {
	for _, seed := range [][]byte{
		clientFrame(true, opText, []byte(`{"Action":"SEND_MESSAGE","RequestId":"r","Content":"hi"}`)),
		cat(clientFrame(false, opText, []byte(`{"Action":`)), clientFrame(true, opPing, []byte("p")),
			clientFrame(true, opContinuation, []byte(`"DELETE_MESSAGE","Id":"abcdefABCDEF"}`))),
		clientFrame(true, opBinary, []byte(`{}`)),
		clientFrame(true, opText, []byte(strings.Repeat("x", 300))),
		clientFrame(true, opClose, []byte{0x03, 0xe8}),
		clientFrame(true, opText, []byte("\xff"), "unmasked"),
		lengthOnly(opText, 1<<40),
	} {
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		whole := parseOutcomes(t, data, 0)
		chunked := parseOutcomes(t, data, int(split%32)+1)
		if diff := cmp.Diff(whole, chunked); diff != "" {
			t.Fatalf("outcome depends on how the bytes are split (-whole +chunked):\n%s", diff)
		}
	})
}

// parseOutcomes parses data in chunks of n (0: at once) with a 256-byte
// message limit and answers each message as the server would: "request
// ACTION", "error CODE", or a control frame or failure.
func parseOutcomes(t *testing.T, data []byte, n int) []string {
	var out []string
	for _, ev := range parseChunks(data, n, 256, 4096) {
		kind, payload, _ := strings.Cut(ev, ":")
		switch kind {
		case "text":
			out = append(out, answer(t, []byte(payload)))
		case "binary":
			out = append(out, "error 400")
		case "tooLarge":
			out = append(out, "error 413")
		default:
			out = append(out, ev)
		}
	}
	return out
}

// answer decodes a text message and checks that it yields a request with
// an Action or a well-formed ERROR frame.
func answer(t *testing.T, data []byte) string {
	req, rid, err := decodeRequest(data)
	if err == nil {
		if req == nil || req.Action == nil {
			t.Fatalf("decodeRequest(%q): no error and no Action", data)
		}
		return "request " + *req.Action
	}
	if req != nil {
		t.Fatalf("decodeRequest(%q): both a request and an error", data)
	}
	frame, code := errorFrame(rid, err)
	var got struct {
		Type      string
		Id        string
		RequestId string
		ErrorCode int
	}
	if jerr := json.Unmarshal(frame, &got); jerr != nil || got.Type != parley.TypeError || got.ErrorCode != code || got.RequestId != rid || !parley.ValidID(got.Id) {
		t.Fatalf("decodeRequest(%q): bad ERROR frame %s (%v)", data, frame, jerr)
	}
	if code != 400 && code != 413 {
		t.Fatalf("decodeRequest(%q): ErrorCode %d, want 400 or 413", data, code)
	}
	return "error " + codeLabel(code)
}

// FuzzDecodeRequest: any text must decode into a request with an Action or
// an ERROR 400/413; never a panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"Action":"SEND_MESSAGE","RequestId":"r","Content":"hi","Attributes":{"k":"v"}}`,
		`{"action":"DELETE_MESSAGE","id":"abcdefABCDEF","reason":"spam"}`,
		`{"Action":"DISCONNECT_USER","UserId":"u"}`,
		`{"RequestId":5}`,
		`{"Attributes":{"n":1},"RequestId":"x"}`,
		`[]`, `null`, `"x"`, `{`, "\xff",
		`{"RequestId":"` + strings.Repeat("r", 200) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		answer(t, data)
	})
}
