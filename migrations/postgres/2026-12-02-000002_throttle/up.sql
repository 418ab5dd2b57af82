-- Failed sign-in attempts per account and per client address, in fixed windows, shared by every
-- instance of the service (a limit counted per process would multiply with the instances).
CREATE TABLE throttle_windows (
    key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL
);
CREATE INDEX throttle_windows_started ON throttle_windows (started_at);
