package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/store/postgres"
	"github.com/parleychat/parley/store/postgres/pgtest"
	"github.com/parleychat/parley/store/storetest"
)

// MustOpen opens a store on url and closes it when the test ends.
func MustOpen(tb testing.TB, url string) *postgres.Store {
	tb.Helper()
	return MustOpenWith(tb, url, postgres.Options{})
}

// MustOpenWith is MustOpen with options.
func MustOpenWith(tb testing.TB, url string, o postgres.Options) *postgres.Store {
	tb.Helper()
	s, err := o.Open(context.Background(), url)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store { return MustOpen(t, pgtest.URL(t)) })
}

// conn opens a plain connection on url, closed when the test ends.
func conn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestMigrationsInOwnSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s := MustOpen(t, url)
	if !strings.HasPrefix(s.Schema(), "parley_test_") {
		t.Fatalf("schema=%q, want the test's own", s.Schema())
	}
	c := conn(t, url)
	for _, table := range []string{"schema_migrations", "rooms", "used_tokens", "secrets"} {
		var schema string
		err := c.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = $1
			AND table_schema = $2`, table, s.Schema()).Scan(&schema)
		if err != nil {
			t.Fatalf("table %s in schema %s: %v", table, s.Schema(), err)
		}
	}
	var versions []int
	rows, err := c.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 1 || versions[0] != 1 {
		t.Fatalf("schema_migrations versions=%v, want [1]", versions)
	}
	// Opening again applies nothing more.
	MustOpen(t, url)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("schema_migrations has %d rows (%v) after a second Open, want 1", n, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	MustOpen(t, url)
	if _, err := conn(t, url).Exec(ctx, `INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open on a newer schema: err=%v, want a refusal", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Run("ErrBadURL", func(t *testing.T) {
		_, err := postgres.Open(ctx, "postgres://user:secret@127.0.0.1:5432/db?sslmode=nonsense")
		if err == nil || !strings.Contains(err.Error(), "open postgres store") {
			t.Fatalf("err=%v, want an open error", err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Fatalf("err=%v shows the password", err)
		}
	})
	t.Run("ErrNotAURL", func(t *testing.T) {
		_, err := postgres.Open(ctx, "postgres://[::1")
		if err == nil || !strings.Contains(err.Error(), "open postgres store") {
			t.Fatalf("err=%v, want an open error", err)
		}
	})
	t.Run("ErrNoServer", func(t *testing.T) {
		// Port 1 on loopback refuses connections.
		_, err := postgres.Open(ctx, "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("err=%v, want a connect error naming the host", err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Fatalf("err=%v shows the password", err)
		}
	})
	t.Run("ErrNoSchema", func(t *testing.T) {
		url, err := pgtest.WithSearchPath(pgtest.ServerURL(), "parley_test_missing_schema")
		if err != nil {
			t.Fatal(err)
		}
		pgtest.URL(t) // skips without a server
		_, err = postgres.Open(ctx, url)
		if err == nil || !strings.Contains(err.Error(), "no schema of search_path") {
			t.Fatalf("err=%v, want one saying the schema is missing", err)
		}
	})
}

func TestLoadOrCreateSecret(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, pgtest.URL(t))
	calls := 0
	create := func(v string) func() ([]byte, error) {
		return func() ([]byte, error) { calls++; return []byte(v), nil }
	}
	got, err := s.LoadOrCreateSecret(ctx, "token-key", create("first"))
	if err != nil || string(got) != "first" {
		t.Fatalf("LoadOrCreateSecret=%q, %v; want first", got, err)
	}
	got, err = s.LoadOrCreateSecret(ctx, "token-key", create("second"))
	if err != nil || string(got) != "first" {
		t.Fatalf("second LoadOrCreateSecret=%q, %v; want first", got, err)
	}
	if calls != 1 {
		t.Fatalf("create called %d times, want 1", calls)
	}
	got, err = s.LoadOrCreateSecret(ctx, "other", create("other"))
	if err != nil || string(got) != "other" {
		t.Fatalf("LoadOrCreateSecret(other)=%q, %v", got, err)
	}
	t.Run("ErrCreate", func(t *testing.T) {
		_, err := s.LoadOrCreateSecret(ctx, "failing", func() ([]byte, error) { return nil, context.Canceled })
		if err == nil {
			t.Fatal("err=nil, want create's error")
		}
		// Nothing was stored: a later call creates.
		got, err := s.LoadOrCreateSecret(ctx, "failing", create("now"))
		if err != nil || string(got) != "now" {
			t.Fatalf("LoadOrCreateSecret after a failed create=%q, %v", got, err)
		}
	})
}

func TestCloseTwice(t *testing.T) {
	s, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.FindRoom(context.Background(), parley.NewID()); err == nil {
		t.Fatal("FindRoom after Close succeeded")
	}
}
