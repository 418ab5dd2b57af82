//! Two-factor sign-in: enrolment, the two-step login, recovery codes, removal, the policy
//! that staff roles must use it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::api::Answer;
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, rpps};

on_both_backends!(
    a_physician_enrols_and_signs_in_with_a_second_factor,
    recovery_codes_work_once_each,
    removing_the_second_factor_ends_every_session,
    staff_must_enrol_before_using_the_api,
    wrong_codes_are_throttled,
);

/// The `amr` claim of an access token.
fn amr(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["amr"].clone()
}

/// Enrols and confirms an authenticator for the signed-in user; answers the secret and the
/// recovery codes.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let enrolment = app.enrol_totp(token).await;
    assert_eq!(enrolment.status, 201, "{:?}", enrolment.body);
    let secret = enrolment.body["secret"].as_str().unwrap().to_owned();
    let uri = enrolment.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/consilium:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");

    let wrong = app.confirm_totp("000000", token).await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.invalid_fields(), vec!["code"]);

    let code = app.totp_code(&secret).await;
    let confirmed = app.confirm_totp(&code, token).await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    let codes: Vec<String> = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn password_step(app: &TestApp, email: &str) -> Value {
    let answer = app.login(email, PASSWORD).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

async fn second_step(app: &TestApp, mfa_token: &Value, code: &str) -> Answer {
    app.login_mfa(mfa_token, code).await
}

async fn a_physician_enrols_and_signs_in_with_a_second_factor(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("totp@chu.fr", &rpps(301)).await;
    let token = pair["access_token"].as_str().unwrap();
    assert_eq!(amr(token), json!(["pwd"]));
    let me = app.me(Some(token)).await;
    assert_eq!(
        me.body["mfa"],
        json!({"enrolled": false, "required": false, "session_verified": false})
    );

    let (secret, _) = enrol(&app, token).await;
    let me = app.me(Some(token)).await;
    assert_eq!(me.body["mfa"]["enrolled"], true);
    let again = app.enrol_totp(token).await;
    assert_eq!(again.status, 409, "one factor at a time");

    // The password alone no longer gives tokens.
    let challenge = password_step(&app, "totp@chu.fr").await;
    assert_eq!(challenge["mfa_required"], true);
    assert!(challenge.get("access_token").is_none());
    let mfa_token = challenge["mfa_token"].clone();
    // The challenge is good for nothing else.
    let as_bearer = app.me(mfa_token.as_str()).await;
    assert_eq!(as_bearer.status, 401);
    let as_refresh = app.refresh(&mfa_token).await;
    assert_eq!(as_refresh.status, 401);

    let wrong = second_step(&app, &mfa_token, "123456").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.header("content-type").unwrap(),
        "application/problem+json"
    );
    let code = app.totp_code(&secret).await;
    let signed_in = second_step(&app, &mfa_token, &code).await;
    assert_eq!(signed_in.status, 200, "{:?}", signed_in.body);
    let access = signed_in.body["access_token"].as_str().unwrap();
    assert_eq!(amr(access), json!(["pwd", "otp"]));
    let me = app.me(Some(access)).await;
    assert_eq!(me.body["mfa"]["session_verified"], true);

    // The challenge is single-use, and a code is never accepted twice.
    let reuse = second_step(&app, &mfa_token, &code).await;
    assert_eq!(reuse.status, 401);
    let challenge = password_step(&app, "totp@chu.fr").await;
    let replay = second_step(&app, &challenge["mfa_token"], &code).await;
    assert_eq!(replay.status, 401, "a code already used is refused");

    // A refreshed session keeps its second factor.
    let refreshed = app.refresh(&signed_in.body["refresh_token"]).await;
    assert_eq!(refreshed.status, 200);
    assert_eq!(
        amr(refreshed.body["access_token"].as_str().unwrap()),
        json!(["pwd", "otp"])
    );
}

