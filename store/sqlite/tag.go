package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleychat/parley"
)

// tagTable describes where the tags of one resource type live. Its strings
// are constants, never input, so they may be put into SQL text.
type tagTable struct {
	what      string // for messages
	resources string // table of the tagged resources
	tags      string // table of their tags
	idColumn  string // column of tags naming the resource
}

var (
	roomTags                 = tagTable{"room", "rooms", "room_tags", "room_id"}
	loggingConfigurationTags = tagTable{"logging configuration", "logging_configurations",
		"logging_configuration_tags", "logging_configuration_id"}
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

// resolveARN returns the tag table and ID of the resource whose ARN is arn,
// or ResourceNotFoundException.
func resolveARN(ctx context.Context, q querier, arn parley.ARN) (tagTable, string, error) {
	tt, ok := tagTableOf(arn)
	if !ok {
		return tagTable{}, "", parley.NotFound("resource", arn.ID)
	}
	var id string
	err := q.QueryRowContext(ctx, "SELECT id FROM "+tt.resources+" WHERE arn = ?", arn.String()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return tagTable{}, "", parley.NotFound(tt.what, arn.ID)
	}
	if err != nil {
		return tagTable{}, "", fmt.Errorf("find %s %s: %w", tt.what, arn.ID, err)
	}
	return tt, id, nil
}

// FindTags implements parley.Store. The map is never nil.
func (s *Store) FindTags(ctx context.Context, arn parley.ARN) (map[string]string, error) {
	// One read transaction, so that the resource and its tags are seen at
	// the same moment.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("find tags: begin: %w", err)
	}
	defer tx.Rollback()
	tt, id, err := resolveARN(ctx, tx, arn)
	if err != nil {
		return nil, err
	}
	tags, err := findTags(ctx, tx, tt, id)
	if err != nil {
		return nil, fmt.Errorf("find tags of %s: %w", arn, err)
	}
	return tags, nil
}

func findTags(ctx context.Context, q querier, tt tagTable, id string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM "+tt.tags+" WHERE "+tt.idColumn+" = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

// TagResource implements parley.Store. A maxTags of zero or less means no
// limit.
func (s *Store) TagResource(ctx context.Context, arn parley.ARN, tags map[string]string, maxTags int) error {
	return s.writeTx(ctx, "tag resource", func(tx *sql.Tx) error {
		tt, id, err := resolveARN(ctx, tx, arn)
		if err != nil {
			return err
		}
		if maxTags > 0 {
			old, err := findTags(ctx, tx, tt, id)
			if err != nil {
				return fmt.Errorf("find tags of %s: %w", arn, err)
			}
			n := len(old)
			for k := range tags {
				if _, ok := old[k]; !ok {
					n++
				}
			}
			if n > maxTags {
				return parley.FieldErrorf("tags", "a resource can have at most %d tags, this would give it %d", maxTags, n)
			}
		}
		if err := bumpRoomVersion(ctx, tx, tt, id); err != nil {
			return err
		}
		return upsertTags(ctx, tx, tt, id, tags)
	})
}

// bumpRoomVersion grows the Version of the room id when tt is the rooms'
// tag table (a change to its tags is a change to the room).
func bumpRoomVersion(ctx context.Context, tx *sql.Tx, tt tagTable, id string) error {
	if tt != roomTags {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rooms SET version = version + 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("update version of room %s: %w", id, err)
	}
	return nil
}

// upsertTags adds tags to the resource id, overwriting existing keys.
func upsertTags(ctx context.Context, tx *sql.Tx, tt tagTable, id string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO "+tt.tags+" ("+tt.idColumn+", key, value) VALUES (?, ?, ?)"+
		" ON CONFLICT ("+tt.idColumn+", key) DO UPDATE SET value = excluded.value")
	if err != nil {
		return fmt.Errorf("prepare insert tag: %w", err)
	}
	defer st.Close()
	for k, v := range tags {
		if _, err := st.ExecContext(ctx, id, k, v); err != nil {
			return fmt.Errorf("insert tag %q: %w", k, err)
		}
	}
	return nil
}

// UntagResource implements parley.Store.
func (s *Store) UntagResource(ctx context.Context, arn parley.ARN, keys []string) error {
	return s.writeTx(ctx, "untag resource", func(tx *sql.Tx) error {
		tt, id, err := resolveARN(ctx, tx, arn)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		if err := bumpRoomVersion(ctx, tx, tt, id); err != nil {
			return err
		}
		args := make([]any, 0, len(keys)+1)
		args = append(args, id)
		for _, k := range keys {
			args = append(args, k)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM "+tt.tags+" WHERE "+tt.idColumn+" = ? AND key IN ("+
			placeholders(len(keys))+")", args...)
		if err != nil {
			return fmt.Errorf("delete tags of %s: %w", arn, err)
		}
		return nil
	})
}
