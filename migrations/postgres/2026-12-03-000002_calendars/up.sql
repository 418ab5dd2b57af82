-- Calendar feeds (RFC 5545): a meeting's events keep their UID and carry a SEQUENCE that grows
-- each time the meeting moves or is cancelled, so calendars replace the event they hold.
ALTER TABLE meetings ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
-- A personal feed's URL holds a random token; the database only its SHA-256. Asking again
-- replaces the row, so the old URL stops working.
CREATE TABLE calendar_feeds (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
