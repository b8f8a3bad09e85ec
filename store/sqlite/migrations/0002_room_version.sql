-- room_version changes with every change to what FindRoom returns: a room,
-- its tags or its logging configurations. Stores keep a cache of rooms that
-- is valid while room_version is the same, so a change made by any process
-- sharing the file is seen at the next read. The triggers set a random
-- number rather than a count, so that a value never comes back with other
-- contents, even after the file is restored from a backup.

CREATE TABLE room_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;

INSERT INTO room_version (id, version) VALUES (1, random());

CREATE TRIGGER rooms_insert_version AFTER INSERT ON rooms
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER rooms_update_version AFTER UPDATE ON rooms
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER rooms_delete_version AFTER DELETE ON rooms
BEGIN UPDATE room_version SET version = random(); END;

CREATE TRIGGER room_tags_insert_version AFTER INSERT ON room_tags
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER room_tags_update_version AFTER UPDATE ON room_tags
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER room_tags_delete_version AFTER DELETE ON room_tags
BEGIN UPDATE room_version SET version = random(); END;

CREATE TRIGGER room_logging_insert_version AFTER INSERT ON room_logging_configurations
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER room_logging_update_version AFTER UPDATE ON room_logging_configurations
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER room_logging_delete_version AFTER DELETE ON room_logging_configurations
BEGIN UPDATE room_version SET version = random(); END;

-- A room lists its logging configurations by ARN.
CREATE TRIGGER logging_arn_version AFTER UPDATE OF arn ON logging_configurations
BEGIN UPDATE room_version SET version = random(); END;
CREATE TRIGGER logging_delete_version AFTER DELETE ON logging_configurations
BEGIN UPDATE room_version SET version = random(); END;
