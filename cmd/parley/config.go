package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleychat/parley/controlplane"
)

// Config is every setting of `parley serve`. Each is a flag with a PARLEY_…
// environment variable twin (--data-dir / PARLEY_DATA_DIR); a flag given on
// the command line wins over the environment.
type Config struct {
	Listen    string
	DataDir   string
	Region    string
	AccountID string
	NodeName  string

	Auth      AuthConfig
	Limits    LimitsConfig
	Messaging MessagingConfig
	Review    ReviewConfig
	ChatLog   ChatLogConfig
	Cluster   ClusterConfig

	// AWSEndpoint is one endpoint for Lambda, S3, CloudWatch Logs and
	// Firehose, under the specific ones.
	AWSEndpoint string

	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
	PprofListen     string
}

// AuthConfig is how API requests and chat tokens are authenticated.
// AccessKeyID and SecretAccessKey come from the environment only
// (PARLEY_ACCESS_KEY_ID / PARLEY_SECRET_ACCESS_KEY), never flags.
type AuthConfig struct {
	AccessKeyID     string
	SecretAccessKey string
	CredentialsFile string
	InsecureDevAuth bool
	TokenKeyFile    string // empty: in the shared store, else the data dir
}

// LimitsConfig is quotas and rate limits.
type LimitsConfig struct {
	APIRateLimits            bool
	APIRates                 rateFlag
	MaxRooms                 int
	MaxLoggingConfigurations int
	ConnectionRate           int
	MaxRoomRate              int
}

// MessagingConfig is the WebSocket side's settings.
type MessagingConfig struct {
	QueueSize    int
	MaxFrameSize int
	PingInterval time.Duration
}

// ReviewConfig is how message review handlers are invoked.
type ReviewConfig struct {
	Timeout        time.Duration
	LambdaEndpoint string
}

// ChatLogConfig is where chat logs go and how they are batched.
type ChatLogConfig struct {
	S3Endpoint             string
	CloudWatchLogsEndpoint string
	FirehoseEndpoint       string
	SpoolMaxBytes          int64
	FlushInterval          time.Duration
	ObjectInterval         time.Duration
}

// ClusterConfig selects the shared store and bus of a cluster. Empty means
// the embedded single-node default.
type ClusterConfig struct {
	DatabaseURL         string
	NATSURL             string
	RoomRefreshInterval time.Duration
}

// envPrefix is the prefix of every environment twin.
const envPrefix = "PARLEY_"

