-- A build of 2026-11-28 shipped an earlier 0011: listed_at NOT NULL, messages_first_seen_idx
-- dropped, a plain (listed_at, id) index named messages_listed_idx. A database migrated by it
-- never runs the 0011 of today (same version), so it is brought to the same schema here: a
-- server of the previous version must be able to store messages without listed_at; psql
-- queries on first_seen_at need their index; ListMessages needs the COALESCE index. On any
-- other database every statement here changes nothing.
ALTER TABLE messages ALTER COLUMN listed_at DROP NOT NULL;
DROP INDEX IF EXISTS messages_listed_idx;
CREATE INDEX IF NOT EXISTS messages_first_seen_idx ON messages (first_seen_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS messages_listing_idx
    ON messages ((COALESCE(listed_at, first_seen_at)) DESC, id DESC);
