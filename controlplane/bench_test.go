package controlplane_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/sigv4"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/parleychat/parley/token"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	benchAKID   = "AKIDBENCHMARK"
	benchSecret = "benchmark-secret"
)

// newBenchServer returns a Server wired as cmd/parley wires it with API rate
// limits off: a real SQLite store, the SigV4 verifier and key ring, the
// token sealer, Prometheus metrics and a (discarding) logger. It creates one
// room and returns its ARN.
func newBenchServer(b *testing.B) (*controlplane.Server, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { st.Close(context.Background()) })
	bus := inmem.New()
	b.Cleanup(func() { bus.Close(context.Background()) })
	sealer, err := token.NewSealer(make([]byte, token.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	ring := sigv4.NewKeyRing(sigv4.Key{AccessKeyID: benchAKID, SecretAccessKey: benchSecret})
	srv := &controlplane.Server{
		Store: st, Bus: bus, Tokens: sealer,
		Auth: &sigv4.Verifier{Credentials: ring}, Authz: ring,
		Region: testRegion, AccountID: testAccount,
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry(),
	}
	now := time.Now()
	id := parley.NewID()
	room := &parley.Room{
		ID: id, ARN: roomARN(id), Name: "bench",
		MaximumMessageRatePerSecond: 10, MaximumMessageLength: 500,
		Tags:       map[string]string{"parley-bench": "true"},
		CreateTime: now, UpdateTime: now,
	}
	if err := st.CreateRoom(ctx, room, 0); err != nil {
		b.Fatal(err)
	}
	return srv, room.ARN
}

// signedTokenRequest returns a CreateChatToken request for roomARN signed as
// the aws-sdk-go-v2 client signs it, and its body. The signature stays valid
// for the verifier's 15-minute window, so the request can be replayed.
func signedTokenRequest(b *testing.B, target, roomARN string) (*http.Request, []byte) {
	b.Helper()
	body := []byte(`{"roomIdentifier":"` + roomARN + `","userId":"bench-user",` +
		`"capabilities":["SEND_MESSAGE"],"sessionDurationInMinutes":60,"attributes":{"displayName":"Bench"}}`)
	r, err := http.NewRequest(http.MethodPost, target+"/CreateChatToken", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.0 benchmark")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: benchAKID, SecretAccessKey: benchSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]),
		"ivschat", testRegion, time.Now()); err != nil {
		b.Fatal(err)
	}
	return r, body
}

// replay is a signed request whose body can be read again.
type replay struct {
	r    *http.Request
	body []byte
	rd   bytes.Reader
}

func newReplay(b *testing.B, roomARN string) *replay {
	r, body := signedTokenRequest(b, "http://parley.test", roomARN)
	return &replay{r: r, body: body}
}

// next returns the request with its body rewound.
func (p *replay) next() *http.Request {
	p.rd.Reset(p.body)
	p.r.Body = io.NopCloser(&p.rd)
	return p.r
}

// discardWriter is an http.ResponseWriter that keeps only the status and
// reuses its header map.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// BenchmarkCreateChatToken serves signed CreateChatToken requests through
// ServeHTTP: SigV4 verification, authorization, decoding, the room lookup in
// SQLite, sealing, encoding, metrics. No network.
func BenchmarkCreateChatToken(b *testing.B) {
	srv, arn := newBenchServer(b)
	b.Run("serial", func(b *testing.B) {
		p := newReplay(b, arn)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			srv.ServeHTTP(w, p.next())
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			p := newReplay(b, arn)
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				w.reset()
				srv.ServeHTTP(w, p.next())
				if w.status != http.StatusOK {
					b.Errorf("status %d", w.status)
					return
				}
			}
		})
	})
}

// BenchmarkCreateChatTokenHTTP serves the same requests over loopback HTTP
// with keep-alive connections and 16 clients in flight, and reports
// tokens/s. The client's cost (one core of two) is included.
func BenchmarkCreateChatTokenHTTP(b *testing.B) {
	srv, arn := newBenchServer(b)
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	b.SetParallelism(8) // 16 in flight on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		r, body := signedTokenRequest(b, ts.URL, arn)
		buf := make([]byte, 4096)
		for pb.Next() {
			r.Body = io.NopCloser(bytes.NewReader(body))
			resp, err := client.Do(r)
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := resp.Body.Read(buf); err != nil {
					break
				}
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tokens/s")
}
