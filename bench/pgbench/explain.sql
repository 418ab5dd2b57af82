-- The plans of the read, list and agenda queries (as the service sends them, captured with
-- bench/capture-sql), on a request of the read scenario and a meeting of the agenda scenario.
-- psql -v request_id=… -v meeting_id=… -v requester_id=… -f bench/pgbench/explain.sql
\pset pager off
\echo === GET /requests/{id}: the request
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT "requests"."id", "requests"."reference", "requests"."center_code", "requests"."requester_id", "requests"."status", "requests"."version", "requests"."topic", "requests"."urgency", "requests"."form", "requests"."staff_code", "requests"."proposed_meeting_id", "requests"."meeting_id", "requests"."rejection_reason", "requests"."created_at", "requests"."updated_at", "requests"."submitted_at" FROM "requests" WHERE ("requests"."id" = :'request_id') LIMIT 1;
\echo === GET /requests/{id}: its timeline
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT "request_events"."id", "request_events"."request_id", "request_events"."at", "request_events"."from_status", "request_events"."to_status", "request_events"."actor_id", "request_events"."note" FROM "request_events" WHERE ("request_events"."request_id" = :'request_id') ORDER BY "request_events"."at", "request_events"."id";
\echo === GET /requests?status=submitted&limit=50 (coordinator): the page
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT "requests"."id", "requests"."reference", "requests"."requester_id", "requests"."status", "requests"."version", "requests"."topic", "requests"."urgency", "requests"."staff_code", "requests"."proposed_meeting_id", "requests"."meeting_id", "requests"."created_at", "requests"."submitted_at" FROM "requests" WHERE ("requests"."status" = 'submitted') ORDER BY "requests"."created_at" DESC, "requests"."id" DESC LIMIT 50;
\echo === GET /requests?status=submitted&limit=50 (coordinator): the names of its requesters
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT "users"."id", "users"."full_name" FROM "users" WHERE "users"."id" = ANY(ARRAY(SELECT requester_id FROM requests WHERE status = 'submitted' ORDER BY created_at DESC, id DESC LIMIT 50));
\echo === GET /meetings/{id}: the agenda
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT "requests"."id", "requests"."reference", "requests"."requester_id", "requests"."status", "requests"."version", "requests"."topic", "requests"."urgency", "requests"."staff_code", "requests"."proposed_meeting_id", "requests"."meeting_id", "requests"."created_at", "requests"."submitted_at" FROM "requests" WHERE ((("requests"."meeting_id" = :'meeting_id') AND ("requests"."status" = ANY('{scheduled,discussed,completed}'))) OR (("requests"."proposed_meeting_id" = :'meeting_id') AND ("requests"."status" = ANY('{submitted,needs_info}'))));
\echo === GET /meetings/{id}: places booked
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT COUNT(*) FROM "requests" WHERE (("requests"."meeting_id" = :'meeting_id') AND ("requests"."status" = 'scheduled'));
\echo === table sizes
SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) AS total FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 8;
