//! Probes, docs, errors as problem+json, correlation ids and headers.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::rpps;

on_both_backends!(
    probes_answer,
    errors_are_problem_json,
    request_ids_are_echoed_or_generated,
    docs_are_served_offline,
    readyz_is_503_while_the_database_is_unreachable,
    metrics_are_exposed_for_prometheus,
);

async fn metrics_are_exposed_for_prometheus(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("m@chu.fr", &rpps(490)).await;
    let token = pair["access_token"].as_str().unwrap();
    let missing = uuid::Uuid::now_v7();
    assert_eq!(
        app.get(&format!("/api/v1/requests/{missing}"), Some(token))
            .await
            .status,
        404
    );
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"consilium_http_requests_total{method="GET",route="/api/v1/requests/{id}",status="404"}"#,
        r#"consilium_http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/login",status="200",le="0.1"}"#,
        r#"consilium_db_pool_connections{state="in_use"}"#,
        r#"consilium_db_pool_connections{state="max"} 10"#,
        r#"consilium_outbox_messages{status="sent"}"#,
        r#"consilium_outbox_messages{status="pending"}"#,
        "consilium_outbox_oldest_pending_age_seconds",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    assert!(
        !text.contains(&missing.to_string()),
        "ids never become labels"
    );
}

async fn probes_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
}

async fn errors_are_problem_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let unknown = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type").unwrap(),
        "application/problem+json"
    );
    assert_eq!(unknown.body["status"], 404);

    let wrong_method = app
        .request(Method::DELETE, "/api/v1/auth/login", None)
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow").unwrap(), "POST");
    assert_eq!(
        wrong_method.header("content-type").unwrap(),
        "application/problem+json"
    );

    let malformed = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["type"], "/problems/bad-request");

    let not_json = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("content-type", "text/plain")
        .body("hello")
        .await;
    assert_eq!(not_json.status, 415);

    let huge = "x".repeat(app.settings.server.json_limit_bytes + 10);
    let too_large = app.login(&huge, "x").await;
    assert_eq!(too_large.status, 413);
    assert_eq!(
        too_large.header("content-type").unwrap(),
        "application/problem+json"
    );

    let wrong_type = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": 42, "password": "x"}),
        )
        .await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(wrong_type.invalid_fields(), vec!["email"]);

    let trace = app.request(Method::TRACE, "/healthz", None).await;
    assert_eq!(trace.status, 405);
}

async fn request_ids_are_echoed_or_generated(backend: Backend) {
    let app = spawn_app(backend).await;
    let echoed = app
        .get("/healthz", None)
        .header("x-request-id", "abc-123")
        .await;
    assert_eq!(echoed.header("x-request-id").unwrap(), "abc-123");
    let generated = app.get("/healthz", None).await;
    assert_eq!(generated.header("x-request-id").unwrap().len(), 36);
    let hostile = app
        .get("/healthz", None)
        .header("x-request-id", "a b\"<script>")
        .await;
    assert_ne!(hostile.header("x-request-id").unwrap(), "a b\"<script>");
    assert_eq!(generated.header("cache-control").unwrap(), "no-store");
    assert_eq!(
        generated.header("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(generated.header("referrer-policy").unwrap(), "no-referrer");
}

async fn docs_are_served_offline(backend: Backend) {
    let app = spawn_app(backend).await;
    let openapi = app.get("/openapi.json", None).await;
    assert_eq!(openapi.status, 200);
    assert_eq!(openapi.body["info"]["title"], "Consilium API");
    assert!(openapi.body["paths"]["/api/v1/auth/register"]["post"].is_object());

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("content-security-policy").is_some());
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet comes from the binary itself, not from the internet.
    assert!(
        !html.contains("https://"),
        "the docs page must not load anything remote"
    );
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
}

async fn readyz_is_503_while_the_database_is_unreachable(backend: Backend) {
    let Backend::Postgres(server) = backend.clone() else {
        // An embedded SQLite file cannot become unreachable while the process holds it open.
        return;
    };
    let app = spawn_app(backend).await;
    let name = app.database.postgres_name().unwrap().to_owned();
    let admin = |sql: String| {
        let server = server.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                use diesel::Connection;
                use diesel::connection::SimpleConnection;
                diesel::PgConnection::establish(&server)
                    .unwrap()
                    .batch_execute(&sql)
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    admin(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid();"
    ))
    .await;
    let down = app.get("/readyz", None).await;
    assert_eq!(down.status, 503);
    assert_eq!(
        down.header("content-type").unwrap(),
        "application/problem+json"
    );
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let login = app.login("a@chu.fr", "whatever-pass").await;
    assert_eq!(
        login.status, 503,
        "a database fault is a 503, never a 500: {:?}",
        login.body
    );

    admin(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    assert_eq!(
        app.get("/readyz", None).await.status,
        200,
        "the service recovers on its own"
    );
}
