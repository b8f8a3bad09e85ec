package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivschat"
	"github.com/aws/aws-sdk-go-v2/service/ivschat/types"
	"github.com/gorilla/websocket"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// setAWSEnv gives the server's AWS SDK clients (review, chat logging)
// static credentials and keeps them away from real AWS configuration.
func setAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

// noAPIRateLimits lets a test create rooms and configurations quickly.
func noAPIRateLimits(c *Config) { c.Limits.APIRateLimits = false }

// wsFrame is a frame a client received, raw and decoded.
type wsFrame struct {
	Raw        []byte `json:"-"`
	Type       string
	ID         string `json:"Id"`
	RequestID  string `json:"RequestId"`
	Content    string
	EventName  string
	ErrorCode  int
	Attributes map[string]string
	SendTime   time.Time
	Sender     struct {
		UserID string `json:"UserId"`
	}
}

// wsClient is a real WebSocket client (gorilla/websocket) of a room.
type wsClient struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan wsFrame
	seq    int
}

// dialRoom connects user to a room with a fresh token as the subprotocol,
// as the IVS messaging SDKs do.
func dialRoom(t *testing.T, addr string, client *ivschat.Client, roomARN, user string, caps ...types.ChatTokenCapability) *wsClient {
	t.Helper()
	return dialToken(t, addr, client, &ivschat.CreateChatTokenInput{RoomIdentifier: aws.String(roomARN), UserId: aws.String(user), Capabilities: caps})
}

// dialToken creates a chat token for in with the official SDK and connects
// with it.
func dialToken(t *testing.T, addr string, client *ivschat.Client, in *ivschat.CreateChatTokenInput) *wsClient {
	t.Helper()
	out, err := client.CreateChatToken(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateChatToken: %v", err)
	}
	tok := aws.ToString(out.Token)
	d := websocket.Dialer{Subprotocols: []string{tok}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+addr, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, ws: ws, frames: make(chan wsFrame, 1024)}
	go c.read()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *wsClient) read() {
	defer close(c.frames)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		f := wsFrame{Raw: b}
		if err := json.Unmarshal(b, &f); err != nil {
			c.t.Errorf("undecodable frame %s: %v", b, err)
		}
		c.frames <- f
	}
}

// sendMessage sends a SEND_MESSAGE request and returns its RequestId.
func (c *wsClient) sendMessage(content string, attrs map[string]string) string {
	c.t.Helper()
	c.seq++
	rid := fmt.Sprintf("req-%d-%d", time.Now().UnixNano(), c.seq)
	c.send(map[string]any{"Action": "SEND_MESSAGE", "RequestId": rid, "Content": content, "Attributes": attrs})
	return rid
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame, failing the test after timeout.
func (c *wsClient) next(timeout time.Duration) wsFrame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("connection closed while waiting for a frame")
		}
		return f
	case <-time.After(timeout):
		c.t.Fatalf("no frame within %v", timeout)
		return wsFrame{}
	}
}

// metric returns the sum of the samples of a counter or gauge on /metrics
// whose labels contain every label="value" given.
func metric(t *testing.T, addr, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	sum := 0.0
	for _, m := range mfs[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && have[labels[i]] == labels[i+1]
		}
		if ok {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
