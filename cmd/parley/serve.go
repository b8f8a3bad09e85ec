package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/messaging"
	"github.com/parleychat/parley/ratelimit"
	"github.com/parleychat/parley/review"
	"github.com/parleychat/parley/sigv4"
	"github.com/parleychat/parley/token"
)

// Main is one running Parley server: configuration, then Open, then Close.
// Tests run it in-process on port 0.
type Main struct {
	Config Config
	Stdout io.Writer

	// Set by Open.
	Addr     string // the address actually listened on
	NodeName string // --node-name, else Addr
	Logger   *slog.Logger

	registry  *prometheus.Registry
	metrics   prometheus.Registerer // registry, with the node label
	listener  net.Listener
	store     parley.Store
	bus       parley.Bus
	chatlog   *chatlog.Logger
	messaging *messaging.Server
	server    *http.Server
	ready     atomic.Bool
	served    chan error
	pprof     *http.Server // nil unless --pprof-listen

	stopRefresh func() // stops the periodic room refresh; nil when none runs
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	m := &Main{Stdout: io.Discard}
	m.Config.newFlagSet("defaults")
	return m
}

// Run opens the server, serves until ctx is cancelled or serving fails, then
// shuts down gracefully within Config.ShutdownTimeout.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down", "timeout", m.Config.ShutdownTimeout)
	case serveErr = <-m.served:
	}
	cctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, m.Close(cctx))
}

// Open builds every component in dependency order and starts serving. When
// it fails, what it built is closed again.
func (m *Main) Open(ctx context.Context) error {
	if err := m.open(ctx); err != nil {
		m.closeComponents(context.Background())
		return err
	}
	return nil
}

func (m *Main) open(ctx context.Context) error {
	if err := m.openBase(); err != nil {
		return err
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	sec, err := m.loadSecrets(ctx)
	if err != nil {
		return err
	}
	if err := m.openBus(ctx); err != nil {
		return err
	}
	if m.chatlog, err = m.openChatLog(ctx, m.Config.Cluster.NATSURL); err != nil {
		return err
	}
	reviewer, err := m.newReviewer(ctx)
	if err != nil {
		return err
	}
	sealer, err := token.NewSealer(sec.tokenKey)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	cp := m.newControlPlane(sec, sealer)
	m.messaging = m.newMessaging(sealer, reviewer)
	if err := m.startPprof(); err != nil {
		return err
	}
	m.serve(cp)
	m.startRoomRefresh(m.Config.Cluster.RoomRefreshInterval)
	m.printBanner(sec.keysFrom)
	return nil
}

// openBase makes the logger, the data dir, the metrics registry and the
// listener, whose address names the node unless --node-name does.
func (m *Main) openBase() error {
	c := &m.Config
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.listener, m.Addr = ln, ln.Addr().String()
	m.NodeName = c.NodeName
	if m.NodeName == "" {
		m.NodeName = m.Addr
	}
	m.Logger = newLogger(m.Stdout, c.LogLevel, c.LogFormat).With("node", m.NodeName)
	m.registry = prometheus.NewRegistry()
	m.metrics = prometheus.WrapRegistererWith(prometheus.Labels{"node": m.NodeName}, m.registry)
	m.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return nil
}

// newControlPlane builds the control-plane handler. Its API limiter is its
// own, apart from the room limiter of messaging.
func (m *Main) newControlPlane(sec *secrets, sealer *token.Sealer) *controlplane.Server {
	c := &m.Config
	ring := sigv4.NewKeyRing(sec.keys...)
	cp := &controlplane.Server{
		Store:         m.store,
		Bus:           m.bus,
		Tokens:        sealer,
		Auth:          &sigv4.Verifier{Credentials: ring, Insecure: c.Auth.InsecureDevAuth},
		Authz:         ring,
		ChatLog:       m.chatlog,
		Destinations:  m.chatlog,
		Region:        c.Region,
		AccountID:     c.AccountID,
		MaxRoomRate:   c.Limits.MaxRoomRate,
		PaginationKey: token.DeriveKey(sec.tokenKey, "parley pagination tokens"),
		Quotas:        controlplane.Quotas{MaxRooms: c.Limits.MaxRooms, MaxLoggingConfigurations: c.Limits.MaxLoggingConfigurations},
		Logger:        m.Logger,
		Registerer:    m.metrics,
	}
	if c.Auth.InsecureDevAuth {
		cp.Authz = nil
	}
	if c.Limits.APIRateLimits {
		cp.Limiter = m.newLimiter()
		cp.RateLimits = c.rateLimits()
	}
	return cp
}

// newMessaging builds the WebSocket side, with a room limiter of its own.
func (m *Main) newMessaging(sealer *token.Sealer, reviewer *review.Invoker) *messaging.Server {
	c := &m.Config
	return &messaging.Server{
		Store:          m.store,
		Bus:            m.bus,
		Tokens:         sealer,
		Limiter:        m.newLimiter(),
		ConnectionRate: c.Limits.ConnectionRate,
		MaxRoomRate:    c.Limits.MaxRoomRate,
		Reviewer:       reviewer,
		ReviewTimeout:  c.Review.Timeout,
		ChatLog:        m.chatlog,
		QueueSize:      c.Messaging.QueueSize,
		MaxFrameSize:   c.Messaging.MaxFrameSize,
		PingInterval:   c.Messaging.PingInterval,
		NodeName:       m.NodeName,
		Logger:         m.Logger,
		Registerer:     m.metrics,
	}
}

// newLimiter returns a rate limiter for one purpose.
func (m *Main) newLimiter() parley.Limiter {
	return ratelimit.NewLocal()
}

// serve starts the HTTP server on the listener and turns readiness on.
func (m *Main) serve(cp http.Handler) {
	m.server = &http.Server{
		Handler:           m.router(cp),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	ln := m.listener
	m.listener = nil // the server owns it now
	go func() {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.served <- fmt.Errorf("serve: %w", err)
		}
		close(m.served)
	}()
	m.ready.Store(true)
}

// Close shuts down in reverse order: stop accepting, drain WebSocket
// connections, finish API requests, flush chat logs, close bus and store.
func (m *Main) Close(ctx context.Context) error {
	m.ready.Store(false)
	m.stopPprof()
	if m.stopRefresh != nil {
		m.stopRefresh()
		m.stopRefresh = nil
	}
	var errs []error
	if m.server != nil {
		m.server.SetKeepAlivesEnabled(false)
		shutdownDone := make(chan error, 1)
		go func() { shutdownDone <- m.server.Shutdown(ctx) }()
		if err := m.messaging.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain connections: %w", err))
		}
		if err := <-shutdownDone; err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		m.server = nil
	}
	return errors.Join(append(errs, m.closeComponents(ctx))...)
}

