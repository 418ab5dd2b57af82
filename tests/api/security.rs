//! The ASVS level 2 checklist, each point seen from outside: tokens, enumeration, mass
//! assignment, minimal answers, headers and CORS, input limits, uploads, the audit trail.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::api::{Answer, Call};
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, PASSWORD, rpps};
use crate::support::forms::registration;
use crate::support::library;

on_both_backends!(
    a_chain_rewritten_consistently_is_caught_by_its_checkpoints,
    every_protected_operation_needs_an_access_token,
    no_account_enumeration_by_answer_or_timing,
    fields_a_client_may_not_set_are_never_applied,
    answers_carry_nothing_they_should_not,
    security_headers_and_cors,
    inputs_are_bounded,
    uploads_are_recognised_sealed_and_downloaded_as_attachments,
    the_audit_trail_is_hash_chained_and_verifiable,
    refused_accesses_are_audited,
);

/// Every operation of the OpenAPI document, with its path parameters filled in.
fn operations() -> Vec<(String, String, bool)> {
    let document: Value = serde_json::from_str(&library::openapi_document()).unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let filled = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        uuid::Uuid::now_v7().to_string()
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            operations.push((method.to_uppercase(), filled, secured));
        }
    }
    operations
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Answer {
    let method: Method = method.parse().unwrap();
    if method == Method::GET {
        app.request(method, path, token).await
    } else {
        app.request_json(method, path, token, json!({})).await
    }
}

async fn every_protected_operation_needs_an_access_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("t@chu.fr", &rpps(401)).await;
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    // An MFA challenge token.
    let (_, _) = app
        .user_with_roles("c@necker.fr", &rpps(402), &["coordinator"])
        .await;
    let challenge = app.login("c@necker.fr", PASSWORD).await;
    let mfa_token = challenge.body["mfa_token"].as_str().unwrap().to_owned();
    let secured: Vec<_> = operations().into_iter().filter(|(_, _, s)| *s).collect();
    assert!(
        secured.len() > 30,
        "the document lists the protected operations"
    );
    for (method, path, _) in &secured {
        for (case, token) in [
            ("no token", None),
            ("refresh token", Some(refresh.as_str())),
            ("mfa token", Some(mfa_token.as_str())),
        ] {
            let answer = call(&app, method, path, token).await;
            assert_eq!(answer.status, 401, "{method} {path} with {case}");
            assert_eq!(
                answer.body["type"], "/problems/unauthorized",
                "{method} {path}"
            );
            assert!(
                answer.header("www-authenticate").is_none()
                    || answer
                        .header("www-authenticate")
                        .unwrap()
                        .starts_with("Bearer")
            );
        }
    }
}

/// Median duration of `f` over `n` runs.
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Timings that differ by less than noise: within a factor of two, or a few milliseconds.
fn assert_same_timing(case: &str, a: Duration, b: Duration) {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    assert!(
        high.as_secs_f64() <= 2.0 * low.as_secs_f64() || high - low < Duration::from_millis(4),
        "{case}: {a:?} vs {b:?}"
    );
}

async fn no_account_enumeration_by_answer_or_timing(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|settings| {
                settings.auth.login_max_failures_per_account = 1000;
                settings.auth.login_max_failures_per_address = 1000;
            }),
            ..Default::default()
        },
    )
    .await;
    app.register_and_login("known@chu.fr", &rpps(403)).await;
    same_answer_in_the_same_time("login", 9, |round, known| {
        let email = if known {
            "known@chu.fr"
        } else {
            "nobody@chu.fr"
        };
        app.login(email, &format!("wrong-{round}"))
    })
    .await;
    same_answer_in_the_same_time("password reset", 15, |_, known| {
        app.password_reset(if known {
            "known@chu.fr"
        } else {
            "nobody@chu.fr"
        })
    })
    .await;
    same_answer_in_the_same_time("registration", 7, |round, taken| {
        app.register(if taken {
            registration("known@chu.fr", &rpps(410 + round))
        } else {
            registration(&format!("new{round}@chu.fr"), &rpps(420 + round))
        })
    })
    .await;
}

/// Makes `call(round, true)` (about someone who has an account) and `call(round, false)` (about
/// no one) in turn for each round: every answer is the same, and so is the median time.
async fn same_answer_in_the_same_time(what: &str, rounds: u32, call: impl Fn(u32, bool) -> Call) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for round in 0..rounds {
        for (case, samples) in [(true, &mut known), (false, &mut unknown)] {
            let started = Instant::now();
            let answer = call(round, case).await;
            samples.push(started.elapsed());
            bodies.push((answer.status, answer.body));
        }
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{what}: {bodies:?}");
    assert_same_timing(what, median(known), median(unknown));
}

