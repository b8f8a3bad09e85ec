package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleychat/parley"
)

const (
	insertToken = `INSERT INTO used_tokens (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`

	// maxTokenBatch is the most UseToken calls that share one commit.
	maxTokenBatch = 256
	// purgeInterval is how often expired token records are deleted.
	purgeInterval = time.Minute
	// purgeChunk is the most records one purge transaction deletes, so
	// that a large purge does not hold up UseToken for long.
	purgeChunk = 5000
)

// errClosed is returned by UseToken after Close.
var errClosed = errors.New("sqlite store is closed")

// tokenRequest is one UseToken call waiting for the group committer.
type tokenRequest struct {
	id        string
	expiresAt int64
	done      chan error // buffered: the committer never blocks on it
}

var tokenRequests = sync.Pool{New: func() any { return &tokenRequest{done: make(chan error, 1)} }}

// UseToken implements parley.Store. Concurrent calls are committed together:
// each returns only after the transaction holding its record is on disk.
func (s *Store) UseToken(ctx context.Context, tokenID string, expiresAt time.Time) error {
	req := tokenRequests.Get().(*tokenRequest)
	req.id, req.expiresAt = tokenID, nanos(expiresAt)
	select {
	case s.tokens <- req:
	case <-ctx.Done():
		tokenRequests.Put(req)
		return fmt.Errorf("use token: %w", ctx.Err())
	case <-s.done:
		tokenRequests.Put(req)
		return fmt.Errorf("use token: %w", errClosed)
	}
	select {
	case err := <-req.done:
		tokenRequests.Put(req)
		return err
	case <-ctx.Done():
		// The committer still answers into req.done; leave req to the
		// garbage collector rather than reuse it.
		return fmt.Errorf("use token: %w", ctx.Err())
	}
}

// commitTokens is the group committer. It takes one request, gathers the
// requests already waiting, and commits them in one transaction. It also
// purges expired records now and then. Because s.tokens is unbuffered, every
// request it receives is answered, even when Close comes next.
func (s *Store) commitTokens() {
	defer s.wg.Done()
	ticker := time.NewTicker(purgeInterval)
	defer ticker.Stop()
	batch := make([]*tokenRequest, 0, maxTokenBatch)
	for {
		select {
		case <-s.done:
			return
		case <-ticker.C:
			// A failed purge is retried at the next tick; the records
			// only take space.
			_, _ = s.PurgeTokens(context.Background(), time.Now())
		case req := <-s.tokens:
			batch = append(batch[:0], req)
		gather:
			for len(batch) < maxTokenBatch {
				select {
				case req := <-s.tokens:
					batch = append(batch, req)
				default:
					break gather
				}
			}
			s.commitTokenBatch(batch)
			clear(batch)
		}
	}
}

// commitTokenBatch inserts the records of batch in one transaction and
// answers every request: ConflictException for a token recorded before
// (also earlier in the same batch), the commit's error for all if it fails.
func (s *Store) commitTokenBatch(batch []*tokenRequest) {
	results := make([]error, len(batch))
	err := s.writeTx(context.Background(), "use token", func(tx *sql.Tx) error {
		st := tx.Stmt(s.insertToken)
		defer st.Close()
		for i, req := range batch {
			res, err := st.Exec(req.id, req.expiresAt)
			if err != nil {
				return fmt.Errorf("insert used token: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				results[i] = &parley.Error{
					Code:         parley.ConflictException,
					Message:      "chat token was already used",
					ResourceType: parley.ResourceTypeRoom,
				}
			}
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			req.done <- err
		} else {
			req.done <- results[i]
		}
	}
}

// PurgeTokens deletes the records of used tokens that expired before t and
// returns how many it deleted. The Store calls it every minute; it is
// exported for tests and maintenance.
func (s *Store) PurgeTokens(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.write.ExecContext(ctx, `DELETE FROM used_tokens WHERE id IN
			(SELECT id FROM used_tokens WHERE expires_at < ? LIMIT ?)`, nanos(t), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("purge used tokens: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge used tokens: %w", err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}
