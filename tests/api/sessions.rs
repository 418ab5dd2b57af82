//! Sign-in, tokens, refresh rotation, logout, throttling, roles and disabled accounts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::{TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, rpps};
use crate::support::tokens::Forge;

on_both_backends!(
    concurrent_failures_are_all_counted_and_all_refused_alike,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_revokes_the_session,
    bad_tokens_are_refused,
    roles_are_read_on_every_request,
    a_disabled_user_is_refused_at_once,
    failed_logins_are_throttled_per_account_and_address,
    admin_endpoints_need_the_admin_role,
);

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.register_and_login("r@chu.fr", &rpps(20)).await;
    let second = app.refresh(&first["refresh_token"]).await;
    assert_eq!(second.status, 200);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    assert_eq!(
        app.me(second.body["access_token"].as_str()).await.status,
        200
    );

    // The first token is spent: presenting it again is a theft signal.
    let reuse = app.refresh(&first["refresh_token"]).await;
    assert_eq!(reuse.status, 401);
    let revoked = app.refresh(&second.body["refresh_token"]).await;
    assert_eq!(revoked.status, 401, "the whole family is revoked");

    // Another session of the same user is untouched.
    let other = app.sign_in("r@chu.fr", PASSWORD).await;
    let refreshed = app.refresh(&other["refresh_token"]).await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(app.refresh("made-up").await.status, 401);
    let stored = app
        .count("SELECT COUNT(*) AS n FROM refresh_tokens WHERE token_hash LIKE '%-%'")
        .await;
    assert_eq!(stored, 0, "only hex hashes are stored, never the tokens");
}

async fn logout_revokes_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("l@chu.fr", &rpps(21)).await;
    let access = pair["access_token"].as_str();
    let unauthenticated = app.logout(&pair["refresh_token"], None).await;
    assert_eq!(unauthenticated.status, 401);
    let answer = app.logout(&pair["refresh_token"], access).await;
    assert_eq!(answer.status, 204);
    let refresh = app.refresh(&pair["refresh_token"]).await;
    assert_eq!(refresh.status, 401);
}

async fn bad_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("t@chu.fr", &rpps(22)).await;
    let good = pair["access_token"].as_str().unwrap();
    let me = app.me(Some(good)).await;
    let user_id = me.body["id"].as_str().unwrap().to_owned();
    let secret = app
        .settings
        .auth
        .jwt_secret
        .expose_secret()
        .as_bytes()
        .to_vec();
    let forge = Forge::new(&secret, &app.settings.auth.issuer);
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| forge.claims(&user_id, exp);
    // Tokens signed with the right secret but a header trick: no kid, an unknown kid, a key
    // or key URL of the attacker's, another algorithm.
    let kid = jsonwebtoken::decode_header(good).unwrap().kid.unwrap();
    let signed_with = |header: jsonwebtoken::Header| {
        jsonwebtoken::encode(
            &header,
            &claims(now + 600),
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap()
    };
    let mut header_tricks = Vec::new();
    let mut plain = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header_tricks.push(("no kid", signed_with(plain.clone())));
    plain.kid = Some("attacker-key".into());
    header_tricks.push(("unknown kid", signed_with(plain.clone())));
    plain.kid = Some(kid.clone());
    assert_eq!(
        app.me(Some(&signed_with(plain.clone()))).await.status,
        200,
        "the genuine header is accepted"
    );
    let mut jku = plain.clone();
    jku.jku = Some("https://evil.example/jwks.json".into());
    header_tricks.push(("jku", signed_with(jku)));
    let mut x5u = plain.clone();
    x5u.x5u = Some("https://evil.example/cert.pem".into());
    header_tricks.push(("x5u", signed_with(x5u)));
    let mut jwk = plain.clone();
    jwk.jwk = Some(
        serde_json::from_value(json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(&secret)}))
            .unwrap(),
    );
    header_tricks.push(("jwk", signed_with(jwk)));
    let mut hs512 = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512);
    hs512.kid = Some(kid);
    header_tricks.push(("HS512", signed_with(hs512)));
    for (case, token) in &header_tricks {
        let answer = app.me(Some(token)).await;
        assert_eq!(answer.status, 401, "{case}");
    }
    // A token is never taken from the URL.
    for query in ["access_token", "token", "jwt"] {
        let answer = app.get(&format!("/api/v1/me?{query}={good}"), None).await;
        assert_eq!(answer.status, 401, "{query}");
    }
    let expired = forge.sign(&claims(now - 60));
    let wrong_key = Forge::new(
        b"another-secret-another-secret-another",
        &app.settings.auth.issuer,
    )
    .sign(&claims(now + 600));
    let parts: Vec<&str> = good.split('.').collect();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let mut forged = claims(now + 600);
    forged.sub = "someone-else".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()),
        parts[2]
    );
    let refresh_as_access = pair["refresh_token"].as_str().unwrap().to_owned();
    for (case, token) in [
        ("expired", expired.as_str()),
        ("wrong key", wrong_key.as_str()),
        ("alg none", alg_none.as_str()),
        ("tampered", tampered.as_str()),
        ("refresh token", refresh_as_access.as_str()),
        ("garbage", "abc.def.ghi"),
    ] {
        let answer = app.me(Some(token)).await;
        assert_eq!(answer.status, 401, "{case}");
        assert_eq!(
            answer.header("content-type").unwrap(),
            "application/problem+json",
            "{case}"
        );
    }
    assert_eq!(app.me(None).await.status, 401);
    let in_url = app
        .get(&format!("/api/v1/me?access_token={good}"), None)
        .await;
    assert_eq!(in_url.status, 401, "a token in the URL is never accepted");
}

