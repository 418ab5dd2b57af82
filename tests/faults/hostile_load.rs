//! A thousand concurrent requests, mostly malformed, oversized or hostile, mixed with real
//! work: no 5xx, memory bounded, every e-mail the real work queued delivered once, and the
//! audit trail counting exactly what was answered.
//!
//! The mix is a table of probes ([`PROBES`]: what each kind of request is, how many of it, what
//! it may get), fired in a shuffled order on a connection each; what they left is then put to a
//! set of checks ([`CHECKS`]), every failure reported together.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::on_both_backends;
use crate::rig::process::{Deployment, JWT_SECRET};
use crate::rig::workflow::{assert_each_row_delivered_once, cast, draft, drained, login};
use crate::support::api::{Answer, Api, Call};
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::forms::{registration, request_form};
use crate::support::smtp::{ReceivedMail, SmtpSink};
use crate::support::tokens::Forge;

on_both_backends!(a_thousand_mixed_hostile_requests_get_no_5xx_and_lose_nothing);

const MEMORY_LIMIT_KB: u64 = 300 * 1024;

// ---------------------------------------------------------------- the probes

/// What the probes are made from: a client opening a connection per request, the accounts,
/// the drafts prepared for the storm, and tokens a client should never get through with.
struct Mix {
    api: Api,
    requester: String,
    coordinator: String,
    /// Another requester, who must see nothing of the first one's requests.
    other: String,
    /// Drafts to submit during the storm.
    drafts: Vec<String>,
    /// A draft to upload attachments into.
    upload_target: String,
    bad_tokens: Vec<String>,
}

impl Mix {
    /// The path of the request that `read` probes read among others (audited as a read).
    fn own_request(&self) -> String {
        format!("/api/v1/requests/{}", self.drafts[1])
    }
}

/// What a probe sends.
enum Send {
    Http(Box<reqwest::Request>),
    /// Bytes written as they are on a new connection (what no HTTP client would send).
    Raw(Vec<u8>),
}

impl From<Call> for Send {
    fn from(call: Call) -> Send {
        Send::Http(Box::new(call.builder().build().expect("a request to send")))
    }
}

/// A kind of request of the mix.
struct Probe {
    name: &'static str,
    /// How many of them the mix has.
    count: usize,
    /// The `i`-th of them.
    make: fn(&Mix, usize) -> Send,
    /// The answers they may get.
    expect: &'static [u16],
    /// The server may close the connection instead of answering (a body or head far over the
    /// limits is refused while the client is still sending).
    may_close: bool,
}

const fn probe(
    name: &'static str,
    count: usize,
    make: fn(&Mix, usize) -> Send,
    expect: &'static [u16],
) -> Probe {
    Probe {
        name,
        count,
        make,
        expect,
        may_close: false,
    }
}

impl Probe {
    /// The server may close the connection instead of answering.
    const fn or_closed(self) -> Probe {
        Probe {
            may_close: true,
            ..self
        }
    }
}

/// The mix: what each kind of request is, how many of it, how each is made, the answers it may
/// get (and whether the server may close the connection instead).
const PROBES: &[Probe] = &[
    probe("create", 150, create, &[201]),
    probe("submit", 120, submit, &[200, 409]),
    probe("register", 40, register, &[202]),
    probe("register-crlf", 20, register_crlf, &[422]),
    probe("bad-json", 60, bad_json, &[400, 422]),
    probe("deep", 40, deep, &[400, 422]),
    probe("huge-field", 20, huge_field, &[422]),
    probe("huge-body", 15, huge_body, &[413]),
    probe("huge-body-8mib", 5, huge_body_8mib, &[413]).or_closed(),
    probe("content-type", 60, content_type, &[400, 415]),
    probe("bad-token", 100, bad_token, &[401]),
    probe("unknown-id", 80, unknown_id, &[404]),
    probe("other-requester", 30, other_requester, &[404]),
    probe("forbidden", 40, forbidden, &[403]),
    probe("query", 40, query, &[200, 400, 422]),
    probe("method", 30, method, &[405]),
    probe("huge-header", 10, huge_header, &[431]).or_closed(),
    probe("oversized-upload", 4, oversized_upload, &[413]).or_closed(),
    probe("upload", 6, upload, &[201]),
    probe("read", 70, read, &[200]),
    probe("traversal", 40, traversal, &[400, 404]),
    probe("header-injection", 20, header_injection, &[200, 400]),
];

