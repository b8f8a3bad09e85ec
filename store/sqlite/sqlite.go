// Package sqlite is the embedded parley.Store: one SQLite file, written
// through modernc.org/sqlite (pure Go, no cgo).
//
// The file is in WAL mode with synchronous=FULL, so a commit returns only
// once the WAL is on disk: a nil error from a write means the change
// survives a crash or power loss. All writes go through one connection and
// start with BEGIN IMMEDIATE, so writers are serialised, quota checks and
// inserts cannot interleave, and a second process on the same file waits
// (busy_timeout) instead of failing. Reads use a separate pool of read-only
// connections, which WAL lets run alongside the writer.
//
// UseToken, called for every WebSocket connect, is group-committed: calls
// that arrive while a commit is in flight share the next transaction and its
// single fsync.
//
// FindRoom, called for every chat token and every connect, answers from a
// cache of rooms while the room_version row, which triggers change with
// every change to a room, its tags or its logging configurations, is the
// one the cached rooms were read at. Reading that row is one small read
// transaction, so the cache is exact across processes sharing the file.
//
// Room.Version is another number: the rooms.version column (migration 0003),
// a per-room counter that every write to the room, its tags or its logging
// configurations grows by one in the same transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/parleychat/parley"
	msqlite "modernc.org/sqlite" // also registers the "sqlite" driver

	"github.com/parleychat/parley/store/internal/migration"
)

var _ parley.Store = (*Store)(nil)

// Connection settings. busy_timeout covers another process holding the
// write lock (for example during its migrations). WAL is set by setWAL, not
// here: switching a new file to WAL can fail with SQLITE_BUSY without the
// busy handler being consulted, so that one statement is retried.
const (
	writeParams = "_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	readParams = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"
)

// Store is a parley.Store kept in one SQLite file. Its methods are safe for
// concurrent use.
type Store struct {
	path  string
	write *sql.DB // one connection: writes are serialised
	read  *sql.DB // read-only connections

	findRoom        *sql.Stmt // on read
	findRoomVersion *sql.Stmt // on read
	insertToken     *sql.Stmt // on write
	rooms           roomCache

	tokens   chan *tokenRequest   // to the group committer; unbuffered
	versions chan *versionRequest // to the version reader; unbuffered
	done     chan struct{}        // closed by Close
	wg       sync.WaitGroup       // the group committer and version reader
	once     sync.Once
}

// Open opens the SQLite database at path, creating it if needed, and
// applies the schema migrations it lacks. The Store owns two background
// goroutines until Close.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite store: invalid path %q", path)
	}
	ms, err := migration.Load(migrationFS)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, tokens: make(chan *tokenRequest), versions: make(chan *versionRequest),
		done: make(chan struct{})}
	if err := s.open(ctx, ms); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	s.wg.Add(2)
	go s.commitTokens()
	go s.readVersions()
	return s, nil
}

// open connects the two pools, migrates and prepares the hot statements.
func (s *Store) open(ctx context.Context, ms []migration.Migration) error {
	var err error
	if s.write, err = sql.Open("sqlite", s.path+"?"+writeParams); err != nil {
		return err
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)
	if err := setWAL(ctx, s.write); err != nil {
		return err
	}
	if err := migrate(ctx, s.write, ms); err != nil {
		return err
	}
	if s.read, err = sql.Open("sqlite", s.path+"?"+readParams); err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	if s.findRoom, err = s.read.PrepareContext(ctx, selectRoom+" WHERE r.id = ?"); err != nil {
		return fmt.Errorf("prepare find room: %w", err)
	}
	if s.findRoomVersion, err = s.read.PrepareContext(ctx, selectRoomVersion); err != nil {
		return fmt.Errorf("prepare find room version: %w", err)
	}
	if s.insertToken, err = s.write.PrepareContext(ctx, insertToken); err != nil {
		return fmt.Errorf("prepare insert token: %w", err)
	}
	return nil
}

// walTimeout bounds how long setWAL retries while another connection holds
// the lock it needs; it matches busy_timeout.
const walTimeout = 10 * time.Second

// setWAL puts the database in WAL mode (a setting kept in the file). Two
// processes opening one new file at once both try to switch it, and SQLite
// answers the loser SQLITE_BUSY at once rather than waiting, so BUSY is
// retried with a short backoff until walTimeout.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(walTimeout)
	wait := time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("journal_mode is %q, want wal", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("set journal_mode=WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// isBusy reports whether err is SQLITE_BUSY (or one of its extended codes).
func isBusy(err error) bool {
	const sqliteBusy = 5
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqliteBusy
}

// Close stops the background goroutines and closes the database. It is safe
// to call more than once; calls after the first return nil. The store has
// nothing in flight that outlives its callers, so ctx is not consulted.
func (s *Store) Close(context.Context) error {
	var err error
	s.once.Do(func() {
		close(s.done)
		s.wg.Wait()
		err = s.closeDBs()
	})
	return err
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.findRoom, s.findRoomVersion, s.insertToken} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, db := range []*sql.DB{s.read, s.write} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// writeTx runs fn in an immediate transaction on the write connection and
// commits. A *parley.Error from fn is returned as it is; other errors are
// wrapped with op.
func (s *Store) writeTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}

// nanos and fromNanos convert times to and from the stored Unix nanoseconds.
// scanOne scans the one row of a lookup by id: ResourceNotFoundException
// naming what when there is none.
func scanOne[T any](row scanner, what, id string, scan func(scanner) (T, error)) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, parley.NotFound(what, id)
	}
	if err != nil {
		return v, fmt.Errorf("find %s %s: %w", what, id, err)
	}
	return v, nil
}

// queryAll runs a query on db and scans every row with scan; op names the
// operation in errors.
func queryAll[T any](ctx context.Context, db *sql.DB, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var all []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return all, nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// quotaExceeded is ServiceQuotaExceededException for a create that would
// pass limit.
func quotaExceeded(what, id string, limit int) *parley.Error {
	return &parley.Error{
		Code:         parley.ServiceQuotaExceededException,
		Message:      fmt.Sprintf("%s quota of %d reached", what, limit),
		ResourceID:   id,
		ResourceType: parley.ResourceTypeRoom,
		Limit:        limit,
	}
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
