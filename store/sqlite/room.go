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

// selectRoom reads a room with its tags (a JSON object) and the ARNs of its
// logging configurations (a JSON array in attachment order) in one query.
const selectRoom = `SELECT r.id, r.arn, r.name,
	r.maximum_message_rate_per_second, r.maximum_message_length,
	r.review_handler_uri, r.review_handler_fallback,
	r.create_time, r.update_time, r.version,
	(SELECT json_group_object(t.key, t.value) FROM room_tags t WHERE t.room_id = r.id),
	(SELECT json_group_array(l.arn ORDER BY j.position)
		FROM room_logging_configurations j
		JOIN logging_configurations l ON l.id = j.logging_configuration_id
		WHERE j.room_id = r.id)
FROM rooms r`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRoom(sc scanner) (*parley.Room, error) {
	var (
		r                  parley.Room
		uri, fallback      sql.NullString
		created, updated   int64
		tagsJSON, arnsJSON string
	)
	err := sc.Scan(&r.ID, &r.ARN, &r.Name, &r.MaximumMessageRatePerSecond, &r.MaximumMessageLength,
		&uri, &fallback, &created, &updated, &r.Version, &tagsJSON, &arnsJSON)
	if err != nil {
		return nil, err
	}
	if uri.Valid {
		r.MessageReviewHandler = &parley.MessageReviewHandler{
			URI:            uri.String,
			FallbackResult: parley.FallbackResult(fallback.String),
		}
	}
	r.CreateTime, r.UpdateTime = fromNanos(created), fromNanos(updated)
	if err := json.Unmarshal([]byte(tagsJSON), &r.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of room %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(arnsJSON), &r.LoggingConfigurationIdentifiers); err != nil {
		return nil, fmt.Errorf("decode logging configurations of room %s: %w", r.ID, err)
	}
	return &r, nil
}

// reviewColumns returns the stored form of a review handler: NULLs for none
// (or one with an empty URI, which RoomUpdate uses to mean none).
func reviewColumns(h *parley.MessageReviewHandler) (uri, fallback any) {
	if h == nil || h.URI == "" {
		return nil, nil
	}
	return h.URI, string(h.FallbackResult)
}

// CreateRoom implements parley.Store. The room gets Version 1, which is also
// set in r.
func (s *Store) CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error {
	const version = 1
	err := s.writeTx(ctx, "create room", func(tx *sql.Tx) error {
		if maxRooms > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rooms`).Scan(&n); err != nil {
				return fmt.Errorf("count rooms: %w", err)
			}
			if n >= maxRooms {
				return quotaExceeded("room", r.ID, maxRooms)
			}
		}
		lcIDs, err := resolveLoggingConfigurations(ctx, tx, r.LoggingConfigurationIdentifiers)
		if err != nil {
			return err
		}
		uri, fallback := reviewColumns(r.MessageReviewHandler)
		_, err = tx.ExecContext(ctx, `INSERT INTO rooms (id, arn, name,
			maximum_message_rate_per_second, maximum_message_length,
			review_handler_uri, review_handler_fallback, create_time, update_time, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.ARN, r.Name, r.MaximumMessageRatePerSecond, r.MaximumMessageLength,
			uri, fallback, nanos(r.CreateTime), nanos(r.UpdateTime), version)
		if err != nil {
			return fmt.Errorf("insert room: %w", err)
		}
		if err := attachLoggingConfigurations(ctx, tx, r.ID, lcIDs); err != nil {
			return err
		}
		return upsertTags(ctx, tx, roomTags, r.ID, r.Tags)
	})
	if err == nil {
		r.Version = version
	}
	return err
}

