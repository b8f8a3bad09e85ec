// Package messaging serves the IVS Chat Messaging API: the WebSocket that
// chat clients connect to with a chat token. It checks the token at the
// handshake, reads the clients' requests (SEND_MESSAGE, DELETE_MESSAGE,
// DISCONNECT_USER), publishes the resulting frames on the Bus, and writes
// the room's traffic, delivered by the hub, to each connection.
//
// After the handshake a connection holds no goroutine of its own: its bytes
// are read when they arrive (epoll on Linux), and a writer goroutine runs
// only while frames are queued; a client whose bounded queue is full is
// closed as a slow consumer.
package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/hub"
	"github.com/parleychat/parley/roomevent"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the messaging side needs of the parley.Store: the room a
// token names, and the single-use record of tokens.
type Store interface {
	// FindRoom returns the room with the bare ID id, or
	// ResourceNotFoundException.
	FindRoom(ctx context.Context, id string) (*parley.Room, error)
	// UseToken records that the chat token tokenID was used; it returns
	// ConflictException when it was used before.
	UseToken(ctx context.Context, tokenID string, expiresAt time.Time) error
}

// TokenOpener opens sealed chat tokens.
type TokenOpener interface {
	// Open returns the claims of a sealed token, or an error (Unauthorized)
	// when it is forged or malformed.
	Open(sealed string) (*parley.ChatToken, error)
}

// Server is the messaging WebSocket endpoint. Set the fields, then use it
// as an http.Handler; the zero value of each optional field is documented.
type Server struct {
	// Store loads rooms and records used tokens.
	Store Store
	// Bus carries room traffic between nodes.
	Bus parley.Bus
	// Tokens opens the chat tokens offered at the handshake.
	Tokens TokenOpener
	// Limiter counts room message rates under "room:"+roomID. Nil turns
	// every messaging rate limit off, per-connection ones included.
	Limiter parley.Limiter
	// ConnectionRate is requests per second per connection. Zero means 10;
	// negative means unlimited.
	ConnectionRate int
	// MaxRoomRate is the ceiling of room message rates. Zero means 100, the
	// model's maximum. When it is above 100, rooms configured at 100 get
	// MaxRoomRate instead; when below, every room is capped at it.
	MaxRoomRate int
	// Reviewer invokes message review handlers. Nil: rooms with a handler
	// get their fallbackResult.
	Reviewer parley.Reviewer
	// ReviewTimeout bounds one review. Zero means 200ms.
	ReviewTimeout time.Duration
	// ChatLog records every MESSAGE and client-originated EVENT after it was
	// published. Nil: no chat logging.
	ChatLog parley.ChatLog
	// QueueSize is frames buffered per connection. Zero means 256.
	QueueSize int
	// MaxFrameSize is the largest client frame accepted, in bytes. Zero
	// means 16 KiB. A larger frame is discarded as it is read and answered
	// with ERROR 413; one larger than max(1 MiB, 4×MaxFrameSize) closes the
	// connection with 1009.
	MaxFrameSize int
	// PingInterval is how often the server pings. Zero means 30s. A peer
	// that has sent nothing (not even a pong) for two intervals is dropped
	// at the next ping, so after two to three intervals of silence.
	PingInterval time.Duration
	// Logger receives connection failures. Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics. Nil: no metrics.
	Registerer prometheus.Registerer
	// PerRoomMetrics labels parley_ws_connections by room, one series per
	// room with local connections. False (the default) reports the node's
	// total only, which a cluster with many rooms can afford.
	PerRoomMetrics bool
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// NodeName names this node on the messages it publishes. In a cluster
	// every node's name differs: a node counts the room messages that other
	// nodes accepted against the room's rate (see chargeRemote).
	NodeName string

	once    sync.Once
	hub     *hub.Hub
	events  *roomevent.Service
	metrics *metrics

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup // one count per connection and per running writer
}

// Defaults of the optional fields.
const (
	defaultConnectionRate = 10
	defaultMaxRoomRate    = 100
	defaultReviewTimeout  = 200 * time.Millisecond
	defaultQueueSize      = 256
	defaultMaxFrameSize   = 16 << 10
	defaultPingInterval   = 30 * time.Second

	// writeTimeout bounds every write to a client.
	writeTimeout = 10 * time.Second
	// closeGrace is how long a clean close waits for the client's close frame.
	closeGrace = 2 * time.Second
	// maxRequestIDLength and maxReasonLength bound optional fields (413).
	maxRequestIDLength = 128
	maxReasonLength    = 256
	maxUserIDLength    = 128
)

