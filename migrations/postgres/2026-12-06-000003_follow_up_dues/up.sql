-- The recommendations of delivered opinions that carry a due date: what the follow-up lists
-- and the reminders read (an opinion's content is JSON, which neither database indexes).
-- Written with each delivery; the follow-up made for one, and when it was submitted, are kept
-- on its row, so that "done", "due" and "overdue" are conditions on the row. Each reminder
-- queued (seven days before, on the day) is marked on it in the transaction that queues its
-- e-mail: it goes once.
CREATE TABLE follow_up_dues (
    request_id TEXT NOT NULL REFERENCES requests (id),
    recommendation BIGINT NOT NULL,
    center_code TEXT NOT NULL,
    requester_id TEXT NOT NULL REFERENCES users (id),
    staff_code TEXT,
    due_on DATE NOT NULL,
    follow_up_id TEXT REFERENCES requests (id),
    follow_up_submitted_at TIMESTAMP,
    -- Submitted on or before the due date (in the center's calendar): the figures' share.
    follow_up_in_time BOOLEAN,
    reminded_before_at TIMESTAMP,
    reminded_on_at TIMESTAMP,
    PRIMARY KEY (request_id, recommendation)
);
CREATE INDEX follow_up_dues_center ON follow_up_dues (center_code, due_on);
CREATE INDEX follow_up_dues_requester ON follow_up_dues (requester_id, due_on);
-- Those that may still need a reminder: empty of the rest, read by the worker's every pass.
CREATE INDEX follow_up_dues_reminders ON follow_up_dues (due_on)
    WHERE follow_up_submitted_at IS NULL AND reminded_on_at IS NULL;
