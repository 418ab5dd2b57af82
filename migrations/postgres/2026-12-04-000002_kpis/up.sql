-- The activity figures read a center's requests by submission time, and the timeline's
-- information requests, rejections and carry-overs by time.
CREATE INDEX requests_submitted ON requests (center_code, submitted_at);
CREATE INDEX request_events_status_at ON request_events (to_status, at);
