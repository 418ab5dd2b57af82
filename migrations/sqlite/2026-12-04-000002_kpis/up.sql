-- The activity figures. Each request keeps the two milestones its delays run to (the first
-- discussion in a meeting, the first delivery of its opinion), set by the workflow and filled
-- here from the timeline and the opinions; one index covers the figures of a center's period
-- (submission time, staff, both milestones, topic, urgency, requester: no row is read). Each
-- event of the timeline keeps the center and the staff of its request at that moment, so that
-- the events the figures count (information requests, rejections, carry-overs) are read from
-- one partial index, with no lookup of their requests.
ALTER TABLE requests ADD COLUMN discussed_at TIMESTAMP;
ALTER TABLE requests ADD COLUMN delivered_at TIMESTAMP;
UPDATE requests SET
    discussed_at = (SELECT MIN(e.at) FROM request_events e
                    WHERE e.request_id = requests.id AND e.to_status = 'discussed'),
    delivered_at = (SELECT MIN(o.delivered_at) FROM opinions o WHERE o.request_id = requests.id);
CREATE INDEX requests_figures ON requests (center_code, submitted_at, staff_code, discussed_at, delivered_at, topic, urgency, requester_id);
ALTER TABLE request_events ADD COLUMN center_code TEXT NOT NULL DEFAULT '';
ALTER TABLE request_events ADD COLUMN staff_code TEXT;
UPDATE request_events SET
    center_code = (SELECT r.center_code FROM requests r WHERE r.id = request_events.request_id),
    staff_code = (SELECT r.staff_code FROM requests r WHERE r.id = request_events.request_id);
-- The condition is the one of `db::kpis::COUNTED_EVENTS`, word for word (a test checks it): the
-- planners use a partial index only for a query that states its condition.
CREATE INDEX request_events_figures ON request_events (center_code, at, to_status, staff_code)
    WHERE (to_status IN ('needs_info', 'rejected') OR (to_status = 'scheduled' AND from_status = 'scheduled' AND note = 'carried over'));
