DROP INDEX opinions_delivered;
DROP INDEX requests_updated;
