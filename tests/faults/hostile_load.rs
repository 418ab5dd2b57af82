//! A thousand concurrent requests, mostly malformed, oversized or hostile, mixed with real
//! work: no 5xx, memory bounded, every e-mail the real work queued delivered once, and the
//! audit trail counting exactly what was answered.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use consilium::auth::jwt::{Claims, JwtKeys};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::on_both_backends;
use crate::support::process::{Deployment, PASSWORD};
use crate::support::smtp::SmtpSink;
use crate::support::workflow::{
    Cast, assert_each_row_delivered_once, complete_form, drained, login,
};
use crate::support::{Backend, rpps};

on_both_backends!(a_thousand_mixed_hostile_requests_get_no_5xx_and_lose_nothing);

const JWT_SECRET: &str = "fault-injection-secret-0123456789abcdef";
const MEMORY_LIMIT_KB: u64 = 300 * 1024;

enum Send {
    Http(Box<reqwest::Request>),
    /// Bytes written as they are on a new connection (what no HTTP client would send).
    Raw(Vec<u8>),
}

struct Probe {
    category: &'static str,
    send: Send,
    /// The answers this probe may get.
    expect: &'static [u16],
    /// The server may close the connection instead of answering (a body or head far over the
    /// limits is refused while the client is still sending).
    may_close: bool,
}

#[derive(Debug)]
struct Outcome {
    category: &'static str,
    path: String,
    status: Option<u16>,
    content_type: String,
    text: String,
    error: Option<String>,
    expect: &'static [u16],
    may_close: bool,
}

/// Splits `GET /path HTTP/1.1` out of a raw request.
fn raw_path(bytes: &[u8]) -> String {
    let line = String::from_utf8_lossy(bytes);
    line.split(' ').nth(1).unwrap_or_default().to_owned()
}

async fn raw_exchange(port: u16, bytes: Vec<u8>) -> Result<(u16, String, String), String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(&bytes).await.map_err(|e| e.to_string())?;
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {:?}", &text[..text.len().min(200)]))?;
    let content_type = text
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    Ok((status, content_type, text))
}

async fn fire(http: reqwest::Client, port: u16, probe: Probe) -> Outcome {
    let (path, result) = match probe.send {
        Send::Http(request) => {
            let path = request.url().path().to_owned();
            let result = async {
                let response = http.execute(*request).await?;
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let text = response.text().await?;
                Ok::<_, reqwest::Error>((status, content_type, text))
            }
            .await
            .map_err(|e| format!("{e:?}"));
            (path, result)
        }
        Send::Raw(bytes) => (raw_path(&bytes), raw_exchange(port, bytes).await),
    };
    match result {
        Ok((status, content_type, text)) => Outcome {
            category: probe.category,
            path,
            status: Some(status),
            content_type,
            text,
            error: None,
            expect: probe.expect,
            may_close: probe.may_close,
        },
        Err(error) => Outcome {
            category: probe.category,
            path,
            status: None,
            content_type: String::new(),
            text: String::new(),
            error: Some(error),
            expect: probe.expect,
            may_close: probe.may_close,
        },
    }
}

/// A small deterministic generator, so a failing mix can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn multipart(boundary: &str, filename: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

