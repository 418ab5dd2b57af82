-- The request figures read in the order they group. Each submitted request keeps what its
-- figures are counted by, as it was at submission: the month of its center's calendar
-- (`YYYY-MM`) and its requester's site; and, once reached, the whole days from submission to
-- its first discussion and to its first delivery. Three indexes hold them in the order of the
-- figures' groups (month, staff, then topic, urgency and site, or the days), so that a year is
-- read as ranges already grouped: no sort, no lookup of the requester, no date arithmetic per
-- request. The submission time closes the index, for the period's first and last days.
ALTER TABLE requests ADD COLUMN submitted_month TEXT;
ALTER TABLE requests ADD COLUMN site_code TEXT;
ALTER TABLE requests ADD COLUMN discussed_days BIGINT;
ALTER TABLE requests ADD COLUMN delivered_days BIGINT;
UPDATE requests SET
    site_code = (SELECT u.site_code FROM users u WHERE u.id = requests.requester_id),
    discussed_days = CAST(julianday(discussed_at) - julianday(submitted_at) AS INTEGER),
    delivered_days = CAST(julianday(delivered_at) - julianday(submitted_at) AS INTEGER)
WHERE submitted_at IS NOT NULL;
DROP INDEX requests_figures;
CREATE INDEX requests_figures_submitted ON requests (center_code, submitted_month, staff_code, topic, urgency, site_code, submitted_at);
CREATE INDEX requests_figures_discussed ON requests (center_code, submitted_month, staff_code, discussed_days, site_code, submitted_at);
CREATE INDEX requests_figures_delivered ON requests (center_code, submitted_month, staff_code, delivered_days, site_code, submitted_at);
-- The months of the requests submitted before this migration need the center's time zone:
-- the service fills them when it starts (`db::kpis::fill_months`). This index holds those
-- still to fill, and is empty once they are.
CREATE INDEX requests_month_missing ON requests (id) WHERE submitted_at IS NOT NULL AND submitted_month IS NULL;
