package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/chatlog"
	"github.com/parleychat/parley/controlplane"
	"github.com/parleychat/parley/messaging"
	"github.com/parleychat/parley/ratelimit"
	"github.com/parleychat/parley/sigv4"
	"github.com/parleychat/parley/store/sqlite"
	"github.com/parleychat/parley/token"
)

// Main is one running Parley server: configuration, then Open, then Close.
// Tests run it in-process on port 0.
type Main struct {
	Config Config
	Stdout io.Writer

	// Set by Open.
	Addr   string // the address actually listened on
	Logger *slog.Logger

	registry  *prometheus.Registry
	store     *sqlite.Store
	bus       *inmem.Bus
	chatlog   *chatlog.Logger
	messaging *messaging.Server
	server    *http.Server
	ready     atomic.Bool
	served    chan error
	pprof     *http.Server // nil unless --pprof-listen
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	m := &Main{Stdout: io.Discard}
	m.Config.newFlagSet("defaults")
	m.Config.TokenKeyFile = ""
	return m
}

// Run opens the server, serves until ctx is cancelled or serving fails, then
// shuts down gracefully within Config.ShutdownTimeout.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		m.closeAfterFailedOpen()
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

// Open builds every component in dependency order and starts listening.
func (m *Main) Open(ctx context.Context) error {
	c := &m.Config
	if c.TokenKeyFile == "" {
		c.TokenKeyFile = filepath.Join(c.DataDir, "token.key")
	}
	m.Logger = newLogger(m.Stdout, c.LogLevel, c.LogFormat)
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	m.registry = prometheus.NewRegistry()
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	keys, keysFrom, err := loadKeys(c)
	if err != nil {
		return err
	}
	tokenKey, err := token.LoadOrCreateKey(c.TokenKeyFile)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	sealer, err := token.NewSealer(tokenKey)
	if err != nil {
		return fmt.Errorf("token key: %w", err)
	}
	if m.store, err = sqlite.Open(ctx, filepath.Join(c.DataDir, "parley.db")); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	m.bus = inmem.New()
	var limiter parley.Limiter = ratelimit.NewLocal()

	if m.chatlog, err = m.openChatLog(ctx, ""); err != nil {
		return err
	}
	reviewer, err := m.newReviewer(ctx)
	if err != nil {
		return err
	}

	ring := sigv4.NewKeyRing(keys...)
	cp := &controlplane.Server{
		Store:         m.store,
		Bus:           m.bus,
		Tokens:        sealer,
		Auth:          &sigv4.Verifier{Credentials: ring, Insecure: c.InsecureDevAuth},
		Authz:         ring,
		ChatLog:       m.chatlog,
		Destinations:  m.chatlog,
		Region:        c.Region,
		AccountID:     c.AccountID,
		MaxRoomRate:   c.MaxRoomRate,
		PaginationKey: derivedKey(tokenKey, "parley pagination tokens"),
		Quotas:        controlplane.Quotas{MaxRooms: c.MaxRooms, MaxLoggingConfigurations: c.MaxLoggingConfigurations},
		Logger:        m.Logger,
		Registerer:    m.registry,
	}
	if c.InsecureDevAuth {
		cp.Authz = nil
	}
	if c.APIRateLimits {
		cp.Limiter = limiter
		cp.RateLimits = c.rateLimits()
	}
	m.messaging = &messaging.Server{
		Store:          m.store,
		Bus:            m.bus,
		Tokens:         sealer,
		Limiter:        limiter,
		ConnectionRate: c.ConnectionRate,
		MaxRoomRate:    c.MaxRoomRate,
		Reviewer:       reviewer,
		ReviewTimeout:  c.ReviewTimeout,
		ChatLog:        m.chatlog,
		QueueSize:      c.QueueSize,
		MaxFrameSize:   c.MaxFrameSize,
		PingInterval:   c.PingInterval,
		Logger:         m.Logger,
		Registerer:     m.registry,
	}

	if err := m.startPprof(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		m.stopPprof()
		return fmt.Errorf("listen: %w", err)
	}
	m.Addr = ln.Addr().String()
	m.server = &http.Server{
		Handler:           m.router(cp),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	go func() {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.served <- fmt.Errorf("serve: %w", err)
		}
		close(m.served)
	}()
	m.ready.Store(true)
	m.printBanner(keysFrom)
	return nil
}

// Close shuts down in reverse order: stop accepting, drain WebSocket
// connections, finish API requests, flush chat logs, close bus and store.
func (m *Main) Close(ctx context.Context) error {
	m.ready.Store(false)
	m.stopPprof()
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
	}
	m.closeAfterFailedOpen()
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

// closeAfterFailedOpen releases what Open built before it failed.
func (m *Main) closeAfterFailedOpen() {
	if m.server == nil {
		if m.chatlog != nil {
			m.chatlog.Close(context.Background())
			m.chatlog = nil
		}
		if m.store != nil {
			m.store.Close(context.Background())
			m.store = nil
		}
	}
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
	if c.InsecureDevAuth {
		fmt.Fprintln(m.Stdout, strings.Repeat("!", 72))
		fmt.Fprintln(m.Stdout, "!! --insecure-dev-auth: ANY well-formed SigV4 signature is accepted.  !!")
		fmt.Fprintln(m.Stdout, "!! Anyone who can reach this port controls every room. Dev use only. !!")
		fmt.Fprintln(m.Stdout, strings.Repeat("!", 72))
		m.Logger.Warn("insecure dev auth is on: any well-formed signature is accepted")
	}
}

// derivedKey derives a purpose-bound key from the shared token key, so that
// every node sharing the token key also shares it.
func derivedKey(key []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
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