async fn a_thousand_mixed_hostile_requests_get_no_5xx_and_lose_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let server = deployment.serve().await;
    let port = server.port.unwrap();
    let api = server.api();
    let cast = Cast::new(&deployment, &api, false).await;
    deployment
        .add_user("other@chu-lyon.fr", &rpps(510), &["requester"])
        .await;
    let other = login(&api, &deployment, "other@chu-lyon.fr").await;
    let (requester, coordinator) = (cast.requester.clone(), cast.coordinator.clone());
    let requester_id = api.send(api.get("/api/v1/me", Some(&requester))).await.id();
    assert!(!requester_id.is_empty());

    // Real work prepared: drafts to submit during the storm, one to upload into.
    let mut drafts = Vec::new();
    for i in 0..100 {
        drafts.push(
            crate::support::workflow::draft(&api, &requester, &format!("draft-{i}"))
                .await
                .0,
        );
    }
    let (upload_target, _) = crate::support::workflow::draft(&api, &requester, "uploads").await;
    drained(db, Duration::from_secs(20)).await;

    // Tokens a client should never get through with.
    let kid_of_real = {
        use base64::Engine;
        let header = requester.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(header)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let genuine_keys = JwtKeys::new(JWT_SECRET.as_bytes(), None, "consilium", 15);
    let foreign_keys = JwtKeys::new(
        b"another-secret-entirely-0123456789abc",
        None,
        "consilium",
        15,
    );
    let now = chrono::Utc::now().timestamp();
    let claims = |sub: &str, exp: i64, typ: &str| Claims {
        iss: "consilium".into(),
        aud: consilium::auth::jwt::AUDIENCE.into(),
        sub: sub.into(),
        iat: exp - 900,
        nbf: exp - 900,
        exp,
        typ: typ.into(),
        jti: uuid::Uuid::new_v4().to_string(),
        amr: vec!["pwd".into(), "otp".into()],
    };
    // A signature character changed in its middle (the last one may only carry padding bits).
    let tampered = {
        let mut chars: Vec<char> = requester.chars().collect();
        let middle = chars.len() - 20;
        chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let alg_none = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            engine.encode(format!(
                r#"{{"alg":"none","typ":"JWT","kid":"{kid_of_real}"}}"#
            )),
            engine.encode(
                serde_json::to_string(&claims(&requester_id, now + 600, "access")).unwrap()
            )
        )
    };
    let bad_tokens: Vec<String> = vec![
        "garbage".into(),
        "a.b.c".into(),
        tampered,
        alg_none,
        foreign_keys
            .issue_access(&requester_id, &["pwd".into()])
            .unwrap(),
        genuine_keys
            .encode(&claims(&requester_id, now - 3600, "access"))
            .unwrap(),
        genuine_keys
            .encode(&claims(&requester_id, now + 600, "refresh"))
            .unwrap(),
        genuine_keys
            .issue_access(&uuid::Uuid::now_v7().to_string(), &["pwd".into()])
            .unwrap(),
        format!("{requester}\u{0}"),
        "x".repeat(8000),
    ];

    // The mix, each request on a connection of its own (as hostile clients do; keep-alive
    // reuse is exercised by every other test).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let build = |method: Method, path: &str, token: Option<&str>| {
        let builder = http.request(method, url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    };
    let mut probes: Vec<Probe> = Vec::new();
    let mut add = |category: &'static str,
                   builder: reqwest::RequestBuilder,
                   expect: &'static [u16],
                   may_close: bool| {
        probes.push(Probe {
            category,
            send: Send::Http(Box::new(builder.build().unwrap())),
            expect,
            may_close,
        });
    };
    for i in 0..150 {
        let mut form = complete_form(&format!("load-{i}"));
        form["question"] =
            json!("First line\r\nBcc: victim@example.org\r\n\r\n.\r\nQUIT\r\n<script>x</script>");
        add(
            "create",
            build(Method::POST, "/api/v1/requests", Some(&requester)).json(&form),
            &[201],
            false,
        );
    }
    for id in &drafts {
        add(
            "submit",
            build(
                Method::POST,
                &format!("/api/v1/requests/{id}/submit"),
                Some(&requester),
            )
            .json(&json!({})),
            &[200, 409],
            false,
        );
    }
    for id in drafts.iter().take(20) {
        add(
            "submit",
            build(
                Method::POST,
                &format!("/api/v1/requests/{id}/submit"),
                Some(&requester),
            )
            .json(&json!({})),
            &[200, 409],
            false,
        );
    }
    for i in 0..40 {
        add(
            "register",
            build(Method::POST, "/api/v1/auth/register", None).json(&json!({
                "email": format!("load{i}@chu-lille.fr"), "password": PASSWORD,
                "full_name": "Jeanne Martin", "rpps": rpps(700 + i), "specialty": "Pediatrics",
                "site_code": "nancy", "language": "en",
            })),
            &[202],
            false,
        );
    }
    for i in 0..20 {
        let (email, name) = if i % 2 == 0 {
            (
                format!("eve{i}@chu-lille.fr"),
                "Eve\r\nBcc: victim@example.org".to_owned(),
            )
        } else {
            (
                format!("eve{i}@chu-lille.fr\r\nBcc: victim@example.org"),
                "Eve".to_owned(),
            )
        };
        add(
            "register-crlf",
            build(Method::POST, "/api/v1/auth/register", None).json(&json!({
                "email": email, "password": PASSWORD, "full_name": name,
                "rpps": rpps(800 + i), "specialty": "Pediatrics", "site_code": "nancy", "language": "en",
            })),
            &[422],
            false,
        );
    }
    let bad_json: [&[u8]; 6] = [
        b"{\"topic\": ",
        b"not json at all",
        b"{\"topic\": \"diagnosis\",}",
        b"",
        b"\xff\xfe{\"topic\": 1}",
        b"{\"topic\": \"diagnosis\"} trailing",
    ];
    for i in 0..60 {
        add(
            "bad-json",
            build(Method::POST, "/api/v1/requests", Some(&requester))
                .header("content-type", "application/json")
                .body(bad_json[i % bad_json.len()].to_vec()),
            &[400, 422],
            false,
        );
    }
    for i in 0..40 {
        let body = if i % 2 == 0 {
            format!("{}{}", "[".repeat(5000), "]".repeat(5000))
        } else {
            format!(
                r#"{{"patient": {}1{}}}"#,
                r#"{"a": "#.repeat(40),
                "}".repeat(40)
            )
        };
        add(
            "deep",
            build(Method::POST, "/api/v1/requests", Some(&requester))
                .header("content-type", "application/json")
                .body(body),
            &[400, 422],
            false,
        );
    }
    for i in 0..40 {
        let (body, expect, may_close): (String, &'static [u16], bool) = match i % 8 {
            0..=3 => (
                json!({"question": "y".repeat(20_001)}).to_string(),
                &[422],
                false,
            ),
            4..=6 => (
                format!(r#"{{"question": "{}"}}"#, "x".repeat(200_000)),
                &[413],
                false,
            ),
            _ => (
                format!(r#"{{"question": "{}"}}"#, "z".repeat(8 * 1024 * 1024)),
                &[413],
                true,
            ),
        };
        add(
            "huge",
            build(Method::POST, "/api/v1/requests", Some(&requester))
                .header("content-type", "application/json")
                .body(body),
            expect,
            may_close,
        );
    }
    let content_types = [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=xyz"),
        Some("application/json-patch+jsonx"),
        None,
    ];
    for i in 0..60 {
        let mut builder = build(Method::POST, "/api/v1/requests", Some(&requester))
            .body(complete_form("wrong-type").to_string());
        if let Some(content_type) = content_types[i % content_types.len()] {
            builder = builder.header("content-type", content_type);
        }
        add("content-type", builder, &[400, 415], false);
    }
    for i in 0..100 {
        let token = &bad_tokens[i % bad_tokens.len()];
        let builder = match i % 3 {
            0 => http.get(url("/api/v1/requests")),
            1 => http
                .post(url("/api/v1/requests"))
                .json(&complete_form("bad-token")),
            _ => http.get(url("/api/v1/me")),
        };
        let builder = if i % 10 == 9 {
            builder.header("authorization", format!("Basic {token}"))
        } else if token.contains('\u{0}') {
            builder.header("authorization", "Bearer ")
        } else {
            builder.bearer_auth(token)
        };
        add("bad-token", builder, &[401], false);
    }
    for i in 0..80 {
        let unknown = uuid::Uuid::new_v4();
        let builder = match i % 5 {
            0 => build(
                Method::GET,
                &format!("/api/v1/requests/{unknown}"),
                Some(&requester),
            ),
            1 => build(
                Method::GET,
                &format!("/api/v1/requests/{unknown}/opinion"),
                Some(&requester),
            ),
            2 => build(
                Method::POST,
                &format!("/api/v1/requests/{unknown}/submit"),
                Some(&requester),
            )
            .json(&json!({})),
            3 => build(
                Method::GET,
                &format!("/api/v1/meetings/{unknown}"),
                Some(&coordinator),
            ),
            _ => build(
                Method::GET,
                "/api/v1/requests/%27%20OR%20%271%27%3D%271",
                Some(&requester),
            ),
        };
        add("unknown-id", builder, &[404], false);
    }
    for id in drafts.iter().take(30) {
        add(
            "other-requester",
            build(Method::GET, &format!("/api/v1/requests/{id}"), Some(&other)),
            &[404],
            false,
        );
    }
    for i in 0..40 {
        let (method, path, token, expect): (Method, String, &str, &'static [u16]) = match i % 4 {
            0 => (
                Method::POST,
                format!("/api/v1/requests/{}/schedule", drafts[0]),
                &requester,
                &[403],
            ),
            1 => (
                Method::POST,
                "/api/v1/requests".into(),
                &coordinator,
                &[403],
            ),
            2 => (
                Method::GET,
                "/api/v1/admin/outbox".into(),
                &requester,
                &[403],
            ),
            _ => (
                Method::GET,
                "/api/v1/admin/audit".into(),
                &coordinator,
                &[403],
            ),
        };
        let builder = build(method.clone(), &path, Some(token));
        let builder = if method == Method::POST {
            builder.json(&json!({"meeting_id": "x"}))
        } else {
            builder
        };
        add("forbidden", builder, expect, false);
    }
    let queries = [
        "/api/v1/requests?limit=100000",
        "/api/v1/requests?limit=-5",
        "/api/v1/requests?limit=abc",
        "/api/v1/requests?cursor=%21%21%21",
        "/api/v1/requests?status=bogus",
        "/api/v1/requests?limit=1&limit=2&limit=3",
        "/api/v1/sites?departement=%00%0d%0a",
        "/api/v1/requests?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    for i in 0..40 {
        add(
            "query",
            build(Method::GET, queries[i % queries.len()], Some(&requester)),
            &[200, 400, 422],
            false,
        );
    }
    for i in 0..30 {
        let (method, path) = match i % 3 {
            0 => (Method::DELETE, "/api/v1/requests"),
            1 => (Method::PUT, "/healthz"),
            _ => (Method::TRACE, "/healthz"),
        };
        add(
            "method",
            build(method, path, Some(&requester)),
            &[405],
            false,
        );
    }
    for _ in 0..10 {
        add(
            "huge-header",
            build(Method::GET, "/healthz", None).header("x-padding", "z".repeat(256 * 1024)),
            &[431],
            true,
        );
    }
    let oversized = multipart(
        "B0undary",
        "big.pdf",
        &[b"%PDF-1.7\n".as_slice(), &vec![b'0'; 21 * 1024 * 1024]].concat(),
    );
    for _ in 0..4 {
        add(
            "oversized-upload",
            build(
                Method::POST,
                &format!("/api/v1/requests/{upload_target}/attachments"),
                Some(&requester),
            )
            .header("content-type", "multipart/form-data; boundary=B0undary")
            .body(oversized.clone()),
            &[413],
            true,
        );
    }
    for i in 0..6 {
        add(
            "upload",
            build(
                Method::POST,
                &format!("/api/v1/requests/{upload_target}/attachments"),
                Some(&requester),
            )
            .header("content-type", "multipart/form-data; boundary=B0undary")
            .body(multipart(
                "B0undary",
                &format!("../../../etc/passwd{i}.pdf"),
                b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF",
            )),
            &[201],
            false,
        );
    }
    let reads = [
        "/api/v1/requests".to_owned(),
        format!("/api/v1/requests/{}", drafts[1]),
        "/api/v1/sites?departement=2A".to_owned(),
        "/readyz".to_owned(),
        "/api/v1/me".to_owned(),
    ];
    for i in 0..70 {
        add(
            "read",
            build(Method::GET, &reads[i % reads.len()], Some(&requester)),
            &[200],
            false,
        );
    }
    // Raw requests: traversal that a URL library would normalise away, and header tricks.
    let traversal = [
        "/api/v1/requests/../../../../etc/passwd".to_owned(),
        "/docs/../../../../etc/passwd".to_owned(),
        "/docs/..%2f..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/docs/%2e%2e/%2e%2e/config/default.toml".to_owned(),
        format!("/api/v1/requests/{upload_target}/attachments/..%2f..%2fencryption_key"),
        format!("/api/v1/requests/{upload_target}/attachments/../../../storage/jwt_secret"),
        "/api/v1/requests/..%5c..%5c..%5cwindows%5cwin.ini".to_owned(),
    ];
    for i in 0..40 {
        let path = &traversal[i % traversal.len()];
        probes.push(Probe {
            category: "traversal",
            send: Send::Raw(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {requester}\r\nConnection: close\r\n\r\n"
                )
                .into_bytes(),
            ),
            expect: &[400, 404],
            may_close: false,
        });
    }
    let header_tricks: [&[u8]; 4] = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\rSet-Cookie: evil=1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc%0d%0aSet-Cookie:%20evil=1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\x00b\r\nConnection: close\r\n\r\n",
        b"GET /healthz\r\nSet-Cookie: evil=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    for i in 0..20 {
        probes.push(Probe {
            category: "header-injection",
            send: Send::Raw(header_tricks[i % header_tricks.len()].to_vec()),
            expect: &[200, 400],
            may_close: false,
        });
    }
    assert_eq!(probes.len(), 1000);
    let mut random = Lcg(0x5eed_fa17);
    for i in (1..probes.len()).rev() {
        let j = (random.next() % (i as u64 + 1)) as usize;
        probes.swap(i, j);
    }

    let audits = |action: &'static str| async move {
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"
        ))
        .await
    };
    let before: HashMap<&str, i64> = {
        let mut counts = HashMap::new();
        for action in [
            "request.create",
            "request.submit",
            "access.unauthenticated",
            "access.forbidden",
            "request.read",
        ] {
            counts.insert(action, audits(action).await);
        }
        counts
    };
    let outbox_before = db.count("SELECT COUNT(*) AS n FROM outbox").await;
    let requests_before = db.count("SELECT COUNT(*) AS n FROM requests").await;

    // A heartbeat: a cheap request every 100 ms on a fresh connection, to see whether the HTTP
    // workers keep serving while the storm goes on.
    let beating = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let heartbeat = {
        let (http, beating, health) = (http.clone(), beating.clone(), url("/healthz"));
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            while beating.load(std::sync::atomic::Ordering::SeqCst) {
                let sent = Instant::now();
                let answered = http
                    .get(&health)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                let took = if answered {
                    sent.elapsed()
                } else {
                    Duration::MAX
                };
                slowest = slowest.max(took);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            slowest
        })
    };
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(50));
    let mut running = JoinSet::new();
    for probe in probes {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let http = http.clone();
        running.spawn(async move {
            let outcome = fire(http, port, probe).await;
            drop(permit);
            outcome
        });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = running.join_next().await {
        outcomes.push(outcome.unwrap());
    }
    let took = started.elapsed();
    beating.store(false, std::sync::atomic::Ordering::SeqCst);
    let slowest_heartbeat = heartbeat.await.unwrap();
    let peak_kb = server.peak_rss_kb();
    eprintln!("slowest /healthz during the storm: {slowest_heartbeat:?}");
    eprintln!(
        "1000 requests in {:.1} s; server peak RSS (VmHWM) {} MB",
        took.as_secs_f64(),
        peak_kb / 1024
    );
    let mut table: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for outcome in &outcomes {
        let answer = outcome
            .status
            .map_or_else(|| "closed".to_owned(), |s| s.to_string());
        *table.entry((outcome.category, answer)).or_default() += 1;
    }
    eprintln!("{table:?}");

    // Every check is made, and every failure reported together.
    let mut problems: Vec<String> = Vec::new();
    let secret_file = |name: &str| {
        std::fs::read_to_string(deployment.dir.path().join("storage").join(name))
            .unwrap_or_default()
    };
    let (mut server_errors, mut unexpected, mut unanswered, mut leaks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for outcome in &outcomes {
        let head = &outcome.text[..outcome.text.len().min(200)];
        match (outcome.status, &outcome.error) {
            (Some(status), _) if status >= 500 => server_errors.push(format!(
                "{} {} → {status} {head}",
                outcome.category, outcome.path
            )),
            (Some(status), _) if !outcome.expect.contains(&status) => unexpected.push(format!(
                "{} {} → {status} (expected {:?}) {head}",
                outcome.category, outcome.path, outcome.expect
            )),
            (Some(status), _)
                if status >= 400
                    && !outcome.content_type.starts_with("application/problem+json")
                    && !matches!(
                        outcome.category,
                        "header-injection" | "huge-header" | "traversal"
                    ) =>
            {
                unexpected.push(format!(
                    "{} {} → {status} not problem+json ({})",
                    outcome.category, outcome.path, outcome.content_type
                ))
            }
            (None, Some(error)) if !outcome.may_close => unanswered.push(format!(
                "{} {} → {}",
                outcome.category,
                outcome.path,
                &error[..error.len().min(300)]
            )),
            _ => {}
        }
        let lower = outcome.text.to_ascii_lowercase();
        let key = secret_file("encryption_key");
        if lower.contains("root:x:0:0")
            || lower.contains("set-cookie: evil")
            || lower.contains("[server]")
            || lower.contains(JWT_SECRET)
            || (!key.trim().is_empty() && outcome.text.contains(key.trim()))
        {
            leaks.push(format!(
                "{} {}: {}",
                outcome.category, outcome.path, outcome.text
            ));
        }
    }
    for (what, list) in [
        ("5xx answers", &server_errors),
        ("answers other than expected", &unexpected),
        (
            "requests that got no answer (connection reset or closed)",
            &unanswered,
        ),
        ("answers leaking a file or a secret", &leaks),
    ] {
        if !list.is_empty() {
            let shown: Vec<&String> = list.iter().take(25).collect();
            problems.push(format!(
                "{} {what}:\n  {}",
                list.len(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    let timeouts = outcomes.iter().filter(|o| o.status == Some(408)).count();
    if timeouts + unanswered.len() > 0 {
        problems.push(format!(
            "{timeouts} answers 408 (request head not read within 5 s) and {} unanswered \
             requests of 1000 ({:.0} s for the whole run): the HTTP workers stalled",
            unanswered.len(),
            took.as_secs_f64()
        ));
    }
    if slowest_heartbeat > Duration::from_secs(2) {
        problems.push(format!(
            "GET /healthz took up to {slowest_heartbeat:?} during the storm: the HTTP workers \
             were blocked (uploads are hashed, sealed, written and fsynced on them)"
        ));
    }
    if peak_kb >= MEMORY_LIMIT_KB {
        problems.push(format!(
            "server peak RSS (VmHWM) {} MB over {} MB",
            peak_kb / 1024,
            MEMORY_LIMIT_KB / 1024
        ));
    }

    let count_of = |category: &str, status: u16| {
        outcomes
            .iter()
            .filter(|o| o.category == category && o.status == Some(status))
            .count() as i64
    };
    let created = count_of("create", 201);
    let submitted = count_of("submit", 200);
    let registered = count_of("register", 202);
    let refused = |status: u16| {
        outcomes
            .iter()
            .filter(|o| {
                o.status == Some(status)
                    && o.path.starts_with("/api/v1/")
                    && !o.path.starts_with("/api/v1/auth/")
            })
            .count() as i64
    };

    // The audit trail counts what was answered.
    let own_reads = outcomes
        .iter()
        .filter(|o| o.category == "read" && o.status == Some(200) && o.path == reads[1])
        .count() as i64;
    let expected_audit = [
        ("request.create", created),
        ("request.submit", submitted),
        ("access.unauthenticated", refused(401)),
        ("access.forbidden", refused(403)),
        ("request.read", count_of("other-requester", 404) + own_reads),
    ];
    for (action, expected) in expected_audit {
        let written = audits(action).await - before[action];
        if written != expected {
            problems.push(format!(
                "{action}: {written} audit rows for {expected} answers"
            ));
        }
    }
    let rows = db.count("SELECT COUNT(*) AS n FROM requests").await - requests_before;
    if rows != created {
        problems.push(format!("{rows} requests stored for {created} answered 201"));
    }

    // Every e-mail the work queued goes out once: two per submission, one per registration.
    let queued = db.count("SELECT COUNT(*) AS n FROM outbox").await - outbox_before;
    if queued != submitted * 2 + registered {
        problems.push(format!(
            "{queued} e-mails queued for {submitted} submissions and {registered} registrations"
        ));
    }
    if !problems.is_empty() {
        // Shown now, in case the e-mail checks below fail first.
        eprintln!("problems so far:\n{}", problems.join("\n"));
    }
    drained(db, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_row_delivered_once(db, &sink).await;
    for mail in sink.mails() {
        if mail.to.iter().any(|to| to.contains("victim")) || !mail.header("Bcc").is_empty() {
            problems.push(format!("an injected recipient: {:?}", mail.to));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) under hostile load:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(
        api.send(api.get("/readyz", None)).await.status,
        200,
        "still serving"
    );
}
