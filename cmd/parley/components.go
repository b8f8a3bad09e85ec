package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	natsbus "github.com/parleychat/parley/bus/nats"
	"github.com/parleychat/parley/store/postgres"
	"github.com/parleychat/parley/store/sqlite"
)

// openStore opens the store: PostgreSQL with --database-url, else SQLite in
// the data dir.
func (m *Main) openStore(ctx context.Context) error {
	if url := m.Config.Cluster.DatabaseURL; url != "" {
		s, err := postgres.Options{Logger: m.Logger}.Open(ctx, url)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		m.store = s
		return nil
	}
	s, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, "parley.db"))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	m.store = s
	return nil
}

// openBus opens the bus: NATS with --nats-url, else the in-process one.
// After a NATS reconnect the node re-reads the rooms it holds, since what
// was published while it was away did not reach it.
func (m *Main) openBus(ctx context.Context) error {
	url := m.Config.Cluster.NATSURL
	if url == "" {
		m.bus = inmem.New()
		return nil
	}
	b := natsbus.New(url)
	b.Name = m.NodeName
	b.Logger = m.Logger
	b.OnReconnect = func() { m.refreshRooms("nats reconnect") }
	if err := b.Open(ctx); err != nil {
		return fmt.Errorf("open bus: %w", err)
	}
	m.bus = b
	return nil
}

// refreshRooms re-reads every room this node holds connections in.
func (m *Main) refreshRooms(why string) {
	if m.messaging == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.messaging.RefreshRooms(ctx); err != nil {
		m.Logger.Warn("re-read rooms", "why", why, "err", err)
	}
}

// sharedSecrets returns the store's secret store when it has one (a store
// that several nodes share), else nil.
func (m *Main) sharedSecrets() parley.SecretStore {
	s, _ := m.store.(parley.SecretStore)
	return s
}

// notReady says why the node should not get new traffic: shutting down,
// the bus disconnected, the store not answering. Nil means ready.
func (m *Main) notReady(ctx context.Context) error {
	if !m.ready.Load() {
		return errors.New("shutting down")
	}
	if b, ok := m.bus.(interface{ Connected() bool }); ok && !b.Connected() {
		return errors.New("bus not connected")
	}
	if s, ok := m.store.(interface{ Ping(context.Context) error }); ok {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			return errors.New("store not answering")
		}
	}
	return nil
}

// startRoomRefresh re-reads the rooms this node holds every interval, so
// that a RoomUpdated or RoomDeleted this node missed (a NATS outage shorter
// than its ping timeout, a message NATS dropped) is applied within
// interval. Only a networked bus can miss one.
func (m *Main) startRoomRefresh(interval time.Duration) {
	if _, networked := m.bus.(*natsbus.Bus); !networked || interval <= 0 {
		return
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	m.stopRefresh = func() { close(stop); <-done }
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				m.refreshRooms("periodic")
			}
		}
	}()
}
