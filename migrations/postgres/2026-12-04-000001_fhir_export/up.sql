-- The FHIR export reads the requests changed since an instant, and the opinions delivered since.
CREATE INDEX requests_updated ON requests (updated_at);
CREATE INDEX opinions_delivered ON opinions (delivered_at);
