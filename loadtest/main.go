// Package loadtest is `parley bench`: a load generator that drives a running
// Parley (or any IVS Chat compatible service) through its control plane and
// messaging WebSocket, and measures connection rate, delivery rate,
// end-to-end latency, lost and duplicated messages, ERROR frames, and the
// server's memory and CPU.
package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the settings of a run; Main fills it from flags.
type Config struct {
	URL string // control plane, e.g. http://127.0.0.1:8080
	// WSURL is the messaging WebSocket URL, or several separated by commas
	// (nodes of a cluster): connection i dials URL i mod n. Empty: derived
	// from URL.
	WSURL     string
	AccessKey string
	SecretKey string
	Region    string

	Conns   int     // connections in total, senders included
	Rooms   int     // connection i joins room i mod Rooms
	Senders int     // connections 0..Senders-1 also send
	Rate    float64 // messages per second over all senders; 0: as fast as Window allows
	Payload int     // bytes of Content per message

	Duration        time.Duration // length of the send phase
	Ramp            float64       // new connections per second; 0: unpaced
	DialConcurrency int           // token requests and handshakes in progress at once
	Window          int           // messages per sender sent but not yet echoed back
	Settle          time.Duration // pause between the last connection and the first message
	Drain           time.Duration // longest wait for messages in flight after sending
	RoomRate        int           // maximumMessageRatePerSecond of the rooms created

	ExpectErrors []int  // ERROR codes that do not fail the run
	ServerPIDs   []int  // local server processes to sample from /proc
	Sources      string // source addresses for loopback targets
	KeepRooms    bool   // do not delete the rooms afterwards
}

// check validates cfg and fills WSURL.
func (c *Config) check() error {
	switch {
	case c.Conns < 1:
		return errors.New("-conns must be at least 1")
	case c.Rooms < 1 || c.Rooms > c.Conns:
		return errors.New("-rooms must be between 1 and -conns")
	case c.Senders < 1 || c.Senders > c.Conns:
		return errors.New("-senders must be between 1 and -conns")
	case c.Rate < 0 || c.Ramp < 0:
		return errors.New("-rate and -ramp must not be negative")
	case c.Payload < 1 || c.Payload > 500:
		return errors.New("-payload must be between 1 and 500 (the room's maximumMessageLength)")
	case c.Window < 1 || c.DialConcurrency < 1:
		return errors.New("-window and -dial-concurrency must be at least 1")
	case c.RoomRate < 1 || c.RoomRate > 100:
		return errors.New("-room-rate must be between 1 and 100")
	case c.Duration <= 0 || c.Settle < 0 || c.Drain < 0:
		return errors.New("-duration must be positive, -settle and -drain not negative")
	case c.AccessKey == "" || c.SecretKey == "":
		return errors.New("no credentials: give -access-key and -secret-key, set PARLEY_ACCESS_KEY_ID and PARLEY_SECRET_ACCESS_KEY, or give -data-dir")
	}
	if c.WSURL == "" {
		u, err := deriveWSURL(c.URL)
		if err != nil {
			return err
		}
		c.WSURL = u
	}
	if _, err := splitWSURLs(c.WSURL); err != nil {
		return err
	}
	if _, err := sourceAddrs(c.Sources); err != nil {
		return err
	}
	return nil
}

// options are the flags that are not part of Config.
type options struct {
	dataDir    string
	serverPID  string
	expect     string
	jsonOut    bool
	report     string
	failOnLoss bool
	quiet      bool
	tokensOnly bool
}

const usageHead = `Usage: parley bench [flags]

Drives a running Parley with many WebSocket clients: creates -rooms rooms and
a chat token per connection through the control plane (SigV4), opens -conns
connections at -ramp per second, has the first -senders of them send -rate
messages per second in total for -duration, waits up to -drain for messages
in flight, and reports connection rate and failures, deliveries per second,
end-to-end latency, lost and duplicated messages (each message is expected
exactly once at every connection of its room), ERROR frames by code, and,
with -server-pid, the server's memory and CPU. A progress line goes to
stderr every second.

The server's default limits (10 requests/s per connection, the room's
maximumMessageRatePerSecond) apply: keep -rate/-senders and the per-room rate
below them, or raise them on the server, or list 429 in -expect-errors.

Flags:
`

