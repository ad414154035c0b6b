-- ListMessages pages on a key that never changes. first_seen_at moves earlier when an event
-- with an earlier time arrives late (clocks of services differ), and a message already listed
-- on one page then came again on a later one. listed_at is first_seen_at as the message's row
-- was first written, and no later write changes it.
ALTER TABLE messages ADD COLUMN listed_at timestamptz;
UPDATE messages SET listed_at = first_seen_at;
ALTER TABLE messages ALTER COLUMN listed_at SET NOT NULL;
DROP INDEX messages_first_seen_idx;
CREATE INDEX messages_listed_idx ON messages (listed_at DESC, id DESC);
