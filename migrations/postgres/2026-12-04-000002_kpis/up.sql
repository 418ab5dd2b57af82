-- The activity figures. Each request keeps the two milestones its delays run to (the first
-- discussion in a meeting, the first delivery of its opinion), set by the workflow and filled
-- here from the timeline and the opinions; one index covers the figures of a center's period
-- (submission time, staff, both milestones, topic, urgency, requester: no row is read), and the
-- timeline's events are found by status, previous status and time.
ALTER TABLE requests ADD COLUMN discussed_at TIMESTAMP;
ALTER TABLE requests ADD COLUMN delivered_at TIMESTAMP;
UPDATE requests SET
    discussed_at = (SELECT MIN(e.at) FROM request_events e
                    WHERE e.request_id = requests.id AND e.to_status = 'discussed'),
    delivered_at = (SELECT MIN(o.delivered_at) FROM opinions o WHERE o.request_id = requests.id);
CREATE INDEX requests_figures ON requests (center_code, submitted_at, staff_code, discussed_at, delivered_at, topic, urgency, requester_id);
CREATE INDEX request_events_status_at ON request_events (to_status, from_status, at);
