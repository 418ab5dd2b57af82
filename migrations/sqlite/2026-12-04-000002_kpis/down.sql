DROP INDEX request_events_figures;
ALTER TABLE request_events DROP COLUMN staff_code;
ALTER TABLE request_events DROP COLUMN center_code;
DROP INDEX requests_figures;
ALTER TABLE requests DROP COLUMN delivered_at;
ALTER TABLE requests DROP COLUMN discussed_at;