func (s *Server) init() {
	s.once.Do(func() {
		s.hub = hub.New(s.Bus)
		s.hub.Observe = s.chargeRemote
		s.events = &roomevent.Service{Bus: s.Bus, ChatLog: s.ChatLog, Logger: s.Logger, Now: s.Now, Origin: s.NodeName}
		s.conns = make(map[*conn]struct{})
		s.metrics = newMetrics(s.hub, s.PerRoomMetrics)
		if s.Registerer != nil {
			if err := s.metrics.register(s.Registerer); err != nil {
				s.logger().Warn("messaging metrics not registered", "err", err)
			}
		}
	})
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// IsUpgrade reports whether r asks for a WebSocket upgrade, so a router can
// send it to the Server.
func IsUpgrade(r *http.Request) bool {
	return headerHas(r.Header, "Connection", "upgrade") && headerHas(r.Header, "Upgrade", "websocket")
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// ServeHTTP accepts a WebSocket upgrade on any path. The chat token is the
// one value of Sec-WebSocket-Protocol and is echoed back. Bad, expired or
// reused tokens are refused with 401, a deleted room with 404, before the
// upgrade, with a plain-text body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	if !IsUpgrade(r) {
		http.Error(w, "this endpoint accepts WebSocket connections only", http.StatusUpgradeRequired)
		return
	}
	raw, tok, room, err := s.admit(r)
	if err != nil {
		status, msg := handshakeError(err)
		if status == http.StatusInternalServerError {
			s.logger().Error("messaging handshake", "err", err)
		}
		http.Error(w, msg, status)
		return
	}
	c := newConn(s, tok, room, remoteIP(r))
	if !s.track(c) {
		status, msg := handshakeError(errDraining)
		http.Error(w, msg, status)
		return
	}
	if err := c.join(r.Context()); err != nil {
		c.finish()
		status, msg := handshakeError(err)
		if status == http.StatusInternalServerError {
			s.logger().Error("messaging handshake", "err", fmt.Errorf("join room %s: %w", room.ID, err))
		}
		http.Error(w, msg, status)
		return
	}
	nc, rest, err := upgrade(w, r, raw)
	if err != nil {
		c.finish() // the client has been answered
		return
	}
	c.start(nc, rest)
}

// admit checks the handshake's chat token and room and records the token's
// use. Errors are *parley.Error values.
func (s *Server) admit(r *http.Request) (string, *parley.ChatToken, *parley.Room, error) {
	var offered []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				offered = append(offered, p)
			}
		}
	}
	if len(offered) == 0 {
		return "", nil, nil, parley.Errorf(parley.Unauthorized, "missing chat token: send it as the WebSocket subprotocol")
	}
	var tok *parley.ChatToken
	var raw string
	for _, p := range offered {
		if t, err := s.Tokens.Open(p); err == nil {
			tok, raw = t, p
			break
		}
	}
	if tok == nil {
		return "", nil, nil, parley.Errorf(parley.Unauthorized, "invalid chat token")
	}
	now := s.now()
	if now.After(tok.ConnectDeadline) {
		return "", nil, nil, parley.Errorf(parley.Unauthorized, "chat token expired")
	}
	if !now.Before(tok.SessionExpiry) {
		return "", nil, nil, parley.Errorf(parley.Unauthorized, "chat session expired")
	}
	room, err := s.Store.FindRoom(r.Context(), tok.RoomID)
	if err != nil {
		return "", nil, nil, err
	}
	if err := s.Store.UseToken(r.Context(), tok.ID, tok.ConnectDeadline); err != nil {
		if parley.ErrorCodeOf(err) == parley.ConflictException {
			return "", nil, nil, parley.Errorf(parley.Unauthorized, "chat token already used: each token opens one connection")
		}
		return "", nil, nil, err
	}
	return raw, tok, room, nil
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) maxFrameSize() int { return orDefault(s.MaxFrameSize, defaultMaxFrameSize) }

// track registers c for Shutdown; false when the server is draining.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting connections and asks every client to come back
// later: each connection gets ERROR 401 (which makes the JS SDK reconnect
// with a new token, to another node or to this one once it has restarted)
// and a clean close. It waits for the connections to end or for ctx, after
// which it closes the remaining ones at once and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.draining = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close(closeShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	conns = conns[:0]
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.finish()
	}
	<-done
	return ctx.Err()
}
