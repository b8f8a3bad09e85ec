package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
)

// tagTable describes where the tags of one resource type live. Its strings
// are constants, never input, so they may be put into SQL text.
type tagTable struct {
	what      string // for messages
	resources string // table of the tagged resources
	tags      string // table of their tags
	idColumn  string // column of tags naming the resource
	// lock is the statement that finds the resource by ARN ($1) for a
	// write to its tags, locking its row so that writes to one resource's
	// tags are serialised; for a room it also grows the room's version.
	lock string
}

var (
	roomTags = tagTable{what: "room", resources: "rooms", tags: "room_tags", idColumn: "room_id",
		lock: `UPDATE rooms SET version = version + 1 WHERE arn = $1 RETURNING id`}
	loggingConfigurationTags = tagTable{what: "logging configuration", resources: "logging_configurations",
		tags: "logging_configuration_tags", idColumn: "logging_configuration_id",
		lock: `SELECT id FROM logging_configurations WHERE arn = $1 FOR NO KEY UPDATE`}
)

// tagTableOf returns the table for the resource type of arn.
func tagTableOf(arn parley.ARN) (tagTable, bool) {
	switch arn.Resource {
	case parley.ResourceRoom:
		return roomTags, true
	case parley.ResourceLoggingConfiguration:
		return loggingConfigurationTags, true
	}
	return tagTable{}, false
}

// FindTags implements parley.Store. The map is never nil. The resource and
// its tags are read by one statement, so at one moment.
func (s *Store) FindTags(ctx context.Context, arn parley.ARN) (map[string]string, error) {
	tt, ok := tagTableOf(arn)
	if !ok {
		return nil, parley.NotFound("resource", arn.ID)
	}
	sql := "SELECT array_agg(t.key ORDER BY t.key), array_agg(t.value ORDER BY t.key) FROM " + tt.resources +
		" r LEFT JOIN " + tt.tags + " t ON t." + tt.idColumn + " = r.id WHERE r.arn = $1 GROUP BY r.id"
	var keys, vals []*string
	err := s.pool.QueryRow(ctx, sql, arn.String()).Scan(&keys, &vals)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.NotFound(tt.what, arn.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("find tags of %s: %w", arn, err)
	}
	tags := make(map[string]string, len(keys))
	for i, k := range keys {
		if k != nil && vals[i] != nil { // a resource without tags gives one NULL
			tags[*k] = *vals[i]
		}
	}
	return tags, nil
}

// lockResource finds the resource named by arn with tt.lock inside tx and
// returns its ID, or ResourceNotFoundException.
func lockResource(ctx context.Context, tx pgx.Tx, arn parley.ARN) (tagTable, string, error) {
	tt, ok := tagTableOf(arn)
	if !ok {
		return tagTable{}, "", parley.NotFound("resource", arn.ID)
	}
	var id string
	err := tx.QueryRow(ctx, tt.lock, arn.String()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return tagTable{}, "", parley.NotFound(tt.what, arn.ID)
	}
	if err != nil {
		return tagTable{}, "", fmt.Errorf("find %s %s: %w", tt.what, arn.ID, err)
	}
	return tt, id, nil
}

// TagResource implements parley.Store. A maxTags of zero or less means no
// limit. The resource's row is locked before its tags are counted, so the
// limit holds under concurrent writes from any node; a room's Version grows.
func (s *Store) TagResource(ctx context.Context, arn parley.ARN, tags map[string]string, maxTags int) error {
	return s.writeTx(ctx, "tag resource", func(tx pgx.Tx) error {
		tt, id, err := lockResource(ctx, tx, arn)
		if err != nil {
			return err
		}
		if maxTags > 0 {
			var n int
			err := tx.QueryRow(ctx, "SELECT count(*) FROM "+tt.tags+" WHERE "+tt.idColumn+" = $1", id).Scan(&n)
			if err != nil {
				return fmt.Errorf("count tags of %s: %w", arn, err)
			}
			var fresh int // keys of tags that the resource lacks
			err = tx.QueryRow(ctx, "SELECT count(*) FROM unnest($2::text[]) k WHERE NOT EXISTS (SELECT 1 FROM "+
				tt.tags+" WHERE "+tt.idColumn+" = $1 AND key = k)", id, keysOf(tags)).Scan(&fresh)
			if err != nil {
				return fmt.Errorf("count new tags of %s: %w", arn, err)
			}
			if n+fresh > maxTags {
				return parley.FieldErrorf("tags", "a resource can have at most %d tags, this would give it %d", maxTags, n+fresh)
			}
		}
		return upsertTags(ctx, tx, tt, id, tags)
	})
}

func keysOf(tags map[string]string) []string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	return keys
}

// upsertTags adds tags to the resource id, overwriting existing keys, in
// one statement.
func upsertTags(ctx context.Context, tx pgx.Tx, tt tagTable, id string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	keys := keysOf(tags)
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = tags[k]
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+tt.tags+" ("+tt.idColumn+", key, value)"+
		" SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS u (k, v)"+
		" ON CONFLICT ("+tt.idColumn+", key) DO UPDATE SET value = excluded.value", id, keys, vals)
	if err != nil {
		return fmt.Errorf("insert tags: %w", err)
	}
	return nil
}

// UntagResource implements parley.Store. Removing keys from a room grows its
// Version.
func (s *Store) UntagResource(ctx context.Context, arn parley.ARN, keys []string) error {
	if len(keys) == 0 {
		// Nothing changes; the resource must still exist.
		_, err := s.FindTags(ctx, arn)
		return err
	}
	return s.writeTx(ctx, "untag resource", func(tx pgx.Tx) error {
		tt, id, err := lockResource(ctx, tx, arn)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM "+tt.tags+" WHERE "+tt.idColumn+" = $1 AND key = ANY($2::text[])", id, keys)
		if err != nil {
			return fmt.Errorf("delete tags of %s: %w", arn, err)
		}
		return nil
	})
}
