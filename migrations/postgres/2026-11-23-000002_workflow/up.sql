-- The opinion-request workflow: meetings of the staffs, requests and their timeline, messages,
-- attachments, opinions, reference counters and idempotency keys.

CREATE TABLE staff_experts (
    staff_code TEXT NOT NULL REFERENCES staffs (code),
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_code, user_id)
);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    staff_code TEXT NOT NULL REFERENCES staffs (code),
    starts_at TIMESTAMP NOT NULL,
    duration_minutes BIGINT NOT NULL,
    status TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    video_url TEXT,
    -- The rule's occurrence this meeting comes from (kept when it is moved); NULL if extraordinary.
    occurrence TEXT,
    attendance TEXT,
    quorum_met BOOLEAN,
    held_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (staff_code, occurrence)
);
CREATE INDEX meetings_staff_start ON meetings (staff_code, starts_at);

CREATE TABLE reference_counters (
    center_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (center_code, year)
);

CREATE TABLE requests (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    center_code TEXT NOT NULL REFERENCES centers (code),
    requester_id TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    topic TEXT,
    urgency TEXT NOT NULL,
    -- The patient and the clinical content, as JSON.
    form TEXT NOT NULL,
    staff_code TEXT REFERENCES staffs (code),
    proposed_meeting_id TEXT REFERENCES meetings (id),
    meeting_id TEXT REFERENCES meetings (id),
    rejection_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP
);
CREATE INDEX requests_requester ON requests (requester_id, created_at, id);
CREATE INDEX requests_center ON requests (center_code, created_at, id);
CREATE INDEX requests_status ON requests (status, created_at);
CREATE INDEX requests_meeting ON requests (meeting_id, status);
CREATE INDEX requests_proposed ON requests (proposed_meeting_id, status);

CREATE TABLE request_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    at TIMESTAMP NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT REFERENCES users (id),
    note TEXT
);
CREATE INDEX request_events_request ON request_events (request_id, at, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    author_role TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_request ON messages (request_id, created_at, id);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id);

CREATE TABLE opinions (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    content TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    validated_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    UNIQUE (request_id, version)
);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key, endpoint)
);
