-- A single-use link (verification, password reset) is never stored in the clear: the body holds
-- a placeholder and the link is sealed with the data key, opened by the worker at send time,
-- and dropped once the message is sent or dead.
ALTER TABLE outbox ADD COLUMN sealed_link TEXT;
