-- Alerts (README "Alerts"): written by the evaluator (one replica at a time, under an
-- advisory lock), read by every replica's Alerts service. One open alert per (rule, subject);
-- every insert and update takes a new version, which WatchAlerts follows.
CREATE SEQUENCE alert_versions;

CREATE TABLE alerts (
    id            bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule          text             NOT NULL CHECK (rule IN ('stuck', 'failure_ratio', 'silence')),
    subject       text             NOT NULL,
    service       text             NOT NULL,
    destination   text             NOT NULL DEFAULT '',
    opened_at     timestamptz      NOT NULL,
    last_seen_at  timestamptz      NOT NULL,
    resolved_at   timestamptz,
    value         double precision NOT NULL,
    peak          double precision NOT NULL,
    threshold     double precision NOT NULL,
    evaluations   bigint           NOT NULL DEFAULT 1,
    summary       text             NOT NULL,
    version       bigint           NOT NULL DEFAULT nextval('alert_versions')
);
CREATE UNIQUE INDEX alerts_open_idx ON alerts (rule, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_version_idx ON alerts (version);
CREATE INDEX alerts_opened_idx ON alerts (opened_at DESC, id DESC);

-- The deadlines the evaluator works with (its flags), kept here so the message_states view
-- can call a message STUCK by the same rule: scope '' is the default, 'destination' and
-- 'service' (a receiving service) override it.
CREATE TABLE stuck_deadlines (
    scope  text     NOT NULL CHECK (scope IN ('', 'destination', 'service')),
    name   text     NOT NULL,
    after  interval NOT NULL,
    PRIMARY KEY (scope, name)
);
INSERT INTO stuck_deadlines VALUES ('', '', interval '1 minute');

-- message_states as before, plus STUCK: an IN_FLIGHT message whose wait (since its
-- earliest SENT, or its latest REPLAYED if later) exceeds the deadline of its destination
-- (that of its earliest SENT) — the server's rule, with the deadlines it recorded above.
-- Also a new column at the end: that destination.
CREATE OR REPLACE VIEW message_states AS
WITH per_message AS (
    SELECT m.id AS message_id, m.root_id, m.origin_service AS author, m.first_seen_at,
           max(e.occurred_at) FILTER (WHERE e.kind = 'replayed') AS replayed_at,
           min(e.occurred_at) FILTER (WHERE e.kind = 'sent') AS sent_at,
           coalesce(min(e.occurred_at) FILTER (WHERE e.kind = 'received'),
                    min(e.occurred_at) FILTER (WHERE e.service <> m.origin_service))
             AS received_at,
           min(e.occurred_at) FILTER (WHERE e.kind = 'processed') AS processed_at,
           max(e.occurred_at) AS last_event_at,
           (array_agg(coalesce(e.destination, '') ORDER BY e.occurred_at, coalesce(e.destination, ''))
              FILTER (WHERE e.kind = 'sent'))[1] AS destination
    FROM messages m JOIN events e ON e.message_id = m.id
    GROUP BY m.id, m.root_id, m.origin_service, m.first_seen_at
), current_round AS (
    SELECT p.*,
           max(e.occurred_at) FILTER (WHERE e.kind = 'processed') AS last_processed,
           max(e.occurred_at) FILTER (WHERE e.kind = 'failed') AS last_failed,
           bool_or(e.kind = 'received' OR (e.kind IN ('sent', 'note') AND e.service <> p.author))
             AS handled
    FROM per_message p
    JOIN events e ON e.message_id = p.message_id
    WHERE p.replayed_at IS NULL OR e.occurred_at >= p.replayed_at
    GROUP BY p.message_id, p.root_id, p.author, p.first_seen_at, p.replayed_at, p.sent_at,
             p.received_at, p.processed_at, p.last_event_at, p.destination
)
SELECT message_id, root_id, author, first_seen_at, sent_at, received_at, processed_at,
       last_event_at, received_at - sent_at AS send_to_receive,
       processed_at - received_at AS receive_to_process,
       CASE
         WHEN last_processed IS NOT NULL AND (last_failed IS NULL OR last_failed <= last_processed)
           THEN 'PROCESSED'
         WHEN last_failed IS NOT NULL THEN 'FAILED'
         WHEN handled THEN 'RECEIVED'
         WHEN sent_at IS NOT NULL AND greatest(sent_at, replayed_at) < now() - coalesce(
                (SELECT after FROM stuck_deadlines WHERE scope = 'destination' AND name = destination),
                (SELECT after FROM stuck_deadlines WHERE scope = ''), interval '1 minute')
           THEN 'STUCK'
         ELSE 'IN_FLIGHT'
       END AS state,
       destination
FROM current_round;
