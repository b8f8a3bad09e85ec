// Package pgtest gives tests a fresh, empty PostgreSQL schema of their own.
//
//	url := pgtest.URL(t) // skips when no server answers
//	s, err := postgres.Open(ctx, url)
//
// The server is the one named by PARLEY_TEST_DATABASE_URL, by default
// DefaultURL. When it does not answer the test is skipped with a message
// naming the URL, or fails when PARLEY_REQUIRE_SERVICES=1 (as in CI).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultURL is the server used when PARLEY_TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// connectTimeout bounds how long URL waits for the server.
const connectTimeout = 5 * time.Second

// ServerURL returns the URL of the test server: PARLEY_TEST_DATABASE_URL or
// DefaultURL.
func ServerURL() string {
	if u := os.Getenv("PARLEY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a schema parley_test_<random> on the test server and returns
// a connection URL whose search_path is that schema alone, so that tables a
// store creates land in it. The schema and everything in it is dropped when
// the test ends (register the stores' Close after calling URL, so that they
// close first). Each call gives a new schema; call it once and share the URL
// to have several stores on one schema.
func URL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL()
	schema := "parley_test_" + random()
	if err := exec(server, "CREATE SCHEMA "+schema); err != nil {
		var ce *connectError
		if errors.As(err, &ce) {
			unavailable(tb, server, ce.err)
		}
		tb.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		if err := exec(server, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := WithSearchPath(server, schema)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

// WithSearchPath returns the connection string s (a postgres:// URL or a
// keyword/value string) with the run-time parameter search_path set to
// schema, which pgx sends when it connects.
func WithSearchPath(s, schema string) (string, error) {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return s + " search_path=" + schema, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// unavailable skips the test, loudly, or fails it when
// PARLEY_REQUIRE_SERVICES=1.
func unavailable(tb testing.TB, server string, err error) {
	tb.Helper()
	msg := fmt.Sprintf("pgtest: PostgreSQL at %s is not reachable (%v); set PARLEY_TEST_DATABASE_URL to a server",
		redact(server), err)
	if os.Getenv("PARLEY_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg + " (PARLEY_REQUIRE_SERVICES=1)")
	}
	tb.Skip("SKIPPED: " + msg)
}

// exec runs one statement on its own connection to server.
func exec(server, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		return err
	}
	for k := range cfg.RuntimeParams {
		if strings.HasPrefix(k, "pool_") { // pgxpool's settings, not the server's
			delete(cfg.RuntimeParams, k)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return err // the server answered: a wrong database, user or setting
	}
	if err != nil {
		return &connectError{err}
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// connectError is a failure to reach the server.
type connectError struct{ err error }

func (e *connectError) Error() string { return "connect: " + e.err.Error() }

// redact hides the password of a URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

func random() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
