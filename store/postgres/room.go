package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
)

// selectRoom reads rooms: one row each, tags and the ARNs of the logging
// configurations included.
const selectRoom = `SELECT r.id, r.arn, r.name,
	r.maximum_message_rate_per_second, r.maximum_message_length,
	r.review_handler_uri, r.review_handler_fallback,
	r.create_time, r.update_time, r.version, r.tags, r.logging_configuration_arns
FROM rooms r`

// findRoomSQL is the statement of FindRoom: a primary-key lookup.
const findRoomSQL = selectRoom + " WHERE r.id = $1"

func scanRoom(sc scanner) (*parley.Room, error) {
	var (
		r                parley.Room
		uri, fallback    *string
		created, updated int64
	)
	err := sc.Scan(&r.ID, &r.ARN, &r.Name, &r.MaximumMessageRatePerSecond, &r.MaximumMessageLength,
		&uri, &fallback, &created, &updated, &r.Version, &r.Tags, &r.LoggingConfigurationIdentifiers)
	if err != nil {
		return nil, err
	}
	if uri != nil {
		h := &parley.MessageReviewHandler{URI: *uri}
		if fallback != nil {
			h.FallbackResult = parley.FallbackResult(*fallback)
		}
		r.MessageReviewHandler = h
	}
	r.CreateTime, r.UpdateTime = fromNanos(created), fromNanos(updated)
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	return &r, nil
}

// reviewColumns returns the stored form of a review handler: NULLs for none
// (or one with an empty URI, which RoomUpdate uses to mean none).
func reviewColumns(h *parley.MessageReviewHandler) (uri, fallback *string) {
	if h == nil || h.URI == "" {
		return nil, nil
	}
	f := string(h.FallbackResult)
	return &h.URI, &f
}

