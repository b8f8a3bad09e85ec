// Package postgres is the parley.Store for a cluster: several `parley serve`
// nodes share one PostgreSQL database (15 or later) through
// github.com/jackc/pgx/v5 and its pool.
//
// Open applies the embedded migrations (migrations/*.sql, forward only,
// recorded in schema_migrations) under an advisory lock, so nodes that start
// at once against an empty database all succeed and the schema is applied
// once. Tables live in the first schema of the connection's search_path
// (current_schema()); set it with the URL's search_path parameter to keep
// several deployments, or tests, in one database.
//
// Every write is one transaction committed with the server's
// synchronous_commit (on by default): a nil error means the change is
// durable. Quotas are exact across nodes: a create that has a quota takes a
// transaction-scoped advisory lock of its resource type before it counts
// and inserts. Concurrent writes to one room, or to one configuration's
// tags, are serialised by its row lock. UseToken is one INSERT … ON CONFLICT
// DO NOTHING, so one node at most accepts a token; expired records are
// purged in the background by every node.
//
// FindRoom, called for every chat token and every connect, is one round trip
// and one primary-key lookup: a room's row carries its tags (jsonb) and a
// copy of the ARNs of its logging configurations, written in the
// transaction that attaches them, and the statement is prepared once per
// connection by pgx's statement cache. There is no cache in the Store, so a
// change committed by any node is seen by the next read on every node.
// Room.Version is a per-room counter that every write to the room, its tags
// or its attachments grows by one under the row's lock.
//
// The pool's settings come from the URL (pgxpool's pool_max_conns and
// friends). Without pool_max_conns the pool has up to DefaultMaxConns
// connections, opened as needed: UseToken waits for a WAL flush, so more
// connections in flight let one flush commit more tokens.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleychat/parley"

	"github.com/parleychat/parley/store/internal/migration"
)

var (
	_ parley.Store       = (*Store)(nil)
	_ parley.SecretStore = (*Store)(nil)
)

// DefaultPurgeInterval is how often a Store deletes the records of expired
// chat tokens when Options.PurgeInterval is zero.
const DefaultPurgeInterval = time.Minute

// DefaultMaxConns is the most connections a Store opens when the URL has
// no pool_max_conns. Mind the server's max_connections across all nodes.
const DefaultMaxConns = 16

// Options tunes a Store. The zero value is the documented default of each
// field.
type Options struct {
	// PurgeInterval is how often expired token records are deleted. Zero
	// means DefaultPurgeInterval.
	PurgeInterval time.Duration
	// Logger receives failures of the background purge. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is a parley.Store and parley.SecretStore kept in PostgreSQL. Its
// methods are safe for concurrent use; several Stores, in one process or
// many, may share one database and schema.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger

	// roomsLock and lcsLock are the advisory lock keys that serialise
	// creates with a quota, per schema.
	roomsLock, lcsLock int64

	cancel context.CancelFunc // stops the purger
	wg     sync.WaitGroup     // the purger
	once   sync.Once
}

// Open connects to the database at url (a postgres:// URL or a keyword/value
// string, as pgx takes them), applies the migrations it lacks and starts the
// background purge of expired token records. It fails when the server does
// not answer before ctx is done.
func Open(ctx context.Context, url string) (*Store, error) {
	return Options{}.Open(ctx, url)
}

// Open is Open with the options o.
func (o Options) Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	s := &Store{pool: pool, log: o.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.open(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", describe(cfg), err)
	}
	interval := o.PurgeInterval
	if interval <= 0 {
		interval = DefaultPurgeInterval
	}
	purgeCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.purgeTokens(purgeCtx, interval)
	return s, nil
}

// describe names the server and database of cfg for errors, without the
// password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("(host %s port %d database %s user %s)", c.Host, c.Port, c.Database, c.User)
}

// open checks the connection, finds the schema and migrates it.
func (s *Store) open(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if schema == nil {
		var path string
		if err := s.pool.QueryRow(ctx, `SHOW search_path`).Scan(&path); err != nil {
			return fmt.Errorf("show search_path: %w", err)
		}
		return fmt.Errorf("no schema of search_path %q exists: create it first", path)
	}
	s.schema = *schema
	var syncCommit string
	if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&syncCommit); err != nil {
		return fmt.Errorf("show synchronous_commit: %w", err)
	}
	if syncCommit == "off" {
		s.log.Warn("postgres store: synchronous_commit is off, so a write the API confirmed can be lost in a crash")
	}
	s.roomsLock = lockKey(s.schema, "rooms")
	s.lcsLock = lockKey(s.schema, "logging_configurations")
	ms, err := migration.Load(migrationFS)
	if err != nil {
		return err
	}
	return migrate(ctx, s.pool, lockKey(s.schema, "migrate"), ms)
}

// lockKey returns the advisory lock key for what in schema. Advisory locks
// are database-wide; the schema in the key keeps deployments that share a
// database (and parallel tests) from waiting for each other.
func lockKey(schema, what string) int64 {
	h := fnv.New64a()
	h.Write([]byte("parley\x00" + schema + "\x00" + what))
	return int64(h.Sum64())
}

// Schema returns the schema the Store's tables are in.
func (s *Store) Schema() string { return s.schema }

// Close stops the background purge and closes the pool, waiting for
// queries in flight until ctx is done. It is safe to call more than once;
// calls after the first return nil.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		closed := make(chan struct{})
		go func() {
			s.pool.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-ctx.Done():
			err = fmt.Errorf("close postgres store: %w", ctx.Err())
		}
	})
	return err
}

// maxTxAttempts bounds how often writeTx runs a transaction that the server
// aborted as a deadlock or serialisation failure.
const maxTxAttempts = 3

// writeTx runs fn in a read-committed transaction and commits. A
// transaction the server aborted as a deadlock or a serialisation failure is
// run again, up to maxTxAttempts times. A *parley.Error from fn is returned
// as it is; other errors are wrapped with op.
func (s *Store) writeTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	var err error
	for range maxTxAttempts {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) {
			break
		}
	}
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// PostgreSQL error codes the store looks at.
const (
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	c := pgCode(err)
	return c == codeSerializationFailure || c == codeDeadlockDetected
}

// lock takes the transaction-scoped advisory lock key.
func lock(ctx context.Context, tx pgx.Tx, key int64) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

// count returns the number of rows of table, a constant.
func count(ctx context.Context, tx pgx.Tx, table string) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

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

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanOne scans the one row of a lookup by id: ResourceNotFoundException
// naming what when there is none.
func scanOne[T any](row scanner, what, id string, scan func(scanner) (T, error)) (T, error) {
	v, err := scan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, parley.NotFound(what, id)
	}
	if err != nil {
		return v, fmt.Errorf("find %s %s: %w", what, id, err)
	}
	return v, nil
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryAll runs a query and scans every row with scan; op names the
// operation in errors.
func queryAll[T any](ctx context.Context, q querier, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
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

// Ping reports whether the database answers, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}