async fn fields_a_client_may_not_set_are_never_applied(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut form = registration("mass@chu.fr", &rpps(430));
    form["roles"] = json!(["admin"]);
    form["status"] = json!("active");
    form["id"] = json!("chosen-id");
    let refused = app.register(form).await;
    assert_eq!(refused.status, 422);
    let mut fields = refused.invalid_fields();
    fields.sort();
    assert!(fields.iter().any(|f| f.contains("roles")), "{fields:?}");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users").await, 0);

    let pair = app.register_and_login("req@chu.fr", &rpps(431)).await;
    let token = pair["access_token"].as_str().unwrap();
    let (admin_id, admin) = app
        .user_with_roles(ADMIN.email, &rpps(432), ADMIN.roles)
        .await;
    for (field, value) in [
        ("status", json!("completed")),
        ("requester_id", json!(admin_id)),
        ("reference", json!("MOC-1999-00001")),
        ("id", json!("chosen")),
        ("created_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut body = json!({"topic": "diagnosis"});
        body[field] = value;
        let created = app.create_request(body, token).await;
        assert_eq!(created.status, 422, "create with {field}");
        assert_eq!(
            created.invalid_fields(),
            vec![field.to_owned()],
            "create with {field}"
        );
    }
    let draft = app
        .create_request(json!({"topic": "diagnosis"}), token)
        .await;
    assert_eq!(draft.status, 201);
    let id = draft.body["id"].as_str().unwrap();
    for (field, value) in [
        ("status", json!("completed")),
        ("requester_id", json!(admin_id)),
        ("meeting_id", json!("x")),
    ] {
        let patched = app
            .update_request(id, json!({field: value, "version": 1}), token)
            .await;
        assert_eq!(patched.status, 422, "patch with {field}");
    }
    // The version is compared, never set: a client cannot move it forward.
    let skipped = app
        .update_request(
            id,
            json!({"question": "Which dysplasia?", "version": 7}),
            token,
        )
        .await;
    assert_eq!(skipped.status, 409);
    let after = app.get_request(id, token).await;
    assert_eq!(after.body["status"], "draft");
    assert_eq!(after.body["version"], 1);

    let me = app.me(Some(token)).await;
    let user_id = me.body["id"].as_str().unwrap();
    let escalate = app
        .update_user(
            user_id,
            json!({"status": "active", "password_hash": "x", "roles": ["admin"]}),
            &admin,
        )
        .await;
    assert_eq!(escalate.status, 422);
    let message = app
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(token),
            json!({"body": "hello", "author_id": admin_id}),
        )
        .await;
    assert_eq!(message.status, 422);
    assert_eq!(
        app.me(Some(token)).await.body["roles"],
        json!(["requester"])
    );
}

/// Every key anywhere in a JSON document.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                out.push(key.clone());
                keys(member, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
        _ => {}
    }
}

async fn answers_carry_nothing_they_should_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.register_and_login("a@chu.fr", &rpps(440)).await;
    let b = app.register_and_login("b@chu.fr", &rpps(441)).await;
    let a_token = a["access_token"].as_str().unwrap();
    let b_token = b["access_token"].as_str().unwrap();
    let (_, admin) = app
        .user_with_roles(ADMIN.email, &rpps(442), ADMIN.roles)
        .await;
    let draft = app
        .create_request(json!({"topic": "diagnosis"}), b_token)
        .await;
    let b_request = draft.body["id"].as_str().unwrap().to_owned();
    app.create_request(json!({"topic": "diagnosis"}), a_token)
        .await;

    let mut answers = Vec::new();
    for (token, path) in [
        (a_token, "/api/v1/me".to_owned()),
        (a_token, "/api/v1/requests".to_owned()),
        (a_token, format!("/api/v1/requests/{b_request}")),
        (admin.as_str(), "/api/v1/admin/users".to_owned()),
        (admin.as_str(), "/api/v1/admin/audit".to_owned()),
        (admin.as_str(), "/api/v1/admin/outbox".to_owned()),
    ] {
        let answer = app.get(&path, Some(token)).await;
        answers.push((path, answer.status, answer.body));
    }
    let forbidden = [
        "password_hash",
        "token_hash",
        "refresh_token_hash",
        "totp_secret",
        "code_hash",
        "hash",
        "prev_hash",
        "body_text",
        "body_html",
        "secret",
    ];
    for (path, status, body) in &answers {
        assert!(*status < 500, "{path}");
        let mut found = Vec::new();
        keys(body, &mut found);
        for key in forbidden {
            assert!(!found.iter().any(|k| k == key), "{path} shows {key}");
        }
        let text = body.to_string();
        assert!(!text.contains("$argon2"), "{path} shows a password hash");
    }
    // A requester sees neither another requester's request nor their address.
    let (_, status, _) = &answers[2];
    assert_eq!(*status, 404);
    let (_, _, mine) = &answers[1];
    assert!(!mine.to_string().contains("b@chu.fr"));
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}

