-- Events may declare their message's author (Event.origin_service, from the envelope).
-- A declared origin outranks the inferred ones (earliest SENT, else earliest event).
ALTER TABLE messages ADD COLUMN origin_declared boolean NOT NULL DEFAULT false;
