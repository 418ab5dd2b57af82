DROP INDEX requests_month_missing;
DROP INDEX requests_figures_delivered;
DROP INDEX requests_figures_discussed;
DROP INDEX requests_figures_submitted;
CREATE INDEX requests_figures ON requests (center_code, submitted_at, staff_code, discussed_at, delivered_at, topic, urgency, requester_id);
ALTER TABLE requests DROP COLUMN delivered_days;
ALTER TABLE requests DROP COLUMN discussed_days;
ALTER TABLE requests DROP COLUMN site_code;
ALTER TABLE requests DROP COLUMN submitted_month;
