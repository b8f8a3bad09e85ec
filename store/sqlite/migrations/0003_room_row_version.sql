-- rooms.version is parley.Room.Version: it grows by one with every change
-- to the room, its tags or the list of its logging configurations. The
-- store sets it in the transaction that makes the change. Rooms that exist
-- already start at 1.

ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
