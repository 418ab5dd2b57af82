-- Follow-up requests: a draft made from a delivered opinion keeps the request it follows up
-- and the index of the recommendation it was made for (none: the opinion as a whole). One
-- follow-up per recommendation: asking again answers the first one.
ALTER TABLE requests ADD COLUMN parent_id TEXT REFERENCES requests (id);
ALTER TABLE requests ADD COLUMN parent_recommendation BIGINT;
CREATE INDEX requests_parent ON requests (parent_id, parent_recommendation) WHERE parent_id IS NOT NULL;
