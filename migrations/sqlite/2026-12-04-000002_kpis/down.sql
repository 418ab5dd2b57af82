DROP INDEX request_events_status_at;
DROP INDEX requests_figures;
ALTER TABLE requests DROP COLUMN delivered_at;
ALTER TABLE requests DROP COLUMN discussed_at;