async fn security_headers_and_cors(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    for path in ["/healthz", "/api/v1/requests", "/api/v1/nothing"] {
        let answer = app.get(path, None).await;
        assert_eq!(
            answer.header("cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            answer.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            answer.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        assert_eq!(answer.header("x-frame-options").as_deref(), Some("DENY"));
        assert!(
            answer
                .header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(
            answer.header("strict-transport-security").is_none(),
            "plain http"
        );
    }
    let docs = app.get("/docs/", None).await;
    let csp = docs.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let trace = app.request(Method::TRACE, "/healthz", None).await;
    assert_eq!(trace.status, 405);

    // CORS is closed by default.
    let preflight = |app: &TestApp, origin: &str| {
        app.request(Method::OPTIONS, "/api/v1/requests", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
    };
    let closed = preflight(&app, "https://rcp.example.org").await;
    assert!(closed.header("access-control-allow-origin").is_none());
    let simple = app
        .get("/healthz", None)
        .header("origin", "https://rcp.example.org")
        .await;
    assert!(simple.header("access-control-allow-origin").is_none());

    let open = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|settings| {
                settings.server.cors_allowed_origins = vec!["https://rcp.example.org".into()];
                settings.server.public_url = "https://consilium.example.org".into();
            }),
            ..Default::default()
        },
    )
    .await;
    let allowed = preflight(&open, "https://rcp.example.org").await;
    assert_eq!(allowed.status, 204);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://rcp.example.org")
    );
    assert!(
        allowed
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    let other = preflight(&open, "https://evil.example").await;
    assert!(other.header("access-control-allow-origin").is_none());
    let simple = open
        .get("/healthz", None)
        .header("origin", "https://rcp.example.org")
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin").as_deref(),
        Some("https://rcp.example.org")
    );
    assert!(simple.header("vary").unwrap().contains("Origin"));
    assert!(
        simple
            .header("strict-transport-security")
            .unwrap()
            .starts_with("max-age=31536000")
    );
}

async fn inputs_are_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("in@chu.fr", &rpps(450)).await;
    let token = pair["access_token"].as_str().unwrap();
    let post_raw = |body: String| {
        app.request(Method::POST, "/api/v1/requests", Some(token))
            .header("content-type", "application/json")
            .body(body)
    };
    let huge = format!(r#"{{"question": "{}"}}"#, "x".repeat(200_000));
    assert_eq!(post_raw(huge).await.status, 413);
    let deep = format!(r#"{{"patient": {}1{}}}"#, "[".repeat(30), "]".repeat(30));
    let answer = post_raw(deep).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.invalid_fields()[0].starts_with("patient"),
        "{:?}",
        answer.body
    );
    let very_deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(post_raw(very_deep).await.status, 400);
    let long = json!({"question": "y".repeat(20_001)});
    let answer = app.create_request(long, token).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.invalid_fields(), vec!["question"]);
    let many: Vec<String> = (0..501).map(|i| format!("HP:{:07}", i)).collect();
    let answer = app.create_request(json!({"hpo_terms": many}), token).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.invalid_fields(), vec!["hpo_terms"]);
    let answer = app.get("/api/v1/requests?limit=100000", Some(token)).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.invalid_fields(), vec!["limit"]);
    // Past actix-http's 128 KiB head limit the request is refused (431), or the connection
    // closed while the client is still sending: never served.
    let big_header = reqwest::Client::new()
        .get(app.url("/healthz"))
        .header("x-padding", "z".repeat(256 * 1024))
        .send()
        .await;
    match big_header {
        Ok(response) => assert_eq!(response.status(), 431),
        Err(error) => assert!(error.is_request(), "{error}"),
    }
    assert_eq!(app.get("/healthz", None).await.status, 200, "still serving");
    // A JSON array never stands for an object (serde would read it field by field).
    let positional = app
        .post("/api/v1/auth/login", None, json!(["in@chu.fr", PASSWORD]))
        .await;
    assert_eq!(positional.status, 422);
    let nested = app
        .create_request(json!({"patient": ["AB", "female"]}), token)
        .await;
    assert_eq!(nested.status, 422);
    assert_eq!(nested.invalid_fields(), vec!["patient"]);
    // An empty change is a 422, not a database error.
    let (_, coordinator) = app
        .user_with_roles("coord@necker.fr", &rpps(453), &["coordinator"])
        .await;
    let meetings = app.meetings("rcp-national", &coordinator).await;
    let meeting = meetings.body[0]["id"].as_str().unwrap().to_owned();
    let empty = app.update_meeting(&meeting, json!({}), &coordinator).await;
    assert_eq!(empty.status, 422, "{:?}", empty.body);
    // CR/LF in what could reach an e-mail header.
    let mut form = registration("inject@chu.fr", &rpps(451));
    form["full_name"] = json!("Eve\r\nBcc: victim@example.org");
    let answer = app.register(form).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.invalid_fields(), vec!["full_name"]);
    let answer = app
        .register(registration(
            "eve@chu.fr\r\nBcc: victim@example.org",
            &rpps(452),
        ))
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.invalid_fields(), vec!["email"]);
}

