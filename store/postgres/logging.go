package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
)

// selectLoggingConfiguration reads configurations, tags included.
const selectLoggingConfiguration = `SELECT c.id, c.arn, c.name, c.destination, c.state,
	c.create_time, c.update_time, c.tags
FROM logging_configurations c`

const findLoggingConfigurationSQL = selectLoggingConfiguration + " WHERE c.id = $1"

func scanLoggingConfiguration(sc scanner) (*parley.LoggingConfiguration, error) {
	var (
		c                parley.LoggingConfiguration
		dest             string
		created, updated int64
	)
	err := sc.Scan(&c.ID, &c.ARN, &c.Name, &dest, &c.State, &created, &updated, &c.Tags)
	if err != nil {
		return nil, err
	}
	c.CreateTime, c.UpdateTime = fromNanos(created), fromNanos(updated)
	if err := json.Unmarshal([]byte(dest), &c.Destination); err != nil {
		return nil, fmt.Errorf("decode destination of logging configuration %s: %w", c.ID, err)
	}
	if c.Tags == nil {
		c.Tags = map[string]string{}
	}
	return &c, nil
}

// CreateLoggingConfiguration implements parley.Store. With max > 0 the
// count and the insert run under the schema's quota advisory lock for
// configurations.
func (s *Store) CreateLoggingConfiguration(ctx context.Context, c *parley.LoggingConfiguration, max int) error {
	dest, err := json.Marshal(c.Destination)
	if err != nil {
		return fmt.Errorf("create logging configuration: encode destination: %w", err)
	}
	return s.writeTx(ctx, "create logging configuration", func(tx pgx.Tx) error {
		if max > 0 {
			if err := lock(ctx, tx, s.lcsLock); err != nil {
				return err
			}
			n, err := count(ctx, tx, "logging_configurations")
			if err != nil {
				return err
			}
			if n >= max {
				return quotaExceeded("logging configuration", c.ID, max)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO logging_configurations
			(id, arn, name, destination, state, create_time, update_time, tags)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.ID, c.ARN, c.Name, string(dest), c.State, nanos(c.CreateTime), nanos(c.UpdateTime),
			tagsOrEmpty(c.Tags))
		if err != nil {
			return fmt.Errorf("insert logging configuration: %w", err)
		}
		return nil
	})
}

// FindLoggingConfiguration implements parley.Store.
func (s *Store) FindLoggingConfiguration(ctx context.Context, id string) (*parley.LoggingConfiguration, error) {
	return scanOne(s.pool.QueryRow(ctx, findLoggingConfigurationSQL, id),
		"logging configuration", id, scanLoggingConfiguration)
}

// FindLoggingConfigurations implements parley.Store.
func (s *Store) FindLoggingConfigurations(ctx context.Context, f parley.LoggingConfigurationFilter) ([]*parley.LoggingConfiguration, error) {
	var q query
	q.after("c", f.After)
	sql := selectLoggingConfiguration + q.clause() + " ORDER BY c.update_time DESC, c.id DESC" + limitClause(f.Limit)
	return queryAll(ctx, s.pool, "find logging configurations", sql, q.args, scanLoggingConfiguration)
}

// UpdateLoggingConfiguration implements parley.Store.
func (s *Store) UpdateLoggingConfiguration(ctx context.Context, id string, upd parley.LoggingConfigurationUpdate, now time.Time) (*parley.LoggingConfiguration, error) {
	sets, args := []string{"update_time = $1"}, []any{nanos(now)}
	if upd.Name != nil {
		args = append(args, *upd.Name)
		sets = append(sets, fmt.Sprintf("name = $%d", len(args)))
	}
	if upd.Destination != nil {
		dest, err := json.Marshal(upd.Destination)
		if err != nil {
			return nil, fmt.Errorf("update logging configuration: encode destination: %w", err)
		}
		args = append(args, string(dest))
		sets = append(sets, fmt.Sprintf("destination = $%d", len(args)))
	}
	args = append(args, id)
	sql := "UPDATE logging_configurations SET " + strings.Join(sets, ", ") + fmt.Sprintf(" WHERE id = $%d", len(args))
	var c *parley.LoggingConfiguration
	err := s.writeTx(ctx, "update logging configuration", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("update logging configuration %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return parley.NotFound("logging configuration", id)
		}
		c, err = scanOne(tx.QueryRow(ctx, findLoggingConfigurationSQL, id),
			"logging configuration", id, scanLoggingConfiguration)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteLoggingConfiguration implements parley.Store. It refuses with
// ConflictException while a room has the configuration attached. The row is
// locked FOR UPDATE first, so a room being created or updated with it
// attached either commits before the check sees it or finds it gone.
func (s *Store) DeleteLoggingConfiguration(ctx context.Context, id string) error {
	return s.writeTx(ctx, "delete logging configuration", func(tx pgx.Tx) error {
		var found string
		err := tx.QueryRow(ctx, `SELECT id FROM logging_configurations WHERE id = $1 FOR UPDATE`, id).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.NotFound("logging configuration", id)
		}
		if err != nil {
			return fmt.Errorf("find logging configuration %s: %w", id, err)
		}
		var roomID string
		err = tx.QueryRow(ctx, `SELECT room_id FROM room_logging_configurations
			WHERE logging_configuration_id = $1 LIMIT 1`, id).Scan(&roomID)
		switch {
		case err == nil:
			return inUse(id, roomID)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("find rooms using logging configuration %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM logging_configurations WHERE id = $1`, id); err != nil {
			if pgCode(err) == codeForeignKeyViolation {
				return inUse(id, "")
			}
			return fmt.Errorf("delete logging configuration %s: %w", id, err)
		}
		return nil
	})
}

// inUse is the ConflictException for deleting a configuration that a room
// has attached; roomID may be unknown ("").
func inUse(id, roomID string) *parley.Error {
	msg := fmt.Sprintf("logging configuration %s is in use by room %s", id, roomID)
	if roomID == "" {
		msg = fmt.Sprintf("logging configuration %s is in use by a room", id)
	}
	return &parley.Error{
		Code:         parley.ConflictException,
		Message:      msg,
		ResourceID:   id,
		ResourceType: parley.ResourceTypeRoom,
	}
}
