-- messages.last_event_at changed with nearly every event, turning the per-batch messages
-- upsert into an UPDATE of most rows. Flow queries compute it from the message's events.
ALTER TABLE messages DROP COLUMN last_event_at;
