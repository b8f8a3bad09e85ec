package sigv4

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

func TestKeyRingSecret(t *testing.T) {
	ring := NewKeyRing(Key{AccessKeyID: "A", SecretAccessKey: "old"}, Key{AccessKeyID: "A", SecretAccessKey: "new"})
	t.Run("OK", func(t *testing.T) {
		s, err := ring.Secret(context.Background(), "A")
		if err != nil || s != "new" {
			t.Fatalf("Secret(A)=%q, %v, want \"new\"", s, err)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := ring.Secret(context.Background(), "B")
		if got := parley.ErrorCodeOf(err); got != parley.UnrecognizedClientException {
			t.Fatalf("code=%q, want UnrecognizedClientException", got)
		}
	})
}

func TestKeyRingAllowed(t *testing.T) {
	ring := NewKeyRing(
		Key{AccessKeyID: "all", SecretAccessKey: "s"},
		Key{AccessKeyID: "star", SecretAccessKey: "s", Actions: []string{"*"}},
		Key{AccessKeyID: "ivs", SecretAccessKey: "s", Actions: []string{"ivschat:*"}},
		Key{AccessKeyID: "read", SecretAccessKey: "s", Actions: []string{"ivschat:Get*", "ivschat:List*"}},
		Key{AccessKeyID: "token", SecretAccessKey: "s", Actions: []string{"IVSCHAT:createchattoken"}},
		Key{AccessKeyID: "q", SecretAccessKey: "s", Actions: []string{"ivschat:?etRoom"}},
	)
	for _, tc := range []struct {
		key, op string
		want    bool
	}{
		{"all", "CreateRoom", true},
		{"star", "DeleteRoom", true},
		{"ivs", "ivschat:UpdateRoom", true},
		{"ivs", "s3:GetObject", false},
		{"read", "GetRoom", true},
		{"read", "ListTagsForResource", true},
		{"read", "CreateRoom", false},
		{"read", "ivschat:GetLoggingConfiguration", true},
		{"token", "CreateChatToken", true},
		{"token", "CreateRoom", false},
		{"q", "GetRoom", true},
		{"q", "GetRooms", false},
		{"nobody", "GetRoom", false},
	} {
		if got := ring.Allowed(tc.key, tc.op); got != tc.want {
			t.Errorf("Allowed(%q, %q)=%v, want %v", tc.key, tc.op, got, tc.want)
		}
	}
}

func TestMatchAction(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*Room", "ivschat:GetRoom", true},
		{"*Room", "ivschat:ListRooms", false},
		{"**", "x", true},
		{"a?", "a", false},
	} {
		if got := matchAction(tc.pattern, tc.action); got != tc.want {
			t.Errorf("matchAction(%q, %q)=%v, want %v", tc.pattern, tc.action, got, tc.want)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadKeyFile(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		p := writeFile(t, `{"keys":[
			{"accessKeyId":"PKADMIN","secretAccessKey":"s1","actions":["ivschat:*"]},
			{"accessKeyId":"PKTOKENS","secretAccessKey":"s2","actions":["ivschat:CreateChatToken","ivschat:Get*"]},
			{"accessKeyId":"PKALL","secretAccessKey":"s3"}]}`)
		got, err := LoadKeyFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := []Key{
			{AccessKeyID: "PKADMIN", SecretAccessKey: "s1", Actions: []string{"ivschat:*"}},
			{AccessKeyID: "PKTOKENS", SecretAccessKey: "s2", Actions: []string{"ivschat:CreateChatToken", "ivschat:Get*"}},
			{AccessKeyID: "PKALL", SecretAccessKey: "s3"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("keys (-want +got):\n%s", diff)
		}
	})
	for name, tc := range map[string]struct{ content, errPart string }{
		"ErrUnknownField":  {`{"keys":[{"accessKeyId":"A","secretAccessKey":"s","action":["*"]}]}`, `unknown field "action"`},
		"ErrUnknownTop":    {`{"key":[]}`, `unknown field "key"`},
		"ErrNoKeys":        {`{"keys":[]}`, "no keys"},
		"ErrSyntax":        {`{"keys":[`, "decode"},
		"ErrTrailing":      {`{"keys":[{"accessKeyId":"A","secretAccessKey":"s"}]} {}`, "after the top-level object"},
		"ErrEmptySecret":   {`{"keys":[{"accessKeyId":"A","secretAccessKey":""}]}`, "secretAccessKey is empty"},
		"ErrBadAccessKey":  {`{"keys":[{"accessKeyId":"A/B","secretAccessKey":"s"}]}`, `accessKeyId "A/B"`},
		"ErrNoAccessKey":   {`{"keys":[{"secretAccessKey":"s"}]}`, `accessKeyId ""`},
		"ErrRepeatedKey":   {`{"keys":[{"accessKeyId":"A","secretAccessKey":"s"},{"accessKeyId":"A","secretAccessKey":"t"}]}`, "repeated"},
		"ErrTypoAction":    {`{"keys":[{"accessKeyId":"A","secretAccessKey":"s","actions":["ivschat:CreateRooms"]}]}`, `"ivschat:CreateRooms" matches no ivschat operation`},
		"ErrOtherService":  {`{"keys":[{"accessKeyId":"A","secretAccessKey":"s","actions":["s3:*"]}]}`, "matches no ivschat operation"},
		"ErrWrongJSONType": {`{"keys":[{"accessKeyId":1,"secretAccessKey":"s"}]}`, "accessKeyId"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, tc.content)
			_, err := LoadKeyFile(p)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err=%v, want one naming the file and containing %q", err, tc.errPart)
			}
		})
	}
	t.Run("ErrMissingFile", func(t *testing.T) {
		if _, err := LoadKeyFile(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err=%v, want a not-exist error", err)
		}
	})
}

func TestGenerateKey(t *testing.T) {
	akid := regexp.MustCompile(`^PK[A-Z0-9]{18}$`)
	secret := regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
	seen := make(map[string]bool)
	for range 100 {
		k := GenerateKey()
		if !akid.MatchString(k.AccessKeyID) {
			t.Fatalf("access key id %q does not match %s", k.AccessKeyID, akid)
		}
		if !secret.MatchString(k.SecretAccessKey) {
			t.Fatalf("secret %q does not match %s", k.SecretAccessKey, secret)
		}
		if len(k.Actions) != 0 {
			t.Fatalf("actions=%v, want none (all allowed)", k.Actions)
		}
		if seen[k.AccessKeyID] || seen[k.SecretAccessKey] {
			t.Fatalf("repeated value in %+v", k)
		}
		seen[k.AccessKeyID], seen[k.SecretAccessKey] = true, true
		if err := validateKey(k); err != nil {
			t.Fatalf("generated key is not valid in a key file: %v", err)
		}
	}
}