async fn recovery_codes_work_once_each(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("lost@chu.fr", &rpps(302)).await;
    let (_, codes) = enrol(&app, pair["access_token"].as_str().unwrap()).await;
    let stored = app
        .count("SELECT COUNT(*) AS n FROM recovery_codes WHERE used_at IS NULL")
        .await;
    assert_eq!(stored, 10);
    for code in &codes {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) AS n FROM recovery_codes WHERE code_hash = '{}'",
                code.replace('-', "")
            ))
            .await,
            0,
            "codes are stored hashed"
        );
    }

    let challenge = password_step(&app, "lost@chu.fr").await;
    // Typed in capitals with spaces, as people do.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let signed_in = second_step(&app, &challenge["mfa_token"], &typed).await;
    assert_eq!(signed_in.status, 200, "{:?}", signed_in.body);
    assert_eq!(
        amr(signed_in.body["access_token"].as_str().unwrap()),
        json!(["pwd", "otp"])
    );

    let challenge = password_step(&app, "lost@chu.fr").await;
    let again = second_step(&app, &challenge["mfa_token"], &codes[3]).await;
    assert_eq!(again.status, 401, "a recovery code is single-use");
    let other = second_step(&app, &challenge["mfa_token"], &codes[4]).await;
    assert_eq!(other.status, 200);
}

async fn removing_the_second_factor_ends_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("rm@chu.fr", &rpps(303)).await;
    let (secret, _) = enrol(&app, pair["access_token"].as_str().unwrap()).await;
    let challenge = password_step(&app, "rm@chu.fr").await;
    let code = app.totp_code(&secret).await;
    let session = second_step(&app, &challenge["mfa_token"], &code).await.body;
    let access = session["access_token"].as_str().unwrap();

    let stale = app.remove_totp(&code, access).await;
    assert_eq!(
        stale.status, 422,
        "removal needs a fresh code, not the one just used"
    );
    let fresh = app.totp_code(&secret).await;
    let removed = app.remove_totp(&fresh, access).await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let refresh = app.refresh(&session["refresh_token"]).await;
    assert_eq!(refresh.status, 401, "every session ended");
    let plain = password_step(&app, "rm@chu.fr").await;
    assert!(
        plain["access_token"].is_string(),
        "the password alone signs in again"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM recovery_codes").await,
        0
    );
}

async fn staff_must_enrol_before_using_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    // An operator makes a coordinator without provisioning a second factor.
    app.add_user("new.coord@necker.fr", &rpps(304), &["coordinator"], None)
        .await;
    let pair = password_step(&app, "new.coord@necker.fr").await;
    let token = pair["access_token"].as_str().unwrap();
    for path in ["/api/v1/requests", "/api/v1/staffs"] {
        let refused = app.get(path, Some(token)).await;
        assert_eq!(refused.status, 403, "{path}");
        assert_eq!(
            refused.body["type"], "/problems/mfa-enrollment-required",
            "{path}"
        );
    }
    let me = app.me(Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(
        me.body["mfa"],
        json!({"enrolled": false, "required": true, "session_verified": false})
    );

    let (secret, _) = enrol(&app, token).await;
    let still = app.get("/api/v1/requests", Some(token)).await;
    assert_eq!(still.status, 403, "the password-only session stays limited");
    assert_eq!(still.body["type"], "/problems/mfa-required");

    let challenge = password_step(&app, "new.coord@necker.fr").await;
    let code = app.totp_code(&secret).await;
    let session = second_step(&app, &challenge["mfa_token"], &code).await;
    let access = session.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/requests", Some(access)).await.status, 200);

    // With the requirement turned off in config, a password session is enough.
    let relaxed = spawn_app_with(
        Backend::Sqlite,
        TestOptions {
            tweak: Box::new(|settings| settings.auth.mfa_required_roles.clear()),
            ..Default::default()
        },
    )
    .await;
    let (_, token) = relaxed
        .user_with_roles("c@necker.fr", &rpps(305), &["requester"])
        .await;
    assert_eq!(
        relaxed.get("/api/v1/requests", Some(&token)).await.status,
        200
    );
}

async fn wrong_codes_are_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("slow@chu.fr", &rpps(306)).await;
    let (secret, _) = enrol(&app, pair["access_token"].as_str().unwrap()).await;
    let challenge = password_step(&app, "slow@chu.fr").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            second_step(&app, &challenge["mfa_token"], "999999")
                .await
                .status,
        );
    }
    assert_eq!(statuses[..5], [401; 5]);
    let blocked = second_step(&app, &challenge["mfa_token"], "999999").await;
    assert_eq!(blocked.status, 429, "{statuses:?}");
    assert!(blocked.header("retry-after").is_some());
    // Even the right code waits for the window to end.
    let code = app.totp_code(&secret).await;
    assert_eq!(
        second_step(&app, &challenge["mfa_token"], &code)
            .await
            .status,
        429
    );
}