// newFlagSet binds c's fields to the flags of `parley serve`.
func (c *Config) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address for the control plane, the messaging WebSocket, /metrics, /healthz and /readyz")
	fs.StringVar(&c.DataDir, "data-dir", "./parley-data", "directory for the database, keys, chat-log spool and local chat logs")
	fs.StringVar(&c.Region, "region", "us-east-1", "AWS region in ARNs and the SigV4 credential scope")
	fs.StringVar(&c.AccountID, "account-id", "000000000000", "12-digit account id in ARNs")
	fs.StringVar(&c.NodeName, "node-name", "", "this node's name in logs and metrics (default: the address listened on)")
	fs.StringVar(&c.Cluster.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://…) of the store that the nodes of a cluster share; empty = SQLite in the data dir")
	fs.StringVar(&c.Cluster.NATSURL, "nats-url", "", "NATS URL (nats://…) of the bus that the nodes of a cluster share; empty = in-process")
	fs.DurationVar(&c.Cluster.RoomRefreshInterval, "room-refresh-interval", 30*time.Second, "with --nats-url, how often a node re-reads the rooms it holds, bounding how long a missed room update or deletion goes unapplied (also done after every NATS reconnect)")
	fs.StringVar(&c.Auth.CredentialsFile, "credentials-file", "", `JSON file of API keys: {"keys":[{"accessKeyId":…,"secretAccessKey":…,"actions":["ivschat:*"]}]} (default: PARLEY_ACCESS_KEY_ID/PARLEY_SECRET_ACCESS_KEY, else <data-dir>/credentials.json, generated on first start)`)
	fs.BoolVar(&c.Auth.InsecureDevAuth, "insecure-dev-auth", false, "accept any well-formed SigV4 signature from any key (local development only)")
	fs.StringVar(&c.Auth.TokenKeyFile, "token-key-file", "", "32-byte key that seals chat tokens (default: kept in the database with --database-url, else <data-dir>/token.key; generated on first start)")
	fs.BoolVar(&c.Limits.APIRateLimits, "api-rate-limits", true, "enforce the IVS Chat API request rates (ThrottlingException)")
	fs.Var(&c.Limits.APIRates, "api-rates", "per-operation API rates overriding the AWS defaults, e.g. CreateChatToken=500,SendEvent=200")
	fs.IntVar(&c.Limits.MaxRooms, "max-rooms", 50000, "rooms per account (ServiceQuotaExceededException); -1 for no limit")
	fs.IntVar(&c.Limits.MaxLoggingConfigurations, "max-logging-configurations", 10, "logging configurations per account; -1 for no limit")
	fs.IntVar(&c.Limits.ConnectionRate, "connection-rate", 10, "messaging requests per second per connection; -1 for no limit")
	fs.IntVar(&c.Limits.MaxRoomRate, "max-room-rate", 100, "highest maximumMessageRatePerSecond a room may have; above 100, rooms at 100 get this rate")
	fs.IntVar(&c.Messaging.QueueSize, "queue-size", 256, "frames buffered per connection before it is closed as a slow consumer")
	fs.IntVar(&c.Messaging.MaxFrameSize, "max-frame-size", 0, "largest client frame in bytes (0: the messaging default)")
	fs.DurationVar(&c.Messaging.PingInterval, "ping-interval", 30*time.Second, "WebSocket ping interval; a peer silent for two intervals is dropped")
	fs.DurationVar(&c.Review.Timeout, "review-timeout", 200*time.Millisecond, "deadline of a message review handler")
	fs.StringVar(&c.Review.LambdaEndpoint, "lambda-endpoint", "", "endpoint of the Lambda Invoke API for review handlers (default: AWS, or --aws-endpoint)")
	fs.StringVar(&c.AWSEndpoint, "aws-endpoint", "", "one endpoint for Lambda, S3, CloudWatch Logs and Firehose (e.g. LocalStack)")
	fs.StringVar(&c.ChatLog.S3Endpoint, "s3-endpoint", "", "S3 endpoint for chat logs (e.g. MinIO)")
	fs.StringVar(&c.ChatLog.CloudWatchLogsEndpoint, "cloudwatch-logs-endpoint", "", "CloudWatch Logs endpoint for chat logs")
	fs.StringVar(&c.ChatLog.FirehoseEndpoint, "firehose-endpoint", "", "Firehose endpoint for chat logs")
	fs.Int64Var(&c.ChatLog.SpoolMaxBytes, "spool-max-bytes", 1<<30, "size bound of the chat-log spool")
	fs.DurationVar(&c.ChatLog.FlushInterval, "chatlog-flush-interval", time.Second, "how often spooled chat-log records are sent to CloudWatch Logs and Firehose")
	fs.DurationVar(&c.ChatLog.ObjectInterval, "chatlog-object-interval", time.Minute, "how often an S3 chat-log object is written per room")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.PprofListen, "pprof-listen", "", "address for net/http/pprof, apart from --listen (profiling only; empty = off)")
	return fs
}

// parse reads args and then the environment into c.
func (c *Config) parse(name string, args []string, getenv func(string) string) error {
	fs := c.newFlagSet(name)
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return err
	}
	c.Auth.AccessKeyID = getenv(envPrefix + "ACCESS_KEY_ID")
	c.Auth.SecretAccessKey = getenv(envPrefix + "SECRET_ACCESS_KEY")
	return c.validate()
}

func (c *Config) validate() error {
	if (c.Auth.AccessKeyID == "") != (c.Auth.SecretAccessKey == "") {
		return fmt.Errorf("set both PARLEY_ACCESS_KEY_ID and PARLEY_SECRET_ACCESS_KEY, or neither")
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		return fmt.Errorf("--account-id must be 12 digits, got %q", c.AccountID)
	}
	if c.Region == "" || strings.Trim(c.Region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("--region must match [a-z0-9-]+, got %q", c.Region)
	}
	if c.Limits.MaxRoomRate < 1 {
		return fmt.Errorf("--max-room-rate must be at least 1")
	}
	return nil
}

// rateFlag is a list of Operation=requestsPerSecond pairs.
type rateFlag map[string]int

func (f *rateFlag) String() string {
	var parts []string
	for op, n := range *f {
		parts = append(parts, op+"="+strconv.Itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (f *rateFlag) Set(v string) error {
	m := rateFlag{}
	for _, part := range strings.Split(v, ",") {
		op, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		rate, err := strconv.Atoi(n)
		if !ok || err != nil || rate < 1 {
			return fmt.Errorf("want Operation=N with N ≥ 1, got %q", part)
		}
		if _, known := controlplane.DefaultRateLimits()[op]; !known {
			return fmt.Errorf("unknown operation %q", op)
		}
		m[op] = rate
	}
	*f = m
	return nil
}

// rateLimits returns the AWS defaults with the configured overrides.
func (c *Config) rateLimits() map[string]int {
	limits := controlplane.DefaultRateLimits()
	for op, n := range c.Limits.APIRates {
		limits[op] = n
	}
	return limits
}

// envName returns the environment twin of a flag: data-dir → PARLEY_DATA_DIR.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// tokenKeyPath is --token-key-file, else token.key in the data dir.
func (c *Config) tokenKeyPath() string {
	if c.Auth.TokenKeyFile != "" {
		return c.Auth.TokenKeyFile
	}
	return filepath.Join(c.DataDir, "token.key")
}
