package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/store/internal/migration"
)

func openRaw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?"+writeParams)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func mustLoad(t *testing.T, fsys fstest.MapFS) []migration.Migration {
	t.Helper()
	ms, err := migration.Load(fsys)
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	return ms
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

func TestMigrateInOrderOnce(t *testing.T) {
	ctx := context.Background()
	db := openRaw(t)
	v1 := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")}}
	if err := migrate(ctx, db, mustLoad(t, v1)); err != nil {
		t.Fatal(err)
	}
	// Version 2 depends on version 1 and holds two statements; file names
	// are given out of order.
	v2 := fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (1);")},
		"migrations/0001_a.sql": v1["migrations/0001_a.sql"],
	}
	for range 2 {
		if err := migrate(ctx, db, mustLoad(t, v2)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM a`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows in a=%d (%v), want 1: migration 2 must run once", n, err)
	}
	if diff := cmp.Diff([]string{"a", "b", "schema_migrations"}, tables(t, db)); diff != "" {
		t.Fatalf("tables (-want +got):\n%s", diff)
	}
}

func TestMigrateFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := openRaw(t)
	bad := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (y INTEGER); THIS IS NOT SQL;")},
	}
	if err := migrate(ctx, db, mustLoad(t, bad)); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate: %v, want an error naming 0002_b.sql", err)
	}
	if got := tables(t, db); len(got) != 0 {
		t.Fatalf("tables after a failed migration: %v, want none", got)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db := openRaw(t)
	two := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (y INTEGER);")},
	}
	if err := migrate(ctx, db, mustLoad(t, two)); err != nil {
		t.Fatal(err)
	}
	delete(two, "migrations/0002_b.sql")
	if err := migrate(ctx, db, mustLoad(t, two)); err == nil {
		t.Fatal("migrate accepted a database newer than its migrations")
	}
}

func TestLoadMigrationsRejectsGapsAndBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"duplicate": {"migrations/0001_a.sql": {}, "migrations/001_b.sql": {}},
		"no number": {"migrations/init.sql": {}},
	} {
		if _, err := migration.Load(fsys); err == nil {
			t.Errorf("%s: loadMigrations succeeded", name)
		}
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := migration.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("embedded migrations: %+v", ms)
	}
}

func TestConnectionSettings(t *testing.T) {
	// A nil error from a write must mean the change is on disk: WAL with
	// synchronous=FULL (2) on the write connection, and foreign keys on.
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000",
	} {
		var got string
		if err := s.write.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s=%s, want %s", pragma, got, want)
		}
	}
	var qo string
	if err := s.read.QueryRow("PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("read pool query_only=%s (%v), want 1", qo, err)
	}
}
