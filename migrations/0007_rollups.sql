-- Rollups for the service graph (and the alert scan), folded incrementally by one replica
-- at a time (the rollup job, README "Rollups"). Ingest writes every newly stored event into
-- rollup_inbox in the transaction that stores it; the rollup job takes inbox rows in id
-- order and deletes them in the transaction that folds them — each event is folded exactly
-- once, and a re-sent event (a duplicate, not stored) never reaches the inbox.
CREATE TABLE rollup_inbox (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   uuid        NOT NULL,
    service      text        NOT NULL,
    kind         event_kind  NOT NULL,
    occurred_at  timestamptz NOT NULL,
    destination  text
);

-- Hop state, kept so a late event can move a hop between buckets exactly.
-- A message's send: its earliest SENT (ties: smaller service, then destination, bytewise).
CREATE TABLE hop_sends (
    message_id   uuid        PRIMARY KEY,
    sender       text        NOT NULL,
    destination  text        NOT NULL,
    sent_at      timestamptz NOT NULL
);
CREATE INDEX hop_sends_sent_at_idx ON hop_sends (sent_at);

-- Per (message, service that handled it): its first RECEIVED/PROCESSED/FAILED/NOTE, and
-- whether it failed. Rows of the sender's own events are kept and left out of the edges.
CREATE TABLE hop_handlers (
    message_id   uuid        NOT NULL,
    handler      text        NOT NULL,
    handled_at   timestamptz NOT NULL,
    failed       boolean     NOT NULL,
    PRIMARY KEY (message_id, handler)
);

-- Per minute (of the event) and service: events logged, and of those SENT, PROCESSED and
-- FAILED events.
CREATE TABLE service_minutes (
    minute     timestamptz NOT NULL,
    service    text        NOT NULL,
    events     bigint      NOT NULL,
    sent       bigint      NOT NULL,
    processed  bigint      NOT NULL,
    failed     bigint      NOT NULL,
    PRIMARY KEY (minute, service)
);

-- Per minute of the send, sender and destination: messages sent.
CREATE TABLE send_minutes (
    minute       timestamptz NOT NULL,
    sender       text        NOT NULL,
    destination  text        NOT NULL,
    messages     bigint      NOT NULL,
    PRIMARY KEY (minute, sender, destination)
);

-- Per minute of the send, sender, destination and handler: hops (messages the handler
-- handled), how many it failed, the largest latency and a sparse latency histogram (bins of
-- the server's LatencyHistogram: 0 for <= 0 µs, else 1 + 8·e + s for [2^e·(1+s/8), …) µs).
CREATE TABLE edge_minutes (
    minute          timestamptz NOT NULL,
    sender          text        NOT NULL,
    destination     text        NOT NULL,
    handler         text        NOT NULL,
    messages        bigint      NOT NULL,
    failures        bigint      NOT NULL,
    max_latency_us  bigint      NOT NULL,
    latency_bins    integer[]   NOT NULL,
    latency_counts  bigint[]    NOT NULL,
    PRIMARY KEY (minute, sender, destination, handler)
);

-- The same per hour: long graph windows read whole hours here, and minutes only at their
-- ends.
CREATE TABLE service_hours (
    hour       timestamptz NOT NULL,
    service    text        NOT NULL,
    events     bigint      NOT NULL,
    sent       bigint      NOT NULL,
    processed  bigint      NOT NULL,
    failed     bigint      NOT NULL,
    PRIMARY KEY (hour, service)
);
CREATE TABLE send_hours (
    hour         timestamptz NOT NULL,
    sender       text        NOT NULL,
    destination  text        NOT NULL,
    messages     bigint      NOT NULL,
    PRIMARY KEY (hour, sender, destination)
);
CREATE TABLE edge_hours (
    hour            timestamptz NOT NULL,
    sender          text        NOT NULL,
    destination     text        NOT NULL,
    handler         text        NOT NULL,
    messages        bigint      NOT NULL,
    failures        bigint      NOT NULL,
    max_latency_us  bigint      NOT NULL,
    latency_bins    integer[]   NOT NULL,
    latency_counts  bigint[]    NOT NULL,
    PRIMARY KEY (hour, sender, destination, handler)
);

-- Events stored before this migration are folded like new ones.
INSERT INTO rollup_inbox (message_id, service, kind, occurred_at, destination)
SELECT message_id, service, kind, occurred_at, destination FROM events ORDER BY occurred_at;