/// A ZIP archive whose single entry inflates 1 MiB of zeros from a few hundred bytes
/// (stored with deflate; the server must never inflate it).
fn zip_bomb() -> Vec<u8> {
    // Deflate of 1 MiB of zeros: fixed-Huffman blocks of runs, built by hand would be long;
    // the local file header alone is what a content check sees first.
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend_from_slice(&[0u8; 16]);
    zip.extend_from_slice(&(1u32 << 30).to_le_bytes()); // claimed uncompressed size: 1 GiB
    zip.extend_from_slice(b"\x08\x00\x00\x00bomb.pdf");
    zip.extend(std::iter::repeat_n(0x63u8, 512));
    zip
}

async fn uploads_are_recognised_sealed_and_downloaded_as_attachments(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("up@chu.fr", &rpps(460)).await;
    let token = pair["access_token"].as_str().unwrap();
    let draft = app
        .create_request(json!({"topic": "diagnosis"}), token)
        .await;
    let id = draft.body["id"].as_str().unwrap().to_owned();
    let upload = |bytes: Vec<u8>, name: &str| {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/pdf")
            .unwrap();
        app.upload(&id, part, token)
    };
    let bomb = upload(zip_bomb(), "bomb.pdf").await;
    assert_eq!(bomb.status, 415, "declared PDF, content ZIP");

    // A body cut before its closing boundary.
    let truncated = app
        .request(
            Method::POST,
            &format!("/api/v1/requests/{id}/attachments"),
            Some(token),
        )
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-1.7 cut here",
        )
        .await;
    assert_eq!(truncated.status, 400, "{:?}", truncated.body);

    let report =
        b"%PDF-1.7\nReport of a skeletal survey: very specific marker 7731\n%%EOF".to_vec();
    let stored = upload(report.clone(), "../../etc/Survey \"A\".pdf").await;
    assert_eq!(stored.status, 201, "{:?}", stored.body);
    let attachment_id = stored.body["id"].as_str().unwrap().to_owned();
    assert_eq!(stored.body["filename"], "Survey A.pdf");
    assert_eq!(stored.body["content_type"], "application/pdf");

    // On disk: one file, named by its id, sealed.
    let dir = app.settings.attachments_dir();
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, vec![attachment_id.clone()]);
    let at_rest = std::fs::read(dir.join(&attachment_id)).unwrap();
    assert!(!at_rest.starts_with(b"%PDF"));
    assert!(!at_rest.windows(11).any(|w| w == b"marker 7731"));

    let response = app
        .attachment(&id, &attachment_id, token)
        .builder()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().to_vec(), report);
}

