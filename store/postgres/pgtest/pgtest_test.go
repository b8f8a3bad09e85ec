package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/parleychat/parley/store/postgres/pgtest"
)

func TestURL(t *testing.T) {
	ctx := context.Background()
	var schema string
	t.Run("OwnSchema", func(t *testing.T) {
		c, err := pgx.Connect(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if err := c.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(schema, "parley_test_") {
			t.Fatalf("current_schema()=%q, want parley_test_…", schema)
		}
		if _, err := c.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
			t.Fatal(err)
		}
	})
	if t.Skipped() || schema == "" {
		return
	}
	c, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s still exists after its test (%d, %v)", schema, n, err)
	}
}

func TestWithSearchPath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?search_path=s"},
		{"postgres://h/db?search_path=old", "postgres://h/db?search_path=s"},
		{"host=h dbname=db", "host=h dbname=db search_path=s"},
	}
	for _, c := range cases {
		got, err := pgtest.WithSearchPath(c.in, "s")
		if err != nil || got != c.want {
			t.Errorf("WithSearchPath(%q)=%q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestUnreachableSkips(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t.Setenv("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	t.Setenv("PARLEY_REQUIRE_SERVICES", "")
	skipped := false
	t.Run("Inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		pgtest.URL(t)
		t.Error("URL returned without a server")
	})
	if !skipped {
		t.Fatal("URL did not skip when no server answers")
	}
}
