-- micro-tracker schema, version 1: events, messages.
-- Applied by `utracker-server --migrate` (or `--migrate_only`) inside one transaction,
-- under an advisory lock, and recorded in schema_migrations.

CREATE TYPE event_kind AS ENUM ('sent', 'received', 'processed', 'failed', 'note', 'replayed');

-- One row per event. Partitioned by the client's occurred_at so old time ranges can be
-- dropped for retention; the default partition means no event is ever refused for lack of
-- a partition. The primary key must contain the partition key, hence (event_id, occurred_at):
-- clients resend an event with the same occurred_at, so a retry is a duplicate key.
CREATE TABLE events (
    event_id     uuid        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    message_id   uuid        NOT NULL,
    parent_id    uuid,
    root_id      uuid        NOT NULL,
    depth        integer     NOT NULL CHECK (depth >= 0),
    service      text        NOT NULL,
    instance     text,
    kind         event_kind  NOT NULL,
    name         text,
    destination  text,
    attributes   jsonb,
    error        text,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_message_id_idx ON events (message_id);
CREATE INDEX events_root_id_idx ON events (root_id);

-- One row per message, upserted once per message per ingest batch.
-- origin_*: the author is the service of the earliest SENT event, else of the earliest event.
CREATE TABLE messages (
    id              uuid        PRIMARY KEY,
    parent_id       uuid,
    root_id         uuid        NOT NULL,
    depth           integer     NOT NULL,
    origin_service  text        NOT NULL,
    origin_sent     boolean     NOT NULL,
    origin_at       timestamptz NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    last_event_at   timestamptz NOT NULL,
    content_type    text,
    content         bytea
);

CREATE INDEX messages_root_id_idx ON messages (root_id);
