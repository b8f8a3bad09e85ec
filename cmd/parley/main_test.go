package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"

	"github.com/parleychat/parley/sigv4"
)

const testAKID, testSecret = "PKTESTTESTTESTTEST01", "test-secret-test-secret-test-secret-0000"

// MustOpenMain starts a real Main on a random port with its own data dir;
// opts change the configuration before Open.
func MustOpenMain(tb testing.TB, dataDir string, opts ...func(*Config)) *Main {
	tb.Helper()
	m := NewMain()
	m.Config.Listen = "127.0.0.1:0"
	m.Config.DataDir = dataDir
	m.Config.Auth.AccessKeyID, m.Config.Auth.SecretAccessKey = testAKID, testSecret
	m.Config.LogLevel = "error"
	for _, o := range opts {
		o(&m.Config)
	}
	if err := m.Open(context.Background()); err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	return m
}

func newClient(addr, akid, secret string) *ivschat.Client {
	return ivschat.New(ivschat.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		BaseEndpoint: aws.String("http://" + addr),
	})
}

func TestMain_EndToEnd(t *testing.T) {
	m := MustOpenMain(t, t.TempDir())
	ctx := context.Background()
	client := newClient(m.Addr, testAKID, testSecret)

	room, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{Name: aws.String("lobby")})
	if err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if got := aws.ToInt32(room.MaximumMessageLength); got != 500 {
		t.Fatalf("maximumMessageLength=%d, want 500", got)
	}
	tok, err := client.CreateChatToken(ctx, &ivschat.CreateChatTokenInput{RoomIdentifier: room.Arn, UserId: aws.String("alice")})
	if err != nil {
		t.Fatalf("CreateChatToken: %v", err)
	}
	if aws.ToString(tok.Token) == "" || tok.SessionExpirationTime.Before(*tok.TokenExpirationTime) {
		t.Fatalf("token=%+v", tok)
	}

	t.Run("ErrWrongSecret", func(t *testing.T) {
		_, err := newClient(m.Addr, testAKID, "wrong").GetRoom(ctx, &ivschat.GetRoomInput{Identifier: room.Arn})
		if code := apiErrorCode(err); code != "InvalidSignatureException" {
			t.Fatalf("code=%q (%v), want InvalidSignatureException", code, err)
		}
	})
	t.Run("ErrRoomNotFound", func(t *testing.T) {
		_, err := client.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: aws.String("arn:aws:ivschat:us-east-1:000000000000:room/AAAAAAAAAAAA")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != "AAAAAAAAAAAA" {
			t.Fatalf("err=%v, want ResourceNotFoundException for AAAAAAAAAAAA", err)
		}
	})
	t.Run("Health", func(t *testing.T) {
		for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
			resp, err := http.Get("http://" + m.Addr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET %s=%d, want %d", path, resp.StatusCode, want)
			}
			if path == "/metrics" && !strings.Contains(string(body), "parley_api_requests_total") {
				t.Fatalf("/metrics lacks parley_api_requests_total")
			}
		}
	})
}

func apiErrorCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestMain_GeneratedCredentials(t *testing.T) {
	dir := t.TempDir()
	m := NewMain()
	m.Config.Listen, m.Config.DataDir, m.Config.LogLevel = "127.0.0.1:0", dir, "error"
	var banner strings.Builder
	m.Stdout = &banner
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	keys, err := sigv4.LoadKeyFile(filepath.Join(dir, credentialsFileName))
	if err != nil || len(keys) != 1 {
		t.Fatalf("generated credentials: %v %v", keys, err)
	}
	if !strings.Contains(banner.String(), keys[0].AccessKeyID) {
		t.Fatalf("banner does not print the generated key:\n%s", banner.String())
	}
	if _, err := newClient(m.Addr, keys[0].AccessKeyID, keys[0].SecretAccessKey).ListRooms(context.Background(), &ivschat.ListRoomsInput{}); err != nil {
		t.Fatalf("ListRooms with the generated key: %v", err)
	}
}

