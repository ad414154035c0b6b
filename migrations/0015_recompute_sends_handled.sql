-- Recomputes `handled` of every send bucket (migration 0012) from the hop state, which holds
-- every folded message. Not run here: for psql, after a rolling upgrade during which a server
-- of an earlier version folded (it does not keep `handled`):
--   SELECT utracker_recompute_sends_handled();
-- It takes the fold's lock order (hop state, then buckets): it waits for a fold in progress
-- and holds the next one off until the recount is committed (the fold then adds its change).
CREATE OR REPLACE FUNCTION utracker_recompute_sends_handled() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE hop_sends, hop_handlers IN SHARE MODE;
  UPDATE send_minutes SET handled = 0 WHERE handled <> 0;
  -- Buckets are Unix-epoch aligned, as the rollup job writes them.
  UPDATE send_minutes t SET handled = u.handled
    FROM (SELECT date_bin('1 minute', s.sent_at, timestamptz '1970-01-01 00:00:00+00')
                   AS minute, s.sender, s.destination, count(*) AS handled
            FROM hop_sends s
           WHERE EXISTS (SELECT 1 FROM hop_handlers h
                          WHERE h.message_id = s.message_id AND h.handler <> s.sender)
           GROUP BY 1, 2, 3) u
   WHERE t.minute = u.minute AND t.sender = u.sender AND t.destination = u.destination;
  -- An hour's count is its minutes' (hour rows are the minutes' deltas, coarsened).
  UPDATE send_hours SET handled = 0 WHERE handled <> 0;
  UPDATE send_hours t SET handled = u.handled
    FROM (SELECT date_bin('1 hour', minute, timestamptz '1970-01-01 00:00:00+00') AS hour,
                 sender, destination, sum(handled)::bigint AS handled
            FROM send_minutes GROUP BY 1, 2, 3) u
   WHERE t.hour = u.hour AND t.sender = u.sender AND t.destination = u.destination;
END
$$;
