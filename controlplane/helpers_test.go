package controlplane_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/internal/poll"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/parleychat/parley/token"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

// env is a Server on a real SQLite store and in-process bus, served over
// HTTP and driven by the official ivschat client.
type env struct {
	srv     *controlplane.Server
	http    *httptest.Server
	client  *ivschat.Client
	store   *sqlite.Store
	bus     *inmem.Bus
	chatLog *recordingChatLog
	sealer  *token.Sealer
}

// newEnv starts a server; configure adjusts it before it serves.
func newEnv(t *testing.T, configure func(*controlplane.Server)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	bus := inmem.New()
	t.Cleanup(func() { bus.Close(context.Background()) })
	sealer, err := token.NewSealer(make([]byte, token.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, bus: bus, chatLog: &recordingChatLog{}, sealer: sealer}
	e.srv = &controlplane.Server{
		Store: st, Bus: bus, Tokens: e.sealer, ChatLog: e.chatLog,
		Region: testRegion, AccountID: testAccount,
		Logger: slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(e.srv)
	}
	e.http = httptest.NewServer(e.srv)
	t.Cleanup(e.http.Close)
	e.client = ivschat.New(ivschat.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(e.http.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:      closedConnRetryer(t),
	})
	return e
}

// closedConnRetryer retries, once and in the log, nothing but a request
// whose connection the client's own transport closed under it
// (net.ErrClosed, a race inside the SDK's HTTP client that its default
// retryer retries, aws-sdk-go-v2#2737), so every answer the server gives
// reaches the test as it was.
func closedConnRetryer(t *testing.T) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 2
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if !errors.Is(err, net.ErrClosed) {
				return aws.FalseTernary
			}
			t.Logf("retrying after the SDK transport closed its connection: %v", err)
			return aws.TrueTernary
		})}
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

// unseal opens a chat token.
func (e *env) unseal(t *testing.T, tok string) *parley.ChatToken {
	t.Helper()
	c, err := e.sealer.Open(tok)
	if err != nil {
		t.Fatalf("open token: %v", err)
	}
	return c
}

// recordingChatLog keeps every record.
type recordingChatLog struct {
	mu   sync.Mutex
	recs []parley.LogRecord
}

func (c *recordingChatLog) Record(_ context.Context, r *parley.LogRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, *r)
	return nil
}

func (c *recordingChatLog) records() []parley.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]parley.LogRecord(nil), c.recs...)
}

// subscribe collects the bus messages of a room.
func (e *env) subscribe(t *testing.T, roomID string) *collector {
	t.Helper()
	c := &collector{}
	unsub, err := e.bus.Subscribe(roomID, func(m *parley.BusMessage) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.msgs = append(c.msgs, m)
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(unsub)
	return c
}

type collector struct {
	mu   sync.Mutex
	msgs []*parley.BusMessage
}

// wait polls until n messages arrived and returns them.
func (c *collector) wait(t *testing.T, n int) []*parley.BusMessage {
	t.Helper()
	var got []*parley.BusMessage
	poll.Until(t, fmt.Sprintf("%d bus messages", n), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		got = append(got[:0], c.msgs...)
		return len(got) >= n
	})
	return got
}

// as asserts that err is of type T and returns it.
func as[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err = %v (%T), want %T", err, err, target)
	}
	return target
}

func roomARN(id string) string {
	return parley.ARN{Region: testRegion, AccountID: testAccount, Resource: parley.ResourceRoom, ID: id}.String()
}