func TestConfig_EnvironmentTwins(t *testing.T) {
	env := map[string]string{"PARLEY_LISTEN": "127.0.0.1:9999", "PARLEY_DATA_DIR": "/tmp/x", "PARLEY_MAX_ROOM_RATE": "500",
		"PARLEY_API_RATE_LIMITS": "false", "PARLEY_REGION": "eu-west-1", "PARLEY_CHATLOG_OBJECT_INTERVAL": "90s"}
	var c Config
	if err := c.parse("test", []string{"--region", "us-west-2"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.DataDir != "/tmp/x" || c.Limits.MaxRoomRate != 500 || c.Limits.APIRateLimits ||
		c.ChatLog.ObjectInterval != 90*time.Second {
		t.Fatalf("environment not applied: %+v", c)
	}
	if c.Region != "us-west-2" {
		t.Fatalf("region=%q, want the flag to win over PARLEY_REGION", c.Region)
	}
	if err := c.parse("test", nil, func(k string) string { return map[string]string{"PARLEY_MAX_ROOMS": "many"}[k] }); err == nil {
		t.Fatal("bad PARLEY_MAX_ROOMS accepted")
	}
	if err := c.parse("test", []string{"--api-rates", "CreateChatToken=500,SendEvent=7"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if got := c.rateLimits(); got["CreateChatToken"] != 500 || got["SendEvent"] != 7 || got["CreateRoom"] != 5 {
		t.Fatalf("rateLimits=%v", got)
	}
	for _, bad := range []string{"CreateChatToken=0", "NoSuchOp=5", "CreateRoom"} {
		if err := c.parse("test", []string{"--api-rates", bad}, func(string) string { return "" }); err == nil {
			t.Fatalf("--api-rates %q accepted", bad)
		}
	}
}

// built is the binary that buildParley compiles once per test run;
// TestMain removes it.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildParley compiles the binary once per test run and returns its path.
func buildParley(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "parley-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "parley")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// startParley runs the binary and waits for its banner; it returns the
// process and the address it listens on.
func startParley(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...)...)
	cmd.Env = append(os.Environ(), "PARLEY_ACCESS_KEY_ID="+testAKID, "PARLEY_SECRET_ACCESS_KEY="+testSecret)
	return cmd, startServing(t, cmd)
}

// startServing starts cmd, a `parley serve`, kills it at the end of the
// test, and returns the address its banner prints.
func startServing(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`control plane:\s+http://(\S+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("server did not print its address")
		return ""
	}
}

// TestDurability_SIGKILL creates resources, kills the process with
// SIGKILL, restarts on the same data dir: everything answered 2xx is there.
func TestDurability_SIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dir := buildParley(t), t.TempDir()
	ctx := context.Background()
	// API rate limits off: 20 CreateRooms at once exceed CreateRoom's rate,
	// and this test is about what survives the kill, not about throttling.
	cmd, addr := startParley(t, bin, "--data-dir", dir, "--api-rate-limits=false")
	client := newClient(addr, testAKID, testSecret)

	var arns []string
	for i := 0; i < 20; i++ {
		out, err := client.CreateRoom(ctx, &ivschat.CreateRoomInput{Tags: map[string]string{"n": "v"}})
		if err != nil {
			t.Fatalf("CreateRoom: %v", err)
		}
		arns = append(arns, aws.ToString(out.Arn))
	}
	if _, err := client.UpdateRoom(ctx, &ivschat.UpdateRoomInput{Identifier: aws.String(arns[0]), Name: aws.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	lc, err := client.CreateLoggingConfiguration(ctx, &ivschat.CreateLoggingConfigurationInput{
		DestinationConfiguration: &types.DestinationConfigurationMemberS3{Value: types.S3DestinationConfiguration{BucketName: aws.String("chat-logs")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	_, addr = startParley(t, bin, "--data-dir", dir)
	client = newClient(addr, testAKID, testSecret)
	for i, arn := range arns {
		got, err := client.GetRoom(ctx, &ivschat.GetRoomInput{Identifier: aws.String(arn)})
		if err != nil {
			t.Fatalf("room %d lost after SIGKILL: %v", i, err)
		}
		if got.Tags["n"] != "v" {
			t.Fatalf("room %d tags=%v", i, got.Tags)
		}
		if i == 0 && aws.ToString(got.Name) != "renamed" {
			t.Fatalf("update lost: name=%q", aws.ToString(got.Name))
		}
	}
	if _, err := client.GetLoggingConfiguration(ctx, &ivschat.GetLoggingConfigurationInput{Identifier: lc.Arn}); err != nil {
		t.Fatalf("logging configuration lost: %v", err)
	}
}

// TestGracefulShutdown_SIGTERM: the process exits 0 on SIGTERM.
func TestGracefulShutdown_SIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cmd, addr := startParley(t, buildParley(t), "--data-dir", t.TempDir())
	if _, err := newClient(addr, testAKID, testSecret).ListRooms(context.Background(), &ivschat.ListRoomsInput{}); err != nil {
		t.Fatal(err)
	}
	stopGracefully(t, cmd)
}

// TestREADME_CLIExample runs the README's AWS CLI example as written against
// a server started the way the README says, in a scratch directory.
func TestREADME_CLIExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- readme-cli-example:start -->\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README lacks the CLI example block")
	}
	dir := t.TempDir()
	cmd := exec.Command(buildParley(t), "serve", "--listen", "127.0.0.1:0", "--log-level", "error")
	cmd.Dir = dir
	cmd.Env = os.Environ()
	addr := startServing(t, cmd)
	script := "set -euo pipefail\n" + strings.ReplaceAll(string(m[1]), "127.0.0.1:8080", addr)
	sh := exec.Command("bash", "-c", script)
	sh.Dir = dir
	sh.Env = append(os.Environ(), "PATH="+filepath.Dir(awsBin)+":"+os.Getenv("PATH"))
	res, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("README example failed: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), `"token"`) || !strings.Contains(string(res), "tokenExpirationTime") {
		t.Fatalf("README example printed no token:\n%s", res)
	}
}
