DROP INDEX requests_status;
CREATE INDEX requests_status ON requests (status, created_at);
