package chatlogtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an S3-compatible server (gofakes3, in memory).
type S3 struct {
	*Server
}

// NewS3 starts an S3 server holding the given buckets until the test ends.
func NewS3(tb testing.TB, buckets ...string) *S3 {
	tb.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			tb.Fatal(err)
		}
	}
	h := gofakes3.New(backend).Server()
	return &S3{Server: newServer(tb, h, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>down for the test</Message></Error>`)
	})}
}

// Client returns an aws-sdk-go-v2 client of the server (path-style, static
// credentials).
func (f *S3) Client() *awss3.Client {
	return awss3.New(awss3.Options{
		Region: Region, BaseEndpoint: aws.String(f.URL), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
	})
}

// Objects reads back every object under prefix in bucket, by key.
func (f *S3) Objects(ctx context.Context, bucket, prefix string) (map[string][]byte, error) {
	c := f.Client()
	out := map[string][]byte{}
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: obj.Key})
			if err != nil {
				return nil, fmt.Errorf("get %s: %w", *obj.Key, err)
			}
			body, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", *obj.Key, err)
			}
			out[*obj.Key] = body
		}
	}
	return out, nil
}

// Lines gunzips the objects under prefix (in key order) and returns their
// records' lines.
func (f *S3) Lines(ctx context.Context, bucket, prefix string) ([]string, error) {
	objs, err := f.Objects(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		l, err := Gunzip(objs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		lines = append(lines, l...)
	}
	return lines, nil
}
