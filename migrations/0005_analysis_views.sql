-- Views for people analysing in psql (see README "SQL for analysis"). They compute from
-- events at query time: fine for one flow, a service or an hour; use time ranges on big data.

-- One row per event, with its message's author and the message's lineage.
CREATE VIEW message_flow AS
SELECT e.root_id, e.message_id, e.parent_id, e.depth, m.origin_service AS author,
       e.service, e.instance, e.kind, e.name, e.destination, e.error, e.attributes,
       e.occurred_at, e.event_id
FROM events e
JOIN messages m ON m.id = e.message_id;

-- One row per message: hop times and its state, by the rules of the server's
-- DeriveState (README "Queries"): only events since the latest REPLAYED count; PROCESSED
-- unless a later FAILED; FAILED; RECEIVED or any event by another service than the author;
-- else IN_FLIGHT.
CREATE VIEW message_states AS
WITH per_message AS (
    SELECT m.id AS message_id, m.root_id, m.origin_service AS author, m.first_seen_at,
           max(e.occurred_at) FILTER (WHERE e.kind = 'replayed') AS replayed_at,
           min(e.occurred_at) FILTER (WHERE e.kind = 'sent') AS sent_at,
           coalesce(min(e.occurred_at) FILTER (WHERE e.kind = 'received'),
                    min(e.occurred_at) FILTER (WHERE e.service <> m.origin_service))
             AS received_at,
           min(e.occurred_at) FILTER (WHERE e.kind = 'processed') AS processed_at,
           max(e.occurred_at) AS last_event_at
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
             p.received_at, p.processed_at, p.last_event_at
)
SELECT message_id, root_id, author, first_seen_at, sent_at, received_at, processed_at,
       last_event_at, received_at - sent_at AS send_to_receive,
       processed_at - received_at AS receive_to_process,
       CASE
         WHEN last_processed IS NOT NULL AND (last_failed IS NULL OR last_failed <= last_processed)
           THEN 'PROCESSED'
         WHEN last_failed IS NOT NULL THEN 'FAILED'
         WHEN handled THEN 'RECEIVED'
         ELSE 'IN_FLIGHT'
       END AS state
FROM current_round;

-- Sender -> handler per destination: how many messages, how many failed, latency quantiles
-- (first handling event minus the SENT).
CREATE VIEW service_edges AS
WITH hops AS (
    SELECT s.service AS sender, coalesce(s.destination, '') AS destination,
           h.service AS handler, s.message_id,
           min(h.occurred_at) - min(s.occurred_at) AS latency,
           bool_or(h.kind = 'failed') AS failed
    FROM events s
    JOIN events h ON h.message_id = s.message_id AND h.service <> s.service
                 AND h.kind IN ('received', 'processed', 'failed', 'note')
    WHERE s.kind = 'sent'
    GROUP BY s.service, s.destination, h.service, s.message_id
)
SELECT sender, handler, destination, count(*) AS messages,
       count(*) FILTER (WHERE failed) AS failures,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency) AS p95,
       max(latency) AS max_latency
FROM hops
GROUP BY sender, handler, destination;
