DROP INDEX request_events_status_at;
DROP INDEX requests_submitted;