// CreateRoom implements parley.Store. The room gets Version 1, which is also
// set in r. With maxRooms > 0 the count and the insert run under the
// schema's room-quota advisory lock, so the quota holds across nodes.
func (s *Store) CreateRoom(ctx context.Context, r *parley.Room, maxRooms int) error {
	const version = 1
	err := s.writeTx(ctx, "create room", func(tx pgx.Tx) error {
		if maxRooms > 0 {
			if err := lock(ctx, tx, s.roomsLock); err != nil {
				return err
			}
			n, err := count(ctx, tx, "rooms")
			if err != nil {
				return err
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
		_, err = tx.Exec(ctx, `INSERT INTO rooms (id, arn, name,
			maximum_message_rate_per_second, maximum_message_length,
			review_handler_uri, review_handler_fallback, create_time, update_time, version,
			tags, logging_configuration_arns)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.ID, r.ARN, r.Name, r.MaximumMessageRatePerSecond, r.MaximumMessageLength,
			uri, fallback, nanos(r.CreateTime), nanos(r.UpdateTime), version,
			tagsOrEmpty(r.Tags), arnsOrEmpty(r.LoggingConfigurationIdentifiers))
		if err != nil {
			return fmt.Errorf("insert room: %w", err)
		}
		return attachLoggingConfigurations(ctx, tx, r.ID, lcIDs)
	})
	if err == nil {
		r.Version = version
	}
	return err
}

// resolveLoggingConfigurations returns the IDs of the configurations whose
// ARNs are arns, or ResourceNotFoundException naming the first unknown one.
// Each row is locked FOR KEY SHARE until the transaction ends, so a
// concurrent DeleteLoggingConfiguration (which locks FOR UPDATE) either
// finishes first, and the configuration is not found, or waits and then
// sees it attached.
func resolveLoggingConfigurations(ctx context.Context, tx pgx.Tx, arns []string) ([]string, error) {
	ids := make([]string, 0, len(arns))
	for _, arn := range arns {
		var id string
		err := tx.QueryRow(ctx, `SELECT id FROM logging_configurations WHERE arn = $1 FOR KEY SHARE`, arn).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, parley.NotFound("logging configuration", bareID(arn))
		}
		if err != nil {
			return nil, fmt.Errorf("find logging configuration %s: %w", arn, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// tagsOrEmpty and arnsOrEmpty give nil its stored form: {} and '{}', not
// NULL.
func tagsOrEmpty(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}

func arnsOrEmpty(arns []string) []string {
	if arns == nil {
		return []string{}
	}
	return arns
}

// bareID returns the resource ID that ends arn.
func bareID(arn string) string {
	if a, err := parley.ParseARN(arn); err == nil {
		return a.ID
	}
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func attachLoggingConfigurations(ctx context.Context, tx pgx.Tx, roomID string, lcIDs []string) error {
	if len(lcIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO room_logging_configurations (room_id, position, logging_configuration_id)
		SELECT $1, p - 1, id FROM unnest($2::text[]) WITH ORDINALITY AS u (id, p)`, roomID, lcIDs)
	if err != nil {
		return fmt.Errorf("attach logging configurations: %w", err)
	}
	return nil
}

// FindRoom implements parley.Store: one statement, one round trip.
func (s *Store) FindRoom(ctx context.Context, id string) (*parley.Room, error) {
	return scanOne(s.pool.QueryRow(ctx, findRoomSQL, id), "room", id, scanRoom)
}

// FindRooms implements parley.Store.
func (s *Store) FindRooms(ctx context.Context, f parley.RoomFilter) ([]*parley.Room, error) {
	var q query
	if f.Name != nil {
		q.where("r.name = ?", *f.Name)
	}
	if f.MessageReviewHandlerURI != nil {
		q.where("r.review_handler_uri = ?", *f.MessageReviewHandlerURI)
	}
	if f.LoggingConfigurationIdentifier != nil {
		q.where(`EXISTS (SELECT 1 FROM room_logging_configurations j
			JOIN logging_configurations l ON l.id = j.logging_configuration_id
			WHERE j.room_id = r.id AND l.arn = ?)`, *f.LoggingConfigurationIdentifier)
	}
	q.after("r", f.After)
	sql := selectRoom + q.clause() + " ORDER BY r.update_time DESC, r.id DESC" + limitClause(f.Limit)
	return queryAll(ctx, s.pool, "find rooms", sql, q.args, scanRoom)
}

// UpdateRoom implements parley.Store. The room's Version grows by one.
func (s *Store) UpdateRoom(ctx context.Context, id string, upd parley.RoomUpdate, now time.Time) (*parley.Room, error) {
	var room *parley.Room
	err := s.writeTx(ctx, "update room", func(tx pgx.Tx) error {
		sets, args := roomUpdateSets(upd, now)
		tag, err := tx.Exec(ctx, "UPDATE rooms SET "+strings.Join(sets, ", ")+
			fmt.Sprintf(" WHERE id = $%d", len(args)+1), append(args, id)...)
		if err != nil {
			return fmt.Errorf("update room %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return parley.NotFound("room", id)
		}
		if upd.LoggingConfigurationIdentifiers != nil {
			if err := replaceLoggingConfigurations(ctx, tx, id, *upd.LoggingConfigurationIdentifiers); err != nil {
				return err
			}
		}
		room, err = scanOne(tx.QueryRow(ctx, findRoomSQL, id), "room", id, scanRoom)
		return err
	})
	if err != nil {
		return nil, err
	}
	return room, nil
}

// roomUpdateSets returns the SET assignments, numbered $1…, and their
// arguments for upd. The UPDATE locks the row, so concurrent changes to one
// room are serialised and each sees the version the previous one left.
func roomUpdateSets(upd parley.RoomUpdate, now time.Time) ([]string, []any) {
	sets, args := []string{"version = version + 1", "update_time = $1"}, []any{nanos(now)}
	set := func(column string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", column, len(args)))
	}
	if upd.Name != nil {
		set("name", *upd.Name)
	}
	if upd.MaximumMessageRatePerSecond != nil {
		set("maximum_message_rate_per_second", *upd.MaximumMessageRatePerSecond)
	}
	if upd.MaximumMessageLength != nil {
		set("maximum_message_length", *upd.MaximumMessageLength)
	}
	if upd.MessageReviewHandler != nil {
		uri, fallback := reviewColumns(upd.MessageReviewHandler)
		set("review_handler_uri", uri)
		set("review_handler_fallback", fallback)
	}
	if upd.LoggingConfigurationIdentifiers != nil {
		// The attachments are replaced in the same transaction.
		set("logging_configuration_arns", arnsOrEmpty(*upd.LoggingConfigurationIdentifiers))
	}
	return sets, args
}

func replaceLoggingConfigurations(ctx context.Context, tx pgx.Tx, roomID string, arns []string) error {
	lcIDs, err := resolveLoggingConfigurations(ctx, tx, arns)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM room_logging_configurations WHERE room_id = $1`, roomID); err != nil {
		return fmt.Errorf("detach logging configurations: %w", err)
	}
	return attachLoggingConfigurations(ctx, tx, roomID, lcIDs)
}

// DeleteRoom implements parley.Store. Its tags and logging configuration
// attachments go with it (ON DELETE CASCADE).
func (s *Store) DeleteRoom(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM rooms WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete room %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.NotFound("room", id)
	}
	return nil
}

// query builds a WHERE clause with numbered parameters: where takes a
// condition with one '?' standing for arg.
type query struct {
	conds []string
	args  []any
}

func (q *query) where(cond string, args ...any) {
	for _, a := range args {
		q.args = append(q.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(q.args)), 1)
	}
	q.conds = append(q.conds, cond)
}

// after keeps the rows of table alias t that sort after c in
// (update_time desc, id desc).
func (q *query) after(t string, c *parley.Cursor) {
	if c == nil {
		return
	}
	ns := nanos(c.UpdateTime)
	q.where(fmt.Sprintf("(%[1]s.update_time < ? OR (%[1]s.update_time = ? AND %[1]s.id < ?))", t), ns, ns, c.ID)
}

func (q *query) clause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit)
}
