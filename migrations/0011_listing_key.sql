-- ListMessages pages on a key that never changes. first_seen_at moves earlier when an event
-- with an earlier time arrives late (clocks of services differ), and a message already listed
-- on one page then came again on a later one. listed_at is first_seen_at as the message's row
-- was first written; no later write changes it (the upsert only fills it where it is NULL).
--
-- Nullable, without a default and without a backfill, on purpose: adding it is instant on a
-- big table, and a writer still running the previous binary during a rolling upgrade (which
-- does not know the column) keeps storing its messages. The listing key is
-- COALESCE(listed_at, first_seen_at): rows from before this migration, or from an old writer,
-- list by first_seen_at until the new server's upsert next touches them and freezes it.
-- messages_first_seen_idx stays: the documented psql queries filter on first_seen_at.
ALTER TABLE messages ADD COLUMN listed_at timestamptz;
CREATE INDEX messages_listed_idx ON messages ((COALESCE(listed_at, first_seen_at)) DESC, id DESC);
