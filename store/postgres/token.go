package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
)

// purgeChunk is the most records one purge statement deletes, so that a
// large purge holds few locks at a time.
const purgeChunk = 5000

// UseToken implements parley.Store with one INSERT … ON CONFLICT DO NOTHING:
// of any number of nodes presenting one token, the one whose insert commits
// first wins and the others get ConflictException. It returns once the
// record is committed.
func (s *Store) UseToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO used_tokens (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		tokenID, nanos(expiresAt))
	if err != nil {
		return fmt.Errorf("use token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return &parley.Error{
			Code:         parley.ConflictException,
			Message:      "chat token was already used",
			ResourceType: parley.ResourceTypeRoom,
		}
	}
	return nil
}

// PurgeTokens deletes the records of used tokens that expired before t and
// returns how many it deleted. The Store calls it every PurgeInterval; it is
// exported for tests and maintenance.
func (s *Store) PurgeTokens(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM used_tokens WHERE id IN
			(SELECT id FROM used_tokens WHERE expires_at < $1 LIMIT $2)`, nanos(t), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("purge used tokens: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < purgeChunk {
			return total, nil
		}
	}
}

// purgeTokens runs PurgeTokens every interval until ctx is done. Every node
// purges; a record deleted twice is deleted once.
func (s *Store) purgeTokens(ctx context.Context, interval time.Duration) {
	defer s.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// A failed purge is retried at the next tick; the records
			// only take space.
			if _, err := s.PurgeTokens(ctx, time.Now()); err != nil && ctx.Err() == nil {
				s.log.Warn("postgres store: purge of used chat tokens failed", "err", err)
			}
		}
	}
}

// LoadOrCreateSecret implements parley.SecretStore. When no secret is
// stored under name it calls create, stores the result unless another node
// stored one first, and returns what is stored: every racing caller gets
// the first value committed.
func (s *Store) LoadOrCreateSecret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	v, err := s.loadSecret(ctx, name)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return v, err
	}
	nv, err := create()
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	if len(nv) == 0 {
		return nil, fmt.Errorf("create secret %s: empty value", name)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO secrets (name, value, create_time) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`, name, nv, time.Now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	v, err = s.loadSecret(ctx, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("load secret %s: gone after it was stored", name)
	}
	return v, err
}

// loadSecret returns the secret name, or an error wrapping pgx.ErrNoRows.
func (s *Store) loadSecret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	return v, nil
}
