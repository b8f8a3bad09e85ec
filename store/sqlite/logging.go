package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// selectLoggingConfiguration reads a configuration with its tags as a JSON
// object.
const selectLoggingConfiguration = `SELECT c.id, c.arn, c.name, c.destination, c.state,
	c.create_time, c.update_time,
	(SELECT json_group_object(t.key, t.value) FROM logging_configuration_tags t
		WHERE t.logging_configuration_id = c.id)
FROM logging_configurations c`

func scanLoggingConfiguration(sc scanner) (*parley.LoggingConfiguration, error) {
	var (
		c                parley.LoggingConfiguration
		dest, tagsJSON   string
		created, updated int64
	)
	err := sc.Scan(&c.ID, &c.ARN, &c.Name, &dest, &c.State, &created, &updated, &tagsJSON)
	if err != nil {
		return nil, err
	}
	c.CreateTime, c.UpdateTime = fromNanos(created), fromNanos(updated)
	if err := json.Unmarshal([]byte(dest), &c.Destination); err != nil {
		return nil, fmt.Errorf("decode destination of logging configuration %s: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(tagsJSON), &c.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of logging configuration %s: %w", c.ID, err)
	}
	return &c, nil
}

// CreateLoggingConfiguration implements parley.Store.
func (s *Store) CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error {
	dest, err := json.Marshal(c.Destination)
	if err != nil {
		return fmt.Errorf("create logging configuration: encode destination: %w", err)
	}
	return s.writeTx(ctx, "create logging configuration", func(tx *sql.Tx) error {
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logging_configurations`).Scan(&n); err != nil {
				return fmt.Errorf("count logging configurations: %w", err)
			}
			if n >= max {
				return quotaExceeded("logging configuration", c.ID, max)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO logging_configurations
			(id, arn, name, destination, state, create_time, update_time)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.ARN, c.Name, string(dest), c.State, nanos(c.CreateTime), nanos(c.UpdateTime))
		if err != nil {
			return fmt.Errorf("insert logging configuration: %w", err)
		}
		return upsertTags(ctx, tx, loggingConfigurationTags, c.ID, c.Tags)
	})
}

// FindLoggingConfiguration implements parley.Store.
func (s *Store) FindLoggingConfiguration(ctx context.Context, id string) (*parley.LoggingConfiguration, error) {
	return findLoggingConfigurationIn(ctx, s.read, id)
}

func findLoggingConfigurationIn(ctx context.Context, q querier, id string) (*parley.LoggingConfiguration, error) {
	return scanOne(q.QueryRowContext(ctx, selectLoggingConfiguration+" WHERE c.id = ?", id),
		"logging configuration", id, scanLoggingConfiguration)
}

// FindLoggingConfigurations implements parley.Store.
func (s *Store) FindLoggingConfigurations(ctx context.Context, f parley.LoggingConfigurationFilter) ([]*parley.LoggingConfiguration, error) {
	where, args := afterCursor("c", f.After)
	query := selectLoggingConfiguration + whereClause(where) +
		" ORDER BY c.update_time DESC, c.id DESC" + limitClause(f.Limit)
	return queryAll(ctx, s.read, "find logging configurations", query, args, scanLoggingConfiguration)
}

// UpdateLoggingConfiguration implements parley.Store.
func (s *Store) UpdateLoggingConfiguration(ctx context.Context, id string, upd parley.LoggingConfigurationUpdate, now time.Time) (*parley.LoggingConfiguration, error) {
	sets, args := []string{"update_time = ?"}, []any{nanos(now)}
	if upd.Name != nil {
		sets, args = append(sets, "name = ?"), append(args, *upd.Name)
	}
	if upd.Destination != nil {
		dest, err := json.Marshal(upd.Destination)
		if err != nil {
			return nil, fmt.Errorf("update logging configuration: encode destination: %w", err)
		}
		sets, args = append(sets, "destination = ?"), append(args, string(dest))
	}
	var c *parley.LoggingConfiguration
	err := s.writeTx(ctx, "update logging configuration", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE logging_configurations SET "+strings.Join(sets, ", ")+
			" WHERE id = ?", append(args, id)...)
		if err != nil {
			return fmt.Errorf("update logging configuration %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return parley.NotFound("logging configuration", id)
		}
		c, err = findLoggingConfigurationIn(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteLoggingConfiguration implements parley.Store. It refuses with
// ConflictException while a room has the configuration attached.
func (s *Store) DeleteLoggingConfiguration(ctx context.Context, id string) error {
	return s.writeTx(ctx, "delete logging configuration", func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logging_configurations WHERE id = ?`, id).Scan(&n)
		if err != nil {
			return fmt.Errorf("find logging configuration %s: %w", id, err)
		}
		if n == 0 {
			return parley.NotFound("logging configuration", id)
		}
		var roomID string
		err = tx.QueryRowContext(ctx, `SELECT room_id FROM room_logging_configurations
			WHERE logging_configuration_id = ? LIMIT 1`, id).Scan(&roomID)
		switch {
		case err == nil:
			return &parley.Error{
				Code:         parley.ConflictException,
				Message:      fmt.Sprintf("logging configuration %s is in use by room %s", id, roomID),
				ResourceID:   id,
				ResourceType: parley.ResourceTypeRoom,
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find rooms using logging configuration %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM logging_configurations WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete logging configuration %s: %w", id, err)
		}
		return nil
	})
}
