DROP INDEX requests_parent;
ALTER TABLE requests DROP COLUMN parent_recommendation;
ALTER TABLE requests DROP COLUMN parent_id;
