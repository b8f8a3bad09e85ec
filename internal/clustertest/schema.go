package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// newSchema creates a schema of its own in the database at base and returns
// a URL whose connections use it, and a function that drops it.
func newSchema(ctx context.Context, base string) (string, func(context.Context) error, error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("postgres at %s: %w", base, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "parley_cluster_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	return u.String(), drop, nil
}

// proxyDatabase starts a proxy to the server of dbURL and returns the URL
// that goes through it.
func proxyDatabase(dbURL string) (*Proxy, string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, "", err
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	p, err := StartProxy(host)
	if err != nil {
		return nil, "", err
	}
	u.Host = p.Addr
	return p, u.String(), nil
}

// DefaultDatabaseURL is the PostgreSQL server the tests use unless
// PARLEY_TEST_DATABASE_URL names another.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Available says why a cluster cannot be started here (no nginx, no
// PostgreSQL answering at dbURL), or nil when it can.
func Available(ctx context.Context, dbURL string) error {
	if _, err := os.Stat(NginxBin); err != nil {
		return fmt.Errorf("no nginx at %s (apt-get install nginx)", NginxBin)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("no PostgreSQL answers at %s: %w", dbURL, err)
	}
	return conn.Close(ctx)
}
