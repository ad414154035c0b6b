-- A build of 2026-11-28 shipped an earlier 0011: listed_at NOT NULL, messages_first_seen_idx
-- dropped, and messages_listed_idx on plain (listed_at, id). A database migrated by it never
-- runs today's 0011 (same version), so it is brought to the same schema here: a server of
-- the previous version must be able to store messages without listed_at, psql queries on
-- first_seen_at need their index, ListMessages needs the COALESCE index. On a database that
-- ran today's 0011 nothing here does any work (no index is dropped or built).
-- (Rule kept since: a migration that has landed is never edited; changes come as new ones.)
ALTER TABLE messages ALTER COLUMN listed_at DROP NOT NULL;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_indexes
              WHERE schemaname = current_schema() AND indexname = 'messages_listed_idx'
                AND indexdef NOT LIKE '%COALESCE%') THEN
    DROP INDEX messages_listed_idx;
  END IF;
END
$$;
CREATE INDEX IF NOT EXISTS messages_first_seen_idx ON messages (first_seen_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS messages_listed_idx
    ON messages ((COALESCE(listed_at, first_seen_at)) DESC, id DESC);
