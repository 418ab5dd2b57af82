-- The coordinators' list by status, newest first, read in the index's order (id breaks ties
-- between requests created in the same microsecond), so a page costs its 50 rows whatever the
-- table's size.
DROP INDEX requests_status;
CREATE INDEX requests_status ON requests (status, created_at, id);
