-- Rooms, logging configurations (each with its tags), the record of used
-- chat tokens and the secrets every node shares. Every time is a bigint of Unix
-- nanoseconds (timestamptz keeps only microseconds). IDs and ARNs sort
-- bytewise (COLLATE "C"), as in the embedded store, whatever the
-- database's collation.

CREATE TABLE rooms (
    id                              text COLLATE "C" PRIMARY KEY,
    arn                             text COLLATE "C" NOT NULL UNIQUE,
    name                            text NOT NULL,
    maximum_message_rate_per_second integer NOT NULL,
    maximum_message_length          integer NOT NULL,
    -- review_handler_uri is NULL when the room has no review handler.
    review_handler_uri              text,
    review_handler_fallback         text,
    create_time                     bigint NOT NULL,
    update_time                     bigint NOT NULL,
    -- tags is a JSON object of strings.
    tags                            jsonb NOT NULL DEFAULT '{}',
    -- logging_configuration_arns copies, in attachment order, the ARNs of
    -- room_logging_configurations, so that FindRoom reads one row. It is
    -- written with the attachments; a configuration's ARN never changes.
    logging_configuration_arns      text[] COLLATE "C" NOT NULL DEFAULT '{}',
    -- version grows by one with every change to the room, its tags or the
    -- list of its logging configurations (parley.Room.Version).
    version                         bigint NOT NULL
);

-- FindRooms lists by (update_time desc, id desc).
CREATE INDEX rooms_by_update_time ON rooms (update_time DESC, id DESC);
CREATE INDEX rooms_by_name ON rooms (name);
CREATE INDEX rooms_by_review_handler_uri ON rooms (review_handler_uri);

CREATE TABLE logging_configurations (
    id          text COLLATE "C" PRIMARY KEY,
    arn         text COLLATE "C" NOT NULL UNIQUE,
    name        text NOT NULL,
    -- destination is the JSON of parley.DestinationConfiguration.
    destination text NOT NULL,
    state       text NOT NULL,
    -- tags is a JSON object of strings.
    tags        jsonb NOT NULL DEFAULT '{}',
    create_time bigint NOT NULL,
    update_time bigint NOT NULL
);

CREATE INDEX logging_configurations_by_update_time
    ON logging_configurations (update_time DESC, id DESC);

-- room_logging_configurations attaches logging configurations to rooms in
-- the order they were given. Deleting a room detaches them; a configuration
-- cannot be deleted while attached (the store answers ConflictException
-- before the foreign key would refuse).
CREATE TABLE room_logging_configurations (
    room_id                  text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    position                 integer NOT NULL,
    logging_configuration_id text COLLATE "C" NOT NULL REFERENCES logging_configurations (id),
    PRIMARY KEY (room_id, position)
);

CREATE INDEX room_logging_configurations_by_configuration
    ON room_logging_configurations (logging_configuration_id);

-- used_tokens records chat tokens that opened a session. A record may be
-- purged once expires_at has passed: the token can no longer connect.
CREATE TABLE used_tokens (
    id         text COLLATE "C" PRIMARY KEY,
    expires_at bigint NOT NULL
);

CREATE INDEX used_tokens_by_expiry ON used_tokens (expires_at);

-- secrets holds the values every node shares (parley.SecretStore): the
-- first value stored under a name is kept for good.
CREATE TABLE secrets (
    name        text COLLATE "C" PRIMARY KEY,
    value       bytea NOT NULL,
    create_time bigint NOT NULL
);
