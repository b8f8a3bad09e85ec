package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// TokenResult is the outcome of a -tokens-only run: CreateChatToken calls
// made back to back by -dial-concurrency callers for -duration, each signed
// with SigV4 as the SDKs sign them. Its JSON form is what --json prints.
type TokenResult struct {
	URL             string         `json:"url"`
	Rooms           int            `json:"rooms"`
	Concurrency     int            `json:"concurrency"`
	Seconds         float64        `json:"seconds"`
	Tokens          uint64         `json:"tokens"`
	TokensPerSecond float64        `json:"tokensPerSecond"`
	Failures        map[string]int `json:"failures"`
	// Latency is the time of one call, signing included.
	Latency Latency `json:"latency"`
	// ServerCPUSeconds is the server's CPU time during the calls (with
	// -server-pid); ClientCPUSeconds is this process's.
	ServerCPUSeconds float64 `json:"serverCpuSeconds,omitempty"`
	ClientCPUSeconds float64 `json:"clientCpuSeconds"`
}

// RunTokens creates cfg.Rooms rooms and calls CreateChatToken for them, in
// turn, from cfg.DialConcurrency goroutines for cfg.Duration. Calls are not
// retried: a throttled or failed call is counted by its error code.
func RunTokens(ctx context.Context, cfg Config) (*TokenResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r, err := newRun(cfg, nil)
	if err != nil {
		return nil, err
	}
	if err := r.createRooms(ctx); err != nil {
		return nil, err
	}
	defer r.deleteRooms()
	res := &TokenResult{URL: cfg.URL, Rooms: cfg.Rooms, Concurrency: cfg.DialConcurrency, Failures: map[string]int{}}
	t := &tokenRun{run: r, res: res, deadline: time.Now().Add(cfg.Duration)}
	stats := startCPU(cfg.ServerPIDs)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range cfg.DialConcurrency {
		wg.Go(func() { t.caller(ctx, w) })
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Tokens = t.n.Load()
	res.TokensPerSecond = rate(float64(res.Tokens), res.Seconds)
	res.Latency = summarize(t.hist.Snapshot())
	res.ServerCPUSeconds, res.ClientCPUSeconds = stats.since()
	return res, nil
}

// tokenRun is the state of RunTokens that its callers share.
type tokenRun struct {
	*run
	deadline time.Time
	hist     shardedHist
	n        atomic.Uint64

	mu  sync.Mutex
	res *TokenResult // Failures is guarded by mu
}

// caller is one of RunTokens's goroutines: it asks for tokens, one at a
// time, until the deadline.
func (t *tokenRun) caller(ctx context.Context, w int) {
	for i := w; time.Now().Before(t.deadline) && ctx.Err() == nil; i += t.cfg.DialConcurrency {
		t0 := time.Now()
		err := t.cp.tryTokenOnce(ctx, t.rooms[i%len(t.rooms)].arn, fmt.Sprint("user-", i), 60)
		if err != nil {
			t.mu.Lock()
			t.res.Failures[reason(err)]++
			t.mu.Unlock()
			continue
		}
		t.n.Add(1)
		t.hist.Record(w, uint64(time.Since(t0).Microseconds()))
	}
}

// tryTokenOnce makes one CreateChatToken call, without retries.
func (cp *controlPlane) tryTokenOnce(ctx context.Context, roomARN, userID string, sessionMinutes int) error {
	body := []byte(`{"roomIdentifier":"` + roomARN + `","userId":"` + userID +
		`","capabilities":["SEND_MESSAGE"],"sessionDurationInMinutes":` + fmt.Sprint(sessionMinutes) + `}`)
	var out struct {
		Token string `json:"token"`
	}
	if err := cp.try(ctx, "CreateChatToken", body, &out); err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("CreateChatToken: answer has no token")
	}
	return nil
}

// cpuStats measures the CPU time of this process and of the server
// processes pids.
type cpuStats struct {
	pids   []int
	server []float64 // by pid; -1 where it could not be read
	client float64
}

func startCPU(pids []int) *cpuStats {
	s := &cpuStats{pids: pids, client: selfCPU()}
	for _, pid := range pids {
		cpu := -1.0
		if p, err := readProc(pid); err == nil {
			cpu = p.CPU
		}
		s.server = append(s.server, cpu)
	}
	return s
}

// since returns the servers' (summed) and this process's CPU seconds since
// start.
func (s *cpuStats) since() (server, client float64) {
	client = selfCPU() - s.client
	for i, pid := range s.pids {
		if s.server[i] < 0 {
			continue
		}
		if p, err := readProc(pid); err == nil {
			server += p.CPU - s.server[i]
		}
	}
	return server, client
}

// WriteTokenTable writes res as a small table.
func WriteTokenTable(w io.Writer, res *TokenResult) {
	fmt.Fprintf(w, "target    %s\n", res.URL)
	fmt.Fprintf(w, "load      CreateChatToken only, %d callers, %d rooms\n\n", res.Concurrency, res.Rooms)
	fmt.Fprintf(w, "tokens    %d in %.2fs (%.0f tokens/s)\n", res.Tokens, res.Seconds, res.TokensPerSecond)
	fmt.Fprintf(w, "latency   p50 %.1fms  p99 %.1fms  max %.1fms\n", res.Latency.P50Ms, res.Latency.P99Ms, res.Latency.MaxMs)
	if len(res.Failures) == 0 {
		fmt.Fprintf(w, "failures  none\n")
	} else {
		fmt.Fprintf(w, "failures  %v\n", res.Failures)
	}
	if res.ServerCPUSeconds > 0 && res.Tokens > 0 {
		fmt.Fprintf(w, "server CPU  %.2fs (%.0f µs/token)\n", res.ServerCPUSeconds, res.ServerCPUSeconds/float64(res.Tokens)*1e6)
	}
	fmt.Fprintf(w, "client CPU  %.2fs\n", res.ClientCPUSeconds)
}