// newFlagSet defines every flag of `parley bench` on a new FlagSet.
func newFlagSet(cfg *Config, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "control-plane `URL` of the server")
	fs.StringVar(&cfg.WSURL, "ws-url", "", "messaging WebSocket `URL`s, comma-separated: connection i dials URL i mod n, e.g. one per cluster node, or the balancer's one (default: -url with ws:// or wss:// and path /)")
	fs.StringVar(&cfg.AccessKey, "access-key", os.Getenv("PARLEY_ACCESS_KEY_ID"), "access key id for SigV4 (default $PARLEY_ACCESS_KEY_ID, else from -data-dir)")
	fs.StringVar(&cfg.SecretKey, "secret-key", os.Getenv("PARLEY_SECRET_ACCESS_KEY"), "secret access key (default $PARLEY_SECRET_ACCESS_KEY, else from -data-dir)")
	fs.StringVar(&o.dataDir, "data-dir", "", "server data `dir` whose credentials.json supplies the key when none is given")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region for SigV4")
	fs.IntVar(&cfg.Conns, "conns", 1000, "WebSocket connections in total, senders included")
	fs.IntVar(&cfg.Rooms, "rooms", 10, "rooms to create; connection i joins room i mod rooms")
	fs.IntVar(&cfg.Senders, "senders", 10, "connections that also send (sender k is in room k mod rooms)")
	fs.Float64Var(&cfg.Rate, "rate", 50, "messages per second over all senders; 0 = as fast as the server takes them (bounded by -window)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of the send phase")
	fs.Float64Var(&cfg.Ramp, "ramp", 500, "new connections per second while connecting; 0 = as fast as -dial-concurrency allows")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "token requests and handshakes in progress at once")
	fs.IntVar(&cfg.Payload, "payload", 100, "bytes of Content per message (1-500; at least the ~40-byte mark is sent)")
	fs.IntVar(&cfg.Window, "window", 32, "messages per sender in flight (sent, not yet echoed back to it)")
	fs.DurationVar(&cfg.Settle, "settle", time.Second, "pause after the last connection opened before sending (a server may join a connection to its room just after the handshake)")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "after sending, wait at most this long for messages in flight; what has not arrived then is lost")
	fs.IntVar(&cfg.RoomRate, "room-rate", 100, "maximumMessageRatePerSecond of the rooms created (1-100)")
	fs.StringVar(&o.expect, "expect-errors", "", "comma-separated ERROR codes (e.g. 429) that do not fail the run")
	fs.BoolVar(&o.failOnLoss, "fail-on-loss", true, "exit non-zero if any message was lost or duplicated or an unexpected ERROR frame came")
	fs.StringVar(&o.serverPID, "server-pid", "", "`pid`s of local server processes (comma-separated, e.g. every node of a cluster) to sample RSS and CPU from /proc, summed and per process, with server CPU seconds per million deliveries; or \"auto\" to find the one running \"parley serve\"")
	fs.StringVar(&cfg.Sources, "src", "127.0.0.2-127.0.0.20", "source addresses (range or comma list) to spread connections over when the target is loopback; empty = the kernel's choice")
	fs.BoolVar(&cfg.KeepRooms, "keep-rooms", false, "do not delete the rooms when done")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON on stdout instead of the table")
	fs.StringVar(&o.report, "report", "", "also write a self-contained HTML report with charts to `file`")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line on stderr")
	fs.BoolVar(&o.tokensOnly, "tokens-only", false, "only call CreateChatToken, from -dial-concurrency callers for -duration, and report tokens/s (no WebSocket connections)")
	return fs
}

