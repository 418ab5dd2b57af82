DROP TABLE calendar_feeds;
ALTER TABLE meetings DROP COLUMN sequence;
