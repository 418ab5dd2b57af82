-- The statements of GET /api/v1/requests/{id} for its requester, in order, as captured from the
-- running service with log_statement = 'all' (bench/capture-sql): the caller with their roles,
-- the request, the audit row (committed on its own), then the timeline, the attachments and the
-- proposed / scheduled meetings when the request has them (the requester is the caller).
-- One pool check-out, no probe and no transaction (bench/RESULTS.md).
-- Variables: -D ids=<rows of bench_pgbench_ids> -D run=<tag> -D seq=0 -D one=1.
-- Only the first statement is not the service's: it picks a random request of the read
-- scenario's requesters (bench_pgbench_ids, written by bench-seed).
\set n random(1, :ids)
SELECT request_id, requester_id, proposed_meeting_id, meeting_id, (proposed_meeting_id <> '')::int AS has_proposed, (meeting_id <> '')::int AS has_meeting FROM bench_pgbench_ids WHERE n = :n \gset
SELECT "users"."id", "users"."email", "users"."password_hash", "users"."full_name", "users"."rpps", "users"."specialty", "users"."site_code", "users"."phone", "users"."language", "users"."status", "users"."created_at", "users"."email_verified_at", "users"."totp_secret", "users"."totp_enabled_at", "users"."totp_last_step", "user_roles"."role" FROM ("users" LEFT OUTER JOIN "user_roles" ON ("user_roles"."user_id" = "users"."id")) WHERE ("users"."id" = :requester_id) ORDER BY "user_roles"."role";
SELECT "requests"."id", "requests"."reference", "requests"."center_code", "requests"."requester_id", "requests"."status", "requests"."version", "requests"."topic", "requests"."urgency", "requests"."form", "requests"."staff_code", "requests"."proposed_meeting_id", "requests"."meeting_id", "requests"."rejection_reason", "requests"."created_at", "requests"."updated_at", "requests"."submitted_at" FROM "requests" WHERE ("requests"."id" = :request_id) LIMIT :one;
\set seq :seq + 1
INSERT INTO "audit_log" ("id", "at", "actor_id", "action", "entity_type", "entity_id", "outcome", "client_addr", "correlation_id") VALUES ('pgbench-' || :run::text || '-' || :client_id::text || '-' || :seq::text, LOCALTIMESTAMP, :requester_id, 'request.read', 'request', :request_id, 'allowed', '127.0.0.1', '00000000-0000-4000-8000-000000000000');
SELECT "request_events"."id", "request_events"."request_id", "request_events"."at", "request_events"."from_status", "request_events"."to_status", "request_events"."actor_id", "request_events"."note" FROM "request_events" WHERE ("request_events"."request_id" = :request_id) ORDER BY "request_events"."at", "request_events"."id";
SELECT "attachments"."id", "attachments"."request_id", "attachments"."uploaded_by", "attachments"."filename", "attachments"."content_type", "attachments"."size", "attachments"."sha256", "attachments"."created_at" FROM "attachments" WHERE ("attachments"."request_id" = :request_id) ORDER BY "attachments"."created_at", "attachments"."id";
\if :has_proposed
SELECT "meetings"."id", "meetings"."staff_code", "meetings"."starts_at", "meetings"."duration_minutes", "meetings"."status", "meetings"."capacity", "meetings"."video_url", "meetings"."occurrence", "meetings"."attendance", "meetings"."quorum_met", "meetings"."held_at", "meetings"."created_at" FROM "meetings" WHERE ("meetings"."id" = :proposed_meeting_id) LIMIT :one;
\endif
\if :has_meeting
SELECT "meetings"."id", "meetings"."staff_code", "meetings"."starts_at", "meetings"."duration_minutes", "meetings"."status", "meetings"."capacity", "meetings"."video_url", "meetings"."occurrence", "meetings"."attendance", "meetings"."quorum_met", "meetings"."held_at", "meetings"."created_at" FROM "meetings" WHERE ("meetings"."id" = :meeting_id) LIMIT :one;
\endif