// parseFlags parses args into a Config and the output options.
func parseFlags(args []string, stderr io.Writer) (Config, options, error) {
	var cfg Config
	var o options
	fs := newFlagSet(&cfg, &o, stderr)
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if fs.NArg() > 0 {
		return cfg, o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(o.expect, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		code, err := strconv.Atoi(s)
		if err != nil {
			return cfg, o, fmt.Errorf("-expect-errors: %q is not a number", s)
		}
		cfg.ExpectErrors = append(cfg.ExpectErrors, code)
	}
	if (cfg.AccessKey == "" || cfg.SecretKey == "") && o.dataDir != "" {
		a, s, err := keyFromDataDir(o.dataDir)
		if err != nil {
			return cfg, o, err
		}
		cfg.AccessKey, cfg.SecretKey = a, s
	}
	pids, err := resolvePIDs(o.serverPID)
	if err != nil {
		return cfg, o, err
	}
	cfg.ServerPIDs = pids
	return cfg, o, cfg.check()
}

// resolvePIDs parses -server-pid: "", "auto" or a comma-separated list.
func resolvePIDs(s string) ([]int, error) {
	switch strings.TrimSpace(s) {
	case "":
		return nil, nil
	case "auto":
		pid, err := findServerPID()
		if err != nil {
			return nil, err
		}
		return []int{pid}, nil
	}
	var pids []int
	for _, f := range strings.Split(s, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-server-pid: %q is neither a list of process ids nor \"auto\"", s)
		}
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Main runs `parley bench` with args (the arguments after "bench"). It writes
// the result to stdout and progress and warnings to stderr. It returns
// flag.ErrHelp for -h, an error for bad flags or a run that could not be
// carried out, and, with -fail-on-loss, an error when messages were lost or
// duplicated or an unexpected ERROR frame came.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.tokensOnly {
		return mainTokens(ctx, cfg, o, stdout)
	}
	warn(cfg, stderr)
	var progress io.Writer = stderr
	if o.quiet {
		progress = nil
	}
	res, err := Run(ctx, cfg, progress)
	if err != nil {
		return err
	}
	if err := writeResult(stdout, o.jsonOut, res, func(w io.Writer) { WriteTable(w, res) }); err != nil {
		return err
	}
	if o.report != "" {
		if err := writeReportFile(o.report, res); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report written to %s\n", o.report)
	}
	if o.failOnLoss && len(res.Failures) > 0 {
		return fmt.Errorf("bench failed: %s", strings.Join(res.Failures, "; "))
	}
	return nil
}

// writeResult writes res as indented JSON, or as the readable table.
func writeResult(w io.Writer, asJSON bool, res any, table func(io.Writer)) error {
	if !asJSON {
		table(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// mainTokens runs -tokens-only and writes its result.
func mainTokens(ctx context.Context, cfg Config, o options, stdout io.Writer) error {
	res, err := RunTokens(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeResult(stdout, o.jsonOut, res, func(w io.Writer) { WriteTokenTable(w, res) }); err != nil {
		return err
	}
	if o.failOnLoss && len(res.Failures) > 0 {
		return fmt.Errorf("bench failed: %d CreateChatToken calls failed", sumCounts(res.Failures))
	}
	return nil
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// warn points out settings that the server's default limits will refuse.
func warn(cfg Config, w io.Writer) {
	if cfg.Rate == 0 {
		return
	}
	if per := cfg.Rate / float64(cfg.Senders); per > 10 {
		fmt.Fprintf(w, "warning: %.1f messages/s per sender is above the default limit of 10 requests/s per connection\n", per)
	}
	busiest := float64(sendersIn(0, cfg.Rooms, cfg.Senders)) * cfg.Rate / float64(cfg.Senders)
	if busiest > float64(cfg.RoomRate) {
		fmt.Fprintf(w, "warning: up to %.1f messages/s per room is above -room-rate %d\n", busiest, cfg.RoomRate)
	}
}

func writeReportFile(path string, res *Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := WriteHTML(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
