package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
)

// tagTable describes where the tags of one resource type live: the tags
// column of the resource's own row. Its strings are constants, never input,
// so they may be put into SQL text.
type tagTable struct {
	what  string // for messages
	table string // the resources, each with a tags column
	// bump is extra SET assignments for a write to the tags: a room's
	// version grows.
	bump string
}

var (
	roomTags                 = tagTable{what: "room", table: "rooms", bump: ", version = version + 1"}
	loggingConfigurationTags = tagTable{what: "logging configuration", table: "logging_configurations"}
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

// findTags reads the ID and tags of the resource named by arn on q;
// forUpdate locks its row until the transaction ends. It returns
// ResourceNotFoundException when there is no such resource.
func findTags(ctx context.Context, q querier, arn parley.ARN, forUpdate bool) (tagTable, string, map[string]string, error) {
	tt, ok := tagTableOf(arn)
	if !ok {
		return tagTable{}, "", nil, parley.NotFound("resource", arn.ID)
	}
	sql := "SELECT id, tags FROM " + tt.table + " WHERE arn = $1"
	if forUpdate {
		// NO KEY UPDATE: writers of one resource queue, rooms attaching a
		// configuration (FOR KEY SHARE) do not wait.
		sql += " FOR NO KEY UPDATE"
	}
	var (
		id   string
		tags map[string]string
	)
	err := q.QueryRow(ctx, sql, arn.String()).Scan(&id, &tags)
	if errors.Is(err, pgx.ErrNoRows) {
		return tagTable{}, "", nil, parley.NotFound(tt.what, arn.ID)
	}
	if err != nil {
		return tagTable{}, "", nil, fmt.Errorf("find tags of %s: %w", arn, err)
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tt, id, tags, nil
}

// FindTags implements parley.Store. The map is never nil.
func (s *Store) FindTags(ctx context.Context, arn parley.ARN) (map[string]string, error) {
	_, _, tags, err := findTags(ctx, s.pool, arn, false)
	return tags, err
}

// writeTags stores tags as the tags of the resource id.
func writeTags(ctx context.Context, tx pgx.Tx, tt tagTable, id string, tags map[string]string) error {
	_, err := tx.Exec(ctx, "UPDATE "+tt.table+" SET tags = $2"+tt.bump+" WHERE id = $1", id, tags)
	if err != nil {
		return fmt.Errorf("write tags of %s %s: %w", tt.what, id, err)
	}
	return nil
}

// TagResource implements parley.Store. A maxTags of zero or less means no
// limit. The resource's row is locked before its tags are read, so the limit
// holds under concurrent writes from any node; a room's Version grows.
func (s *Store) TagResource(ctx context.Context, arn parley.ARN, tags map[string]string, maxTags int) error {
	return s.writeTx(ctx, "tag resource", func(tx pgx.Tx) error {
		tt, id, old, err := findTags(ctx, tx, arn, true)
		if err != nil {
			return err
		}
		merged := maps.Clone(old)
		maps.Copy(merged, tags)
		if maxTags > 0 && len(merged) > maxTags {
			return parley.FieldErrorf("tags", "a resource can have at most %d tags, this would give it %d",
				maxTags, len(merged))
		}
		return writeTags(ctx, tx, tt, id, merged)
	})
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
		tt, id, tags, err := findTags(ctx, tx, arn, true)
		if err != nil {
			return err
		}
		for _, k := range keys {
			delete(tags, k)
		}
		return writeTags(ctx, tx, tt, id, tags)
	})
}
