-- When the server last stored an event of each (service, instance), by the server's clock.
-- last_seen_at is the latest event time, by the service's own clock: a service whose clock is
-- ten minutes slow looked silent for ten minutes all the time (false silence alerts), one
-- whose clock is fast never looked silent until its clock's lead had passed. The silence rule
-- reads this column. NULL in rows no server of this version has written to yet; there the
-- rule falls back to last_seen_at.
ALTER TABLE services ADD COLUMN last_logged_at timestamptz;