/// The checkpoints' signing seed in tests (base64 of 32 bytes of 42).
const CHECKPOINT_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// `consilium audit …` on the test's database.
fn audit_command(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_consilium"))
        .env("CONSILIUM_ENV", "test")
        .env("CONSILIUM__STORAGE__DIR", &app.settings.storage.dir)
        .env("CONSILIUM__DATABASE__URL", &app.database.url)
        .env("CONSILIUM__AUDIT__CHECKPOINT_KEY", CHECKPOINT_KEY)
        .env("RUST_LOG", "warn")
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

fn verify_command(app: &TestApp) -> std::process::Output {
    audit_command(app, &["verify"])
}

async fn seal(app: &TestApp) {
    app.db.run(consilium::audit::seal_pending).await.unwrap();
}

async fn the_audit_trail_is_hash_chained_and_verifiable(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let pair = app.register_and_login("audit@chu.fr", &rpps(470)).await;
    let token = pair["access_token"].as_str().unwrap();
    for _ in 0..3 {
        app.me(Some(token)).await;
    }
    seal(&app).await;
    let sealed = app
        .count("SELECT COUNT(*) AS n FROM audit_log WHERE hash IS NOT NULL")
        .await;
    assert!(sealed >= 6, "{sealed}");
    let ok = verify_command(&app);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("intact"), "{out}");

    // The database itself refuses changes and deletions, sealed or not.
    let db = app.db.clone();
    let refused = tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        let mut conn = db.get().unwrap();
        [
            "UPDATE audit_log SET action = 'x' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 2",
            "UPDATE audit_log SET hash = 'x' WHERE seq = 2",
        ]
        .map(|sql| conn.batch_execute(sql).is_err())
    })
    .await
    .unwrap();
    assert_eq!(refused, [true; 3]);

    // Someone with the power to drop the trigger changes a row: verify names it.
    let disable = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        Backend::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;",
    };
    app.execute(disable).await;
    app.execute("UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 3")
        .await;
    let broken = verify_command(&app);
    let out = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{out}");
    assert!(
        out.contains("BROKEN at row 3") && out.contains("changed"),
        "{out}"
    );

    let restored = app.count("SELECT COUNT(*) AS n FROM audit_log").await;
    assert!(restored > 3);
    app.execute("DELETE FROM audit_log WHERE seq <= 3").await;
    let broken = verify_command(&app);
    let out = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{out}");
    assert!(
        out.contains("BROKEN at row 1") && out.contains("missing"),
        "{out}"
    );
}

async fn refused_accesses_are_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("denied@chu.fr", &rpps(480)).await;
    let token = pair["access_token"].as_str().unwrap();
    let me = app.me(Some(token)).await;
    let user_id = me.body["id"].as_str().unwrap().to_owned();

    assert_eq!(app.get("/api/v1/requests", None).await.status, 401);
    assert_eq!(
        app.get("/api/v1/admin/users", Some(token)).await.status,
        403
    );
    let unauthenticated = app
        .count(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.unauthenticated' \
             AND outcome = 'denied' AND entity_id = 'GET /api/v1/requests' AND actor_id IS NULL",
        )
        .await;
    assert_eq!(unauthenticated, 1);
    let forbidden = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.forbidden' \
             AND outcome = 'denied' AND entity_id = 'GET /api/v1/admin/users' \
             AND actor_id = '{user_id}'"
        ))
        .await;
    assert_eq!(forbidden, 1);
}

/// A database administrator drops the triggers, cuts the chain after some row and sets the
/// head to that row: the chain alone is consistent again and `audit verify` passes, but the
/// checkpoints signed before (kept outside the database) no longer match, and
/// `audit verify --checkpoints` names the first of them.
async fn a_chain_rewritten_consistently_is_caught_by_its_checkpoints(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let pair = app.register_and_login("anchor@chu.fr", &rpps(471)).await;
    let token = pair["access_token"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap().to_owned();
    let mut heads = Vec::new();
    for _ in 0..2 {
        for _ in 0..3 {
            app.me(Some(token)).await;
        }
        seal(&app).await;
        let written = audit_command(&app, &["checkpoint", "--dir", &dir_arg]);
        let out = String::from_utf8_lossy(&written.stdout);
        assert!(
            written.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&written.stderr)
        );
        assert!(out.contains("checkpoint written"), "{out}");
        heads.push(app.count("SELECT seq AS n FROM audit_chain").await);
    }
    assert!(heads[0] >= 6 && heads[1] > heads[0], "{heads:?}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 2, "one file per checkpoint");
    let checked = audit_command(&app, &["verify", "--checkpoints", &dir_arg]);
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(out.contains("2 checkpoints match"), "{out}");

    let disable = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        Backend::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;",
    };
    app.execute(disable).await;
    let cut = heads[0] - 2;
    app.execute(&format!("DELETE FROM audit_log WHERE seq > {cut}"))
        .await;
    app.execute(&format!(
        "UPDATE audit_chain SET seq = {cut}, \
         hash = (SELECT hash FROM audit_log WHERE seq = {cut})"
    ))
    .await;

    let alone = verify_command(&app);
    let out = String::from_utf8_lossy(&alone.stdout);
    assert!(alone.status.success(), "the cut chain is consistent: {out}");
    assert!(out.contains("intact"), "{out}");
    let anchored = audit_command(&app, &["verify", "--checkpoints", &dir_arg]);
    let out = String::from_utf8_lossy(&anchored.stdout);
    assert_eq!(anchored.status.code(), Some(1), "{out}");
    let first = format!("checkpoint-{:012}-", heads[0]);
    assert!(out.contains("BROKEN") && out.contains(&first), "{out}");
    assert!(out.contains(&format!("row {}", heads[0])), "{out}");
}
