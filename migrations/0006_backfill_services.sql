-- services is filled at ingest since migration 4; take in what was stored before it.
INSERT INTO services AS s (service, instance, first_seen_at, last_seen_at)
SELECT service, coalesce(instance, ''), min(occurred_at), max(occurred_at)
FROM events GROUP BY service, coalesce(instance, '')
ON CONFLICT (service, instance) DO UPDATE
SET first_seen_at = LEAST(s.first_seen_at, EXCLUDED.first_seen_at),
    last_seen_at = GREATEST(s.last_seen_at, EXCLUDED.last_seen_at);
