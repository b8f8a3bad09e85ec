package chatlogtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/parleychat/parley/chatlog/chatlogtest"
)

// TestServerModes: a fake answers 503 when Unavailable, refuses
// connections on Refuse, and serves on the same URL once Up again.
func TestServerModes(t *testing.T) {
	f := chatlogtest.NewS3(t, "bucket")
	ctx := context.Background()
	put := func() error {
		_, err := f.Client().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x")},
			func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	if err := put(); err != nil {
		t.Fatalf("Up: %v", err)
	}
	f.SetMode(chatlogtest.Unavailable)
	resp, err := http.Get(f.URL + "/bucket/k")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Unavailable: %v %v, want 503", resp, err)
	}
	resp.Body.Close()
	if err := f.SetMode(chatlogtest.Refuse); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(f.URL + "/bucket/k"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Refuse: err=%v, want connection refused", err)
	}
	if err := f.SetMode(chatlogtest.Up); err != nil {
		t.Fatal(err)
	}
	lines, err := f.Objects(ctx, "bucket", "")
	if err != nil || string(lines["k"]) != "x" {
		t.Fatalf("Up again: objects %v, %v; want k=x kept", lines, err)
	}
}