/// Answers that are not problem+json by nature: a raw head refused by the HTTP layer, a path
/// outside the API.
const NOT_PROBLEM_JSON: [&str; 3] = ["header-injection", "huge-header", "traversal"];

/// Real work, with what would end a header or an SMTP session in its text.
fn create(m: &Mix, i: usize) -> Send {
    let mut form = request_form(&format!("load-{i}"));
    form["question"] =
        json!("First line\r\nBcc: victim@example.org\r\n\r\n.\r\nQUIT\r\n<script>x</script>");
    m.api.create_request(form, &m.requester).into()
}

/// Each draft submitted, the first twenty twice.
fn submit(m: &Mix, i: usize) -> Send {
    m.api
        .submit(&m.drafts[i % m.drafts.len()], &m.requester)
        .into()
}

fn register(m: &Mix, i: usize) -> Send {
    let form = registration(&format!("load{i}@chu-lille.fr"), &rpps(700 + i as u32));
    m.api.register(form).into()
}

/// A header injection in the name or in the address.
fn register_crlf(m: &Mix, i: usize) -> Send {
    let (email, name) = if i.is_multiple_of(2) {
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
    let mut form = registration(&email, &rpps(800 + i as u32));
    form["full_name"] = json!(name);
    m.api.register(form).into()
}

/// A body sent as JSON to the creation of a request.
fn raw_json(m: &Mix, body: impl Into<reqwest::Body>) -> Call {
    m.api
        .request(Method::POST, "/api/v1/requests", Some(&m.requester))
        .header("content-type", "application/json")
        .body(body)
}

fn bad_json(m: &Mix, i: usize) -> Send {
    let bad_json: [&[u8]; 6] = [
        b"{\"topic\": ",
        b"not json at all",
        b"{\"topic\": \"diagnosis\",}",
        b"",
        b"\xff\xfe{\"topic\": 1}",
        b"{\"topic\": \"diagnosis\"} trailing",
    ];
    raw_json(m, bad_json[i % bad_json.len()].to_vec()).into()
}

fn deep(m: &Mix, i: usize) -> Send {
    let body = if i.is_multiple_of(2) {
        format!("{}{}", "[".repeat(5000), "]".repeat(5000))
    } else {
        format!(
            r#"{{"patient": {}1{}}}"#,
            r#"{"a": "#.repeat(40),
            "}".repeat(40)
        )
    };
    raw_json(m, body).into()
}

fn huge_field(m: &Mix, _: usize) -> Send {
    raw_json(m, json!({"question": "y".repeat(20_001)}).to_string()).into()
}

fn huge_body(m: &Mix, _: usize) -> Send {
    raw_json(m, format!(r#"{{"question": "{}"}}"#, "x".repeat(200_000))).into()
}

fn huge_body_8mib(m: &Mix, _: usize) -> Send {
    let body = format!(r#"{{"question": "{}"}}"#, "z".repeat(8 * 1024 * 1024));
    raw_json(m, body).into()
}

/// A complete form under another content type, or none.
fn content_type(m: &Mix, i: usize) -> Send {
    let content_types = [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=xyz"),
        Some("application/json-patch+jsonx"),
        None,
    ];
    let call = m
        .api
        .request(Method::POST, "/api/v1/requests", Some(&m.requester))
        .body(request_form("wrong-type").to_string());
    match content_types[i % content_types.len()] {
        Some(content_type) => call.header("content-type", content_type),
        None => call,
    }
    .into()
}

fn bad_token(m: &Mix, i: usize) -> Send {
    let token = &m.bad_tokens[i % m.bad_tokens.len()];
    let call = match i % 3 {
        0 => m.api.get("/api/v1/requests", None),
        1 => m
            .api
            .post("/api/v1/requests", None, request_form("bad-token")),
        _ => m.api.me(None),
    };
    let authorization = if i % 10 == 9 {
        format!("Basic {token}")
    } else if token.contains('\u{0}') {
        "Bearer ".to_owned()
    } else {
        format!("Bearer {token}")
    };
    call.header("authorization", authorization).into()
}

fn unknown_id(m: &Mix, i: usize) -> Send {
    let unknown = uuid::Uuid::new_v4().to_string();
    match i % 5 {
        0 => m.api.get_request(&unknown, &m.requester),
        1 => m.api.get_opinion(&unknown, &m.requester),
        2 => m.api.submit(&unknown, &m.requester),
        3 => m.api.agenda(&unknown, &m.coordinator),
        _ => m.api.get(
            "/api/v1/requests/%27%20OR%20%271%27%3D%271",
            Some(&m.requester),
        ),
    }
    .into()
}

fn other_requester(m: &Mix, i: usize) -> Send {
    m.api.get_request(&m.drafts[i], &m.other).into()
}

/// Calls of a role the caller does not have.
fn forbidden(m: &Mix, i: usize) -> Send {
    match i % 4 {
        0 => m.api.schedule(&m.drafts[0], "x", &m.requester),
        1 => m
            .api
            .create_request(json!({"meeting_id": "x"}), &m.coordinator),
        2 => m.api.get("/api/v1/admin/outbox", Some(&m.requester)),
        _ => m.api.get("/api/v1/admin/audit", Some(&m.coordinator)),
    }
    .into()
}

fn query(m: &Mix, i: usize) -> Send {
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
    m.api
        .get(queries[i % queries.len()], Some(&m.requester))
        .into()
}

fn method(m: &Mix, i: usize) -> Send {
    let (method, path) = match i % 3 {
        0 => (Method::DELETE, "/api/v1/requests"),
        1 => (Method::PUT, "/healthz"),
        _ => (Method::TRACE, "/healthz"),
    };
    m.api.request(method, path, Some(&m.requester)).into()
}

fn huge_header(m: &Mix, _: usize) -> Send {
    m.api
        .get("/healthz", None)
        .header("x-padding", "z".repeat(256 * 1024))
        .into()
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

/// A multipart body of one file to the draft made for uploads.
fn upload_of(m: &Mix, body: Vec<u8>) -> Send {
    let path = format!("/api/v1/requests/{}/attachments", m.upload_target);
    m.api
        .request(Method::POST, &path, Some(&m.requester))
        .header("content-type", "multipart/form-data; boundary=B0undary")
        .body(body)
        .into()
}

fn oversized_upload(m: &Mix, _: usize) -> Send {
    let content = [b"%PDF-1.7\n".as_slice(), &vec![b'0'; 21 * 1024 * 1024]].concat();
    upload_of(m, multipart("B0undary", "big.pdf", &content))
}

/// A genuine PDF under a name that climbs out of the storage directory.
fn upload(m: &Mix, i: usize) -> Send {
    let body = multipart(
        "B0undary",
        &format!("../../../etc/passwd{i}.pdf"),
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF",
    );
    upload_of(m, body)
}

fn read(m: &Mix, i: usize) -> Send {
    let reads = [
        "/api/v1/requests".to_owned(),
        m.own_request(),
        "/api/v1/sites?departement=2A".to_owned(),
        "/readyz".to_owned(),
        "/api/v1/me".to_owned(),
    ];
    m.api
        .get(&reads[i % reads.len()], Some(&m.requester))
        .into()
}

/// Traversal that a URL library would normalise away.
fn traversal(m: &Mix, i: usize) -> Send {
    let target = &m.upload_target;
    let paths = [
        "/api/v1/requests/../../../../etc/passwd".to_owned(),
        "/docs/../../../../etc/passwd".to_owned(),
        "/docs/..%2f..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/docs/%2e%2e/%2e%2e/config/default.toml".to_owned(),
        format!("/api/v1/requests/{target}/attachments/..%2f..%2fencryption_key"),
        format!("/api/v1/requests/{target}/attachments/../../../storage/jwt_secret"),
        "/api/v1/requests/..%5c..%5c..%5cwindows%5cwin.ini".to_owned(),
    ];
    let path = &paths[i % paths.len()];
    Send::Raw(
        format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            m.requester
        )
        .into_bytes(),
    )
}

fn header_injection(_: &Mix, i: usize) -> Send {
    let tricks: [&[u8]; 4] = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\rSet-Cookie: evil=1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc%0d%0aSet-Cookie:%20evil=1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\x00b\r\nConnection: close\r\n\r\n",
        b"GET /healthz\r\nSet-Cookie: evil=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    Send::Raw(tricks[i % tricks.len()].to_vec())
}

/// Tokens a client should never get through with.
fn bad_tokens(requester: &str, requester_id: &str) -> Vec<String> {
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
    let genuine = Forge::new(JWT_SECRET.as_bytes(), "consilium");
    let foreign = Forge::new(b"another-secret-entirely-0123456789abc", "consilium");
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, typ: &str| {
        let mut claims = genuine.claims(requester_id, exp);
        claims.typ = typ.into();
        claims.amr = vec!["pwd".into(), "otp".into()];
        claims
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
            engine.encode(serde_json::to_string(&claims(now + 600, "access")).unwrap())
        )
    };
    vec![
        "garbage".into(),
        "a.b.c".into(),
        tampered,
        alg_none,
        foreign.access(requester_id, &["pwd"]),
        genuine.sign(&claims(now - 3600, "access")),
        genuine.sign(&claims(now + 600, "refresh")),
        genuine.access(&uuid::Uuid::now_v7().to_string(), &["pwd"]),
        format!("{requester}\u{0}"),
        "x".repeat(8000),
    ]
}

/// Every probe of the table, shuffled by a small deterministic generator (so a failing mix
/// can be replayed).
fn shuffled_mix(mix: &Mix) -> Vec<(&'static Probe, Send)> {
    let mut probes: Vec<(&'static Probe, Send)> = PROBES
        .iter()
        .flat_map(|probe| (0..probe.count).map(move |i| (probe, (probe.make)(mix, i))))
        .collect();
    assert_eq!(probes.len(), 1000);
    let mut state: u64 = 0x5eed_fa17;
    for i in (1..probes.len()).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        probes.swap(i, j);
    }
    probes
}

// ---------------------------------------------------------------- firing

/// What one probe got.
#[derive(Debug)]
struct Outcome {
    name: &'static str,
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

async fn fire(api: Api, port: u16, probe: &'static Probe, send: Send) -> Outcome {
    let (path, result) = match send {
        Send::Http(request) => {
            let path = request.url().path().to_owned();
            let answer = api.execute(*request).await;
            let result = answer
                .map(|a: Answer| (a.status, a.content_type(), a.text))
                .map_err(|e| format!("{e:?}"));
            (path, result)
        }
        Send::Raw(bytes) => (raw_path(&bytes), raw_exchange(port, bytes).await),
    };
    let (status, content_type, text, error) = match result {
        Ok((status, content_type, text)) => (Some(status), content_type, text, None),
        Err(error) => (None, String::new(), String::new(), Some(error)),
    };
    Outcome {
        name: probe.name,
        path,
        status,
        content_type,
        text,
        error,
        expect: probe.expect,
        may_close: probe.may_close,
    }
}

/// A cheap request every 100 ms on a fresh connection while `beating`, to see whether the
/// HTTP workers keep serving during the storm: answers the slowest (`MAX` if one failed).
async fn heartbeat(api: Api, beating: Arc<std::sync::atomic::AtomicBool>) -> Duration {
    let mut slowest = Duration::ZERO;
    while beating.load(std::sync::atomic::Ordering::SeqCst) {
        let sent = Instant::now();
        let answered = api
            .get("/healthz", None)
            .try_send()
            .await
            .is_ok_and(|a| a.status == 200);
        let took = if answered {
            sent.elapsed()
        } else {
            Duration::MAX
        };
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    slowest
}

// ---------------------------------------------------------------- the checks

/// The audit actions whose rows the storm must account for.
const AUDITED: [&str; 5] = [
    "request.create",
    "request.submit",
    "access.unauthenticated",
    "access.forbidden",
    "request.read",
];

/// What the storm left, for the checks.
struct Storm {
    outcomes: Vec<Outcome>,
    took: Duration,
    slowest_heartbeat: Duration,
    peak_kb: u64,
    /// The path `read` probes read among others, audited as a read.
    own_request: String,
    /// Rows written during the storm: audit rows per action of [`AUDITED`], requests, outbox.
    audited: HashMap<&'static str, i64>,
    requests: i64,
    queued: i64,
    /// The storage's encryption key, which no answer may ever contain (nor the signing secret).
    encryption_key: String,
}

impl Storm {
    fn count(&self, name: &str, status: u16) -> i64 {
        self.outcomes
            .iter()
            .filter(|o| o.name == name && o.status == Some(status))
            .count() as i64
    }

    /// Answers of `status` on the API outside of authentication (those are audited as refused).
    fn refused(&self, status: u16) -> i64 {
        self.outcomes
            .iter()
            .filter(|o| {
                o.status == Some(status)
                    && o.path.starts_with("/api/v1/")
                    && !o.path.starts_with("/api/v1/auth/")
            })
            .count() as i64
    }

    /// Each outcome `describe` has something to say about.
    fn each(&self, describe: impl Fn(&Outcome, &str) -> Option<String>) -> Vec<String> {
        self.outcomes
            .iter()
            .filter_map(|o| describe(o, &o.text[..o.text.len().min(200)]))
            .collect()
    }
}

/// A check of what the storm left: what it found wrong, one line each.
type Check = fn(&Storm) -> Vec<String>;

const CHECKS: &[(&str, Check)] = &[
    ("5xx answers", server_errors),
    ("answers other than expected", unexpected_answers),
    ("error answers not problem+json", not_problem_json),
    (
        "requests that got no answer (connection reset or closed)",
        unanswered,
    ),
    ("answers leaking a file or a secret", leaks),
    ("stalled HTTP workers", stalls),
    ("blocked HTTP workers", slow_heartbeat),
    ("memory over the limit", memory),
    ("audit rows not counting what was answered", audit_trail),
    ("requests stored not matching the answers", requests_stored),
    ("e-mails queued not matching the work", mails_queued),
];

fn server_errors(storm: &Storm) -> Vec<String> {
    storm.each(|o, head| {
        let status = o.status.filter(|s| *s >= 500)?;
        Some(format!("{} {} → {status} {head}", o.name, o.path))
    })
}

fn unexpected_answers(storm: &Storm) -> Vec<String> {
    storm.each(|o, head| {
        let status = o.status.filter(|s| *s < 500 && !o.expect.contains(s))?;
        Some(format!(
            "{} {} → {status} (expected {:?}) {head}",
            o.name, o.path, o.expect
        ))
    })
}

fn not_problem_json(storm: &Storm) -> Vec<String> {
    storm.each(|o, _| {
        let status = o
            .status
            .filter(|s| (400..500).contains(s) && o.expect.contains(s))?;
        (!o.content_type.starts_with("application/problem+json")
            && !NOT_PROBLEM_JSON.contains(&o.name))
        .then(|| {
            format!(
                "{} {} → {status} not problem+json ({})",
                o.name, o.path, o.content_type
            )
        })
    })
}

fn unanswered(storm: &Storm) -> Vec<String> {
    storm.each(|o, _| {
        let error = o.error.as_ref().filter(|_| !o.may_close)?;
        Some(format!(
            "{} {} → {}",
            o.name,
            o.path,
            &error[..error.len().min(300)]
        ))
    })
}

fn leaks(storm: &Storm) -> Vec<String> {
    storm.each(|o, _| {
        let lower = o.text.to_ascii_lowercase();
        let leaked = lower.contains("root:x:0:0")
            || lower.contains("set-cookie: evil")
            || lower.contains("[server]")
            || lower.contains(JWT_SECRET)
            || (!storm.encryption_key.is_empty() && o.text.contains(&storm.encryption_key));
        leaked.then(|| format!("{} {}: {}", o.name, o.path, o.text))
    })
}

fn stalls(storm: &Storm) -> Vec<String> {
    let timeouts = storm
        .outcomes
        .iter()
        .filter(|o| o.status == Some(408))
        .count();
    let unanswered = unanswered(storm).len();
    (timeouts + unanswered > 0)
        .then(|| {
            format!(
                "{timeouts} answers 408 (request head not read within 5 s) and {unanswered} \
                 unanswered requests of 1000 ({:.0} s for the whole run): the HTTP workers stalled",
                storm.took.as_secs_f64()
            )
        })
        .into_iter()
        .collect()
}

fn slow_heartbeat(storm: &Storm) -> Vec<String> {
    let slowest = storm.slowest_heartbeat;
    (slowest > Duration::from_secs(2))
        .then(|| {
            format!(
                "GET /healthz took up to {slowest:?} during the storm: the HTTP workers \
                 were blocked (uploads are hashed, sealed, written and fsynced on them)"
            )
        })
        .into_iter()
        .collect()
}

fn memory(storm: &Storm) -> Vec<String> {
    (storm.peak_kb >= MEMORY_LIMIT_KB)
        .then(|| {
            format!(
                "server peak RSS (VmHWM) {} MB over {} MB",
                storm.peak_kb / 1024,
                MEMORY_LIMIT_KB / 1024
            )
        })
        .into_iter()
        .collect()
}

/// The audit trail counts what was answered.
fn audit_trail(storm: &Storm) -> Vec<String> {
    let own_reads = storm
        .outcomes
        .iter()
        .filter(|o| o.name == "read" && o.status == Some(200) && o.path == storm.own_request)
        .count() as i64;
    let expected = [
        ("request.create", storm.count("create", 201)),
        ("request.submit", storm.count("submit", 200)),
        ("access.unauthenticated", storm.refused(401)),
        ("access.forbidden", storm.refused(403)),
        (
            "request.read",
            storm.count("other-requester", 404) + own_reads,
        ),
    ];
    expected
        .into_iter()
        .filter(|(action, expected)| storm.audited[action] != *expected)
        .map(|(action, expected)| {
            let written = storm.audited[action];
            format!("{action}: {written} audit rows for {expected} answers")
        })
        .collect()
}

fn requests_stored(storm: &Storm) -> Vec<String> {
    let created = storm.count("create", 201);
    (storm.requests != created)
        .then(|| {
            format!(
                "{} requests stored for {created} answered 201",
                storm.requests
            )
        })
        .into_iter()
        .collect()
}

/// Every e-mail the work queued: two per submission, one per registration.
fn mails_queued(storm: &Storm) -> Vec<String> {
    let (submitted, registered) = (storm.count("submit", 200), storm.count("register", 202));
    (storm.queued != submitted * 2 + registered)
        .then(|| {
            format!(
                "{} e-mails queued for {submitted} submissions and {registered} registrations",
                storm.queued
            )
        })
        .into_iter()
        .collect()
}

/// No message went anywhere an injected header asked.
fn injected_recipients(mails: &[ReceivedMail]) -> Vec<String> {
    mails
        .iter()
        .filter(|mail| {
            mail.to.iter().any(|to| to.contains("victim")) || !mail.header("Bcc").is_empty()
        })
        .map(|mail| format!("an injected recipient: {:?}", mail.to))
        .collect()
}

/// `findings` of the check `what` as one problem, the first 25 shown.
fn problem(what: &str, findings: &[String]) -> String {
    let shown: Vec<&str> = findings.iter().take(25).map(String::as_str).collect();
    format!("{} {what}:\n  {}", findings.len(), shown.join("\n  "))
}

// ---------------------------------------------------------------- the test

async fn a_thousand_mixed_hostile_requests_get_no_5xx_and_lose_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let server = deployment.serve().await;
    let port = server.port.unwrap();
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    deployment
        .add_user("other@chu-lyon.fr", &rpps(510), &["requester"])
        .await;
    let other = login(&api, &deployment, "other@chu-lyon.fr").await;
    let requester_id = api.me(Some(&cast.requester)).await.id();
    assert!(!requester_id.is_empty());

    // Real work prepared: drafts to submit during the storm, one to upload into.
    let mut drafts = Vec::new();
    for i in 0..100 {
        drafts.push(draft(&api, &cast.requester, &format!("draft-{i}")).await);
    }
    let upload_target = draft(&api, &cast.requester, "uploads").await;
    drained(db, Duration::from_secs(20)).await;

    // The mix, each request on a connection of its own (as hostile clients do; keep-alive
    // reuse is exercised by every other test).
    let mix = Mix {
        api: Api::fresh_connections(port),
        bad_tokens: bad_tokens(&cast.requester, &requester_id),
        requester: cast.requester,
        coordinator: cast.coordinator,
        other,
        drafts,
        upload_target,
    };
    let probes = shuffled_mix(&mix);

    let audits = |action: &'static str| async move {
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"
        ))
        .await
    };
    let mut audited_before = HashMap::new();
    for action in AUDITED {
        audited_before.insert(action, audits(action).await);
    }
    let outbox_before = db.count("SELECT COUNT(*) AS n FROM outbox").await;
    let requests_before = db.count("SELECT COUNT(*) AS n FROM requests").await;

    let beating = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let heartbeat = tokio::spawn(heartbeat(mix.api.clone(), beating.clone()));
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(50));
    let mut running = JoinSet::new();
    for (probe, send) in probes {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let api = mix.api.clone();
        running.spawn(async move {
            let outcome = fire(api, port, probe, send).await;
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
        *table.entry((outcome.name, answer)).or_default() += 1;
    }
    eprintln!("{table:?}");

    let mut audited = HashMap::new();
    for action in AUDITED {
        audited.insert(action, audits(action).await - audited_before[action]);
    }
    let key = std::fs::read_to_string(deployment.dir.path().join("storage/encryption_key"))
        .unwrap_or_default();
    let storm = Storm {
        outcomes,
        took,
        slowest_heartbeat,
        peak_kb,
        own_request: mix.own_request(),
        audited,
        requests: db.count("SELECT COUNT(*) AS n FROM requests").await - requests_before,
        queued: db.count("SELECT COUNT(*) AS n FROM outbox").await - outbox_before,
        encryption_key: key.trim().to_owned(),
    };

    // Every check is made, and every failure reported together.
    let mut problems: Vec<String> = CHECKS
        .iter()
        .filter_map(|(what, check)| {
            let findings = check(&storm);
            (!findings.is_empty()).then(|| problem(what, &findings))
        })
        .collect();
    if !problems.is_empty() {
        // Shown now, in case the e-mail checks below fail first.
        eprintln!("problems so far:\n{}", problems.join("\n"));
    }
    drained(db, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_row_delivered_once(db, &sink).await;
    problems.extend(injected_recipients(&sink.mails()));
    assert!(
        problems.is_empty(),
        "{} problem(s) under hostile load:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(api.get("/readyz", None).await.status, 200, "still serving");
}
