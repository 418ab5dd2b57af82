-- The sessions of the web screens: the cookie holds a random id, the database only its SHA-256,
-- so a session ends on the server (logout, password reset, disabled account, changed roles).
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- The password was given and the second factor is awaited (`/login/mfa`).
    awaiting_second_factor BOOLEAN NOT NULL,
    -- Opened with a second factor (TOTP or recovery code).
    second_factor BOOLEAN NOT NULL,
    -- Wrong codes given at `/login/mfa`; five end the session.
    failures BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);