// resolveLoggingConfigurations returns the IDs of the configurations whose
// ARNs are arns, or ResourceNotFoundException naming the first unknown one.
func resolveLoggingConfigurations(ctx context.Context, q querier, arns []string) ([]string, error) {
	ids := make([]string, 0, len(arns))
	for _, arn := range arns {
		var id string
		err := q.QueryRowContext(ctx, `SELECT id FROM logging_configurations WHERE arn = ?`, arn).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, parley.NotFound("logging configuration", bareID(arn))
		}
		if err != nil {
			return nil, fmt.Errorf("find logging configuration %s: %w", arn, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// bareID returns the resource ID that ends arn.
func bareID(arn string) string {
	if a, err := parley.ParseARN(arn); err == nil {
		return a.ID
	}
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func attachLoggingConfigurations(ctx context.Context, tx *sql.Tx, roomID string, lcIDs []string) error {
	for i, id := range lcIDs {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_logging_configurations
			(room_id, position, logging_configuration_id) VALUES (?, ?, ?)`, roomID, i, id)
		if err != nil {
			return fmt.Errorf("attach logging configuration %s: %w", id, err)
		}
	}
	return nil
}

// FindRoom implements parley.Store. It answers from the room cache while
// room_version has not changed (see roomCache).
func (s *Store) FindRoom(ctx context.Context, id string) (*parley.Room, error) {
	v, err := s.roomVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("find room %s: read room version: %w", id, err)
	}
	if r := s.rooms.get(v, id); r != nil {
		return cloneRoom(r), nil
	}
	r, err := scanOne(s.findRoom.QueryRowContext(ctx, id), "room", id, scanRoom)
	if err != nil {
		return nil, err
	}
	s.rooms.put(v, cloneRoom(r))
	return r, nil
}

// findRoomIn reads a room inside a transaction.
func findRoomIn(ctx context.Context, q querier, id string) (*parley.Room, error) {
	return scanOne(q.QueryRowContext(ctx, selectRoom+" WHERE r.id = ?", id), "room", id, scanRoom)
}

// FindRooms implements parley.Store.
func (s *Store) FindRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, error) {
	var where []string
	var args []any
	if f.Name != nil {
		where, args = append(where, "r.name = ?"), append(args, *f.Name)
	}
	if f.MessageReviewHandlerURI != nil {
		where, args = append(where, "r.review_handler_uri = ?"), append(args, *f.MessageReviewHandlerURI)
	}
	if f.LoggingConfigurationIdentifier != nil {
		where = append(where, `EXISTS (SELECT 1 FROM room_logging_configurations j
			JOIN logging_configurations l ON l.id = j.logging_configuration_id
			WHERE j.room_id = r.id AND l.arn = ?)`)
		args = append(args, *f.LoggingConfigurationIdentifier)
	}
	w, a := afterCursor("r", f.After)
	where, args = append(where, w...), append(args, a...)
	query := selectRoom + whereClause(where) + " ORDER BY r.update_time DESC, r.id DESC" + limitClause(f.Limit)
	return queryAll(ctx, s.read, "find rooms", query, args, scanRoom)
}

// afterCursor returns the condition that keeps the rows of table alias t
// that sort after c in (update_time desc, id desc).
func afterCursor(t string, c *parley.Cursor) ([]string, []any) {
	if c == nil {
		return nil, nil
	}
	ns := nanos(c.UpdateTime)
	cond := fmt.Sprintf("(%[1]s.update_time < ? OR (%[1]s.update_time = ? AND %[1]s.id < ?))", t)
	return []string{cond}, []any{ns, ns, c.ID}
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit)
}

// UpdateRoom implements parley.Store. The room's Version grows by one.
func (s *Store) UpdateRoom(ctx context.Context, id string, upd parley.RoomUpdate, now time.Time) (*parley.Room, error) {
	var room *parley.Room
	err := s.writeTx(ctx, "update room", func(tx *sql.Tx) error {
		sets, args := roomUpdateSets(upd, now)
		res, err := tx.ExecContext(ctx, "UPDATE rooms SET "+strings.Join(sets, ", ")+" WHERE id = ?",
			append(args, id)...)
		if err != nil {
			return fmt.Errorf("update room %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return parley.NotFound("room", id)
		}
		if upd.LoggingConfigurationIdentifiers != nil {
			if err := replaceLoggingConfigurations(ctx, tx, id, *upd.LoggingConfigurationIdentifiers); err != nil {
				return err
			}
		}
		room, err = findRoomIn(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return room, nil
}

// roomUpdateSets returns the SET assignments and their arguments for upd.
func roomUpdateSets(upd parley.RoomUpdate, now time.Time) ([]string, []any) {
	sets, args := []string{"version = version + 1", "update_time = ?"}, []any{nanos(now)}
	if upd.Name != nil {
		sets, args = append(sets, "name = ?"), append(args, *upd.Name)
	}
	if upd.MaximumMessageRatePerSecond != nil {
		sets = append(sets, "maximum_message_rate_per_second = ?")
		args = append(args, *upd.MaximumMessageRatePerSecond)
	}
	if upd.MaximumMessageLength != nil {
		sets = append(sets, "maximum_message_length = ?")
		args = append(args, *upd.MaximumMessageLength)
	}
	if upd.MessageReviewHandler != nil {
		uri, fallback := reviewColumns(upd.MessageReviewHandler)
		sets = append(sets, "review_handler_uri = ?", "review_handler_fallback = ?")
		args = append(args, uri, fallback)
	}
	return sets, args
}

func replaceLoggingConfigurations(ctx context.Context, tx *sql.Tx, roomID string, arns []string) error {
	lcIDs, err := resolveLoggingConfigurations(ctx, tx, arns)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM room_logging_configurations WHERE room_id = ?`, roomID); err != nil {
		return fmt.Errorf("detach logging configurations: %w", err)
	}
	return attachLoggingConfigurations(ctx, tx, roomID, lcIDs)
}

// DeleteRoom implements parley.Store. Its tags and logging configuration
// attachments go with it (ON DELETE CASCADE).
func (s *Store) DeleteRoom(ctx context.Context, id string) error {
	return s.writeTx(ctx, "delete room", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete room %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return parley.NotFound("room", id)
		}
		return nil
	})
}
