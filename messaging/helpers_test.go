package messaging_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/messaging"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/parleychat/parley/token"
	"github.com/prometheus/client_golang/prometheus"
)

// env is a messaging Server on a real socket, with a real SQLite store and
// the in-process bus.
type env struct {
	srv    *messaging.Server
	store  *sqlite.Store
	bus    *inmem.Bus
	tokens *token.Sealer
	reg    *prometheus.Registry
	url    string
	room   *parley.Room
}

// newEnv starts a Server; configure may set its fields before it serves.
func newEnv(t *testing.T, configure func(*messaging.Server)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	key := make([]byte, token.KeySize)
	rand.Read(key)
	sealer, err := token.NewSealer(key)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	e := &env{store: st, bus: inmem.New(), tokens: sealer, reg: prometheus.NewRegistry()}
	e.room = e.createRoom(t, func(*parley.Room) {})
	e.srv = &messaging.Server{
		Store: st, Bus: e.bus, Tokens: e.tokens, Registerer: e.reg,
		ConnectionRate: -1, Logger: slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(e.srv)
	}
	hs := httptest.NewServer(e.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		hs.Close()
	})
	e.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return e
}

// createRoom stores a room with default settings changed by edit.
func (e *env) createRoom(t *testing.T, edit func(*parley.Room)) *parley.Room {
	t.Helper()
	now := time.Now().UTC()
	id := parley.NewID()
	r := &parley.Room{
		ID: id, ARN: "arn:aws:ivschat:us-east-1:000000000000:room/" + id,
		MaximumMessageLength:        parley.DefaultMaximumMessageLength,
		MaximumMessageRatePerSecond: parley.DefaultMaximumMessageRatePerSecond,
		CreateTime:                  now, UpdateTime: now,
	}
	edit(r)
	if err := e.store.CreateRoom(context.Background(), r, 0); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	return r
}

// tokenOpts describes a chat token for the env's room.
type tokenOpts struct {
	room    *parley.Room
	user    string
	caps    []parley.Capability
	attrs   map[string]string
	session time.Duration // zero means one hour
}

var allCaps = []parley.Capability{parley.CapabilitySendMessage, parley.CapabilityDeleteMessage, parley.CapabilityDisconnectUser}

// token seals a fresh chat token.
func (e *env) token(t *testing.T, o tokenOpts) string {
	t.Helper()
	if o.room == nil {
		o.room = e.room
	}
	if o.session == 0 {
		o.session = time.Hour
	}
	now := time.Now()
	tok := &parley.ChatToken{
		ID: parley.NewID() + parley.NewID(), RoomID: o.room.ID, RoomARN: o.room.ARN, UserID: o.user,
		Capabilities: o.caps, Attributes: o.attrs,
		ConnectDeadline: parley.ConnectDeadlineFor(now, o.session), SessionExpiry: now.Add(o.session),
	}
	return e.seal(t, tok)
}

// dialStatus tries to connect with token and returns the HTTP status of a
// refused handshake (101 when it succeeded) and the body.
func (e *env) dialStatus(t *testing.T, token string) (int, string) {
	t.Helper()
	var protos []string
	if token != "" {
		protos = []string{token}
	}
	d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(e.url+"/any/path", nil)
	if err == nil {
		ws.Close()
		return resp.StatusCode, ""
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	var body strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	body.Write(buf[:n])
	return resp.StatusCode, body.String()
}

// client is a test client connection.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial connects with token, checking that the server echoed it as the
// subprotocol.
func (e *env) dial(t *testing.T, token string) *client {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{token}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(e.url, nil)
	if err != nil {
		t.Fatalf("dial: %v (status %v)", err, resp)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != token {
		t.Fatalf("Sec-WebSocket-Protocol=%q, want the token", got)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// connect seals a token for o and dials it.
func (e *env) connect(t *testing.T, o tokenOpts) *client {
	t.Helper()
	return e.dial(t, e.token(t, o))
}

// send writes v as a JSON text frame.
func (c *client) send(v any) {
	c.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// frame is a received frame, raw and decoded.
type frame struct {
	Raw          string
	Type         string
	ID           string `json:"Id"`
	RequestID    string `json:"RequestId"`
	Content      string
	EventName    string
	ErrorCode    int
	ErrorMessage string
	Attributes   map[string]string
	SendTime     string
	Sender       *struct {
		UserID     string `json:"UserId"`
		Attributes map[string]string
	}
}

// read returns the next frame, failing after five seconds.
func (c *client) read() frame {
	c.t.Helper()
	f, err := c.tryRead(5 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *client) tryRead(d time.Duration) (frame, error) {
	c.ws.SetReadDeadline(time.Now().Add(d))
	typ, b, err := c.ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	if typ != websocket.TextMessage {
		c.t.Fatalf("frame type %d, want text", typ)
	}
	f := frame{Raw: string(b)}
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return f, nil
}

// readError reads the next frame and checks it is an ERROR with code.
func (c *client) readError(code int, requestID string) frame {
	c.t.Helper()
	f := c.read()
	if f.Type != parley.TypeError || f.ErrorCode != code || f.RequestID != requestID {
		c.t.Fatalf("got %s, want ERROR %d with RequestId %q", f.Raw, code, requestID)
	}
	if !parley.ValidID(f.ID) || f.ErrorMessage == "" {
		c.t.Fatalf("ERROR frame without Id or message: %s", f.Raw)
	}
	return f
}

// readClose reads until the connection closes and returns the close code.
func (c *client) readClose() int {
	c.t.Helper()
	for {
		_, err := c.tryRead(5 * time.Second)
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code
		}
		c.t.Fatalf("connection ended without a close frame: %v", err)
	}
}

// seal seals tok with the env's real token.Sealer.
func (e *env) seal(t *testing.T, tok *parley.ChatToken) string {
	t.Helper()
	raw, err := e.tokens.Seal(tok)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return raw
}

// metric returns the summed value of the named metric family.
func (e *env) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}
