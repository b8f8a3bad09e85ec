package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/inmem"
	"github.com/parleychat/parley/store/sqlite"
)

// openStore opens the store: SQLite in the data dir.
func (m *Main) openStore(ctx context.Context) error {
	s, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, "parley.db"))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	m.store = s
	return nil
}

// openBus opens the bus: the in-process one.
func (m *Main) openBus(context.Context) error {
	m.bus = inmem.New()
	return nil
}

// sharedSecrets returns the store's secret store when it has one (a store
// that several nodes share), else nil.
func (m *Main) sharedSecrets() parley.SecretStore {
	s, _ := m.store.(parley.SecretStore)
	return s
}
