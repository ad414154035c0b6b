-- Per send bucket, how many of its messages reached at least one handler (a service other
-- than the sender). The graph's and the stuck alert's "not handled by anyone" is
-- messages − handled: counts per handler cannot give it (two competing consumers that took
-- 50 each look like two receivers that each missed half).
ALTER TABLE send_minutes ADD COLUMN handled bigint NOT NULL DEFAULT 0;
ALTER TABLE send_hours ADD COLUMN handled bigint NOT NULL DEFAULT 0;

-- Backfill from the hop state, which holds every folded message (buckets are Unix-epoch
-- aligned, as the rollup job writes them).
CREATE TEMPORARY TABLE utracker_handled_minutes ON COMMIT DROP AS
SELECT date_bin('1 minute', s.sent_at, timestamptz '1970-01-01 00:00:00+00') AS minute,
       s.sender, s.destination, count(*) AS handled
  FROM hop_sends s
 WHERE EXISTS (SELECT 1 FROM hop_handlers h
                WHERE h.message_id = s.message_id AND h.handler <> s.sender)
 GROUP BY 1, 2, 3;

UPDATE send_minutes t SET handled = u.handled
  FROM utracker_handled_minutes u
 WHERE t.minute = u.minute AND t.sender = u.sender AND t.destination = u.destination;

UPDATE send_hours t SET handled = u.handled
  FROM (SELECT date_bin('1 hour', minute, timestamptz '1970-01-01 00:00:00+00') AS hour,
               sender, destination, sum(handled)::bigint AS handled
          FROM utracker_handled_minutes GROUP BY 1, 2, 3) u
 WHERE t.hour = u.hour AND t.sender = u.sender AND t.destination = u.destination;
