package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parleychat/parley"

	"github.com/parleychat/parley/store/internal/migration"
)

// TestRoomVersionAfterUpgrade opens a file made by a binary that knew only
// migrations 1 and 2: its rooms start at Version 1 and grow from there.
func TestRoomVersionAfterUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path+"?"+writeParams)
	if err != nil {
		t.Fatal(err)
	}
	all, err := migration.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, all[:2]); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO rooms (id, arn, name, maximum_message_rate_per_second, maximum_message_length,
		create_time, update_time) VALUES ('AAAAAAAAAAAA', 'arn:aws:ivschat:us-east-1:123456789012:room/AAAAAAAAAAAA',
		'old', 10, 500, 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	r, err := s.FindRoom(ctx, "AAAAAAAAAAAA")
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 {
		t.Fatalf("version=%d after the upgrade, want 1", r.Version)
	}
	name := "new"
	r, err = s.UpdateRoom(ctx, r.ID, parley.RoomUpdate{Name: &name}, r.UpdateTime)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 2 {
		t.Fatalf("version=%d after an update, want 2", r.Version)
	}
}
