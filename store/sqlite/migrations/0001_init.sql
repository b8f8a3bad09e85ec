-- Rooms, logging configurations, their tags and the record of used chat
-- tokens. Every time is an integer number of Unix nanoseconds.

CREATE TABLE rooms (
    id                              TEXT PRIMARY KEY,
    arn                             TEXT NOT NULL UNIQUE,
    name                            TEXT NOT NULL,
    maximum_message_rate_per_second INTEGER NOT NULL,
    maximum_message_length          INTEGER NOT NULL,
    -- review_handler_uri is NULL when the room has no review handler.
    review_handler_uri              TEXT,
    review_handler_fallback         TEXT,
    create_time                     INTEGER NOT NULL,
    update_time                     INTEGER NOT NULL
) STRICT;

-- FindRooms lists by (update_time desc, id desc).
CREATE INDEX rooms_by_update_time ON rooms (update_time DESC, id DESC);
CREATE INDEX rooms_by_name ON rooms (name);
CREATE INDEX rooms_by_review_handler_uri ON rooms (review_handler_uri);

CREATE TABLE logging_configurations (
    id          TEXT PRIMARY KEY,
    arn         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    -- destination is the JSON of parley.DestinationConfiguration.
    destination TEXT NOT NULL,
    state       TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
) STRICT;

CREATE INDEX logging_configurations_by_update_time
    ON logging_configurations (update_time DESC, id DESC);

-- room_logging_configurations attaches logging configurations to rooms in
-- the order they were given. Deleting a room detaches them; a configuration
-- cannot be deleted while attached (the store answers ConflictException
-- before the foreign key would refuse).
CREATE TABLE room_logging_configurations (
    room_id                  TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    position                 INTEGER NOT NULL,
    logging_configuration_id TEXT NOT NULL REFERENCES logging_configurations (id),
    PRIMARY KEY (room_id, position)
) STRICT, WITHOUT ROWID;

CREATE INDEX room_logging_configurations_by_configuration
    ON room_logging_configurations (logging_configuration_id);

CREATE TABLE room_tags (
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (room_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE logging_configuration_tags (
    logging_configuration_id TEXT NOT NULL
        REFERENCES logging_configurations (id) ON DELETE CASCADE,
    key                      TEXT NOT NULL,
    value                    TEXT NOT NULL,
    PRIMARY KEY (logging_configuration_id, key)
) STRICT, WITHOUT ROWID;

-- used_tokens records chat tokens that opened a session. A record may be
-- purged once expires_at has passed: the token can no longer connect.
CREATE TABLE used_tokens (
    id         TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX used_tokens_by_expiry ON used_tokens (expires_at);