async fn roles_are_read_on_every_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = app
        .user_with_roles("admin@chu.fr", &rpps(23), &["admin"])
        .await;
    let pair = app.register_and_login("doc@chu.fr", &rpps(24)).await;
    let token = pair["access_token"].as_str();
    let id = app.me(token).await.body["id"].as_str().unwrap().to_owned();

    let granted = app
        .set_roles(&id, &["requester", "coordinator"], &admin)
        .await;
    assert_eq!(granted.status, 200);
    assert_eq!(
        app.me(token).await.body["roles"],
        json!(["requester", "coordinator"])
    );

    let removed = app.set_roles(&id, &["requester"], &admin).await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        app.me(token).await.body["roles"],
        json!(["requester"]),
        "the same token no longer grants the removed role"
    );
    let bad_role = app.set_roles(&id, &["root"], &admin).await;
    assert_eq!(bad_role.status, 422);
    let audit = app
        .get(
            &format!("/api/v1/admin/audit?entity_id={id}&action=role.set"),
            Some(&admin),
        )
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
}

async fn a_disabled_user_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = app
        .user_with_roles("admin@chu.fr", &rpps(25), &["admin"])
        .await;
    let pair = app.register_and_login("gone@chu.fr", &rpps(26)).await;
    let token = pair["access_token"].as_str();
    let id = app.me(token).await.body["id"].as_str().unwrap().to_owned();
    let disabled = app
        .update_user(&id, json!({"status": "disabled"}), &admin)
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(disabled.body["status"], "disabled");
    assert_eq!(
        app.me(token).await.status,
        401,
        "the live access token stops working"
    );
    assert_eq!(app.refresh(&pair["refresh_token"]).await.status, 401);
    let login = app.login("gone@chu.fr", PASSWORD).await;
    assert_eq!(login.status, 401);
}

async fn failed_logins_are_throttled_per_account_and_address(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| {
                s.auth.login_max_failures_per_account = 3;
                s.auth.login_max_failures_per_address = 6;
                s.auth.login_lockout_seconds = 2;
            }),
            ..Default::default()
        },
    )
    .await;
    app.register_and_login("victim@chu.fr", &rpps(27)).await;
    for _ in 0..3 {
        let answer = app.login("victim@chu.fr", "wrong-password-123").await;
        assert_eq!(answer.status, 401);
    }
    let blocked = app.login("victim@chu.fr", PASSWORD).await;
    assert_eq!(blocked.status, 429);
    assert_eq!(
        blocked.header("content-type").unwrap(),
        "application/problem+json"
    );
    let retry_after: u64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after));

    // The address trying many accounts is limited too.
    for i in 0..3 {
        app.login(&format!("guess{i}@chu.fr"), "x-wrong-password")
            .await;
    }
    let address_blocked = app.login("other@chu.fr", "x-wrong-password").await;
    assert_eq!(address_blocked.status, 429);

    // Not locked out for long: the legitimate user gets in once the window ends.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.sign_in("victim@chu.fr", PASSWORD).await;
}

async fn admin_endpoints_need_the_admin_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("req@chu.fr", &rpps(28)).await;
    let token = pair["access_token"].as_str();
    for path in [
        "/api/v1/admin/users",
        "/api/v1/admin/audit",
        "/api/v1/admin/outbox",
    ] {
        assert_eq!(app.get(path, token).await.status, 403, "{path}");
        assert_eq!(app.get(path, None).await.status, 401, "{path}");
    }
    let (_, admin) = app
        .user_with_roles("admin@chu.fr", &rpps(29), &["admin"])
        .await;
    let users = app.get("/api/v1/admin/users?limit=1", Some(&admin)).await;
    assert_eq!(users.status, 200);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 1);
    let next = users.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/admin/users?limit=1&cursor={next}"),
            Some(&admin),
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_ne!(rest.body["items"][0]["id"], users.body["items"][0]["id"]);
    assert!(users.body["items"][0].get("password_hash").is_none());
    assert_eq!(
        app.get("/api/v1/admin/users?limit=500", Some(&admin))
            .await
            .status,
        422
    );
    let audit = app
        .get("/api/v1/admin/audit?action=auth.login", Some(&admin))
        .await;
    assert_eq!(audit.status, 200);
    let first = &audit.body["items"][0];
    for field in [
        "at",
        "actor_id",
        "action",
        "entity_type",
        "entity_id",
        "outcome",
        "correlation_id",
    ] {
        assert!(first.get(field).is_some(), "{field}");
    }
}

/// Wrong passwords arriving at once for an account with no failures yet all create or join
/// one throttle window: each is refused alike (401, or 429 once the limit is reached), none
/// errs on the window being created twice, and every one is counted.
async fn concurrent_failures_are_all_counted_and_all_refused_alike(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| s.auth.login_max_failures_per_account = 8),
            ..Default::default()
        },
    )
    .await;
    app.register_and_login("together@chu.fr", &rpps(28)).await;
    let attempts = (0..8).map(|_| {
        let api = crate::support::api::Api::at(app.api.base.clone());
        async move {
            api.login("together@chu.fr", "wrong-password-123")
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let blocked = app.login("together@chu.fr", PASSWORD).await;
    assert_eq!(
        blocked.status, 429,
        "all eight failures counted: {statuses:?}"
    );
}