// closeComponents closes what Open built below the HTTP server, in reverse
// order: the listener (when serving never started), the chat log (flushing
// it), the bus, the store. Each is closed once.
func (m *Main) closeComponents(ctx context.Context) error {
	var errs []error
	if m.listener != nil {
		m.listener.Close()
		m.listener = nil
	}
	if m.chatlog != nil {
		if err := m.chatlog.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush chat logs: %w", err))
		}
		m.chatlog = nil
	}
	if m.bus != nil {
		if err := m.bus.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close bus: %w", err))
		}
		m.bus = nil
	}
	if m.store != nil {
		if err := m.store.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		m.store = nil
	}
	return errors.Join(errs...)
}

func (m *Main) printBanner(keysFrom string) {
	c := &m.Config
	host := m.Addr
	fmt.Fprintf(m.Stdout, "Parley %s\n", parley.Version)
	fmt.Fprintf(m.Stdout, "  control plane:  http://%s   (aws ivschat --endpoint-url http://%s --region %s)\n", host, host, c.Region)
	fmt.Fprintf(m.Stdout, "  messaging:      ws://%s    (amazon-ivs-chat-messaging regionOrUrl)\n", host)
	fmt.Fprintf(m.Stdout, "  metrics:        http://%s/metrics\n", host)
	fmt.Fprintf(m.Stdout, "  data dir:       %s\n", c.DataDir)
	fmt.Fprintf(m.Stdout, "  credentials:    %s\n", keysFrom)
	if c.Auth.InsecureDevAuth {
		fmt.Fprintln(m.Stdout, strings.Repeat("!", 72))
		fmt.Fprintln(m.Stdout, "!! --insecure-dev-auth: ANY well-formed SigV4 signature is accepted.  !!")
		fmt.Fprintln(m.Stdout, "!! Anyone who can reach this port controls every room. Dev use only. !!")
		fmt.Fprintln(m.Stdout, strings.Repeat("!", 72))
		m.Logger.Warn("insecure dev auth is on: any well-formed signature is accepted")
	}
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
