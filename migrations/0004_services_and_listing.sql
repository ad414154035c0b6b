-- Every (service, instance) that ever logged, with when it was first and last seen (event
-- time). Upserted once per ingest batch per distinct pair; ListServices and, later, the
-- silence alert read it.
CREATE TABLE services (
    service        text        NOT NULL,
    instance       text        NOT NULL DEFAULT '',
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    PRIMARY KEY (service, instance)
);

-- ListMessages pages newest first by (first_seen_at, id).
CREATE INDEX messages_first_seen_idx ON messages (first_seen_at DESC, id DESC);
