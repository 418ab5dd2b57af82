//! Registration, e-mail verification and password reset.

use serde_json::json;

use crate::helpers::{TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, rpps};
use crate::support::forms::registration;

on_both_backends!(
    a_physician_registers_confirms_and_signs_in,
    every_invalid_field_is_listed_at_once,
    fields_the_client_may_not_set_are_refused,
    a_duplicate_email_gets_the_same_answer_and_the_owner_is_told,
    a_duplicate_rpps_gets_the_same_answer_and_the_owner_is_told,
    an_unverified_account_cannot_sign_in,
    verification_tokens_are_single_use_and_expire,
    account_emails_are_limited_per_address,
    a_forgotten_password_is_reset,
    password_reset_answers_the_same_for_unknown_addresses,
    password_reset_refuses_weak_passwords_and_keeps_the_token,
);

async fn a_physician_registers_confirms_and_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = registration("Jeanne.Martin@CHU-Nancy.fr", &rpps(1));
    body["language"] = json!("fr");
    let answer = app.register(body).await;
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, json!({"status": "pending_verification"}));

    app.deliver_emails().await;
    let mails = app.smtp.mails_to("jeanne.martin@chu-nancy.fr");
    assert_eq!(
        mails.len(),
        1,
        "the normalised address receives the verification e-mail"
    );
    let mail = &mails[0];
    assert!(
        mail.subject().contains("confirmez"),
        "French, as asked: {}",
        mail.subject()
    );
    assert!(mail.text().contains(&format!(
        "{}/verify-email?token=",
        app.settings.server.public_url
    )));
    assert!(mail.html().contains("verify-email?token="));
    assert!(!mail.text().contains(PASSWORD));

    let answer = app.verify_email(&mail.token()).await;
    assert_eq!(answer.status, 204);

    let pair = app.sign_in("JEANNE.MARTIN@chu-nancy.fr", PASSWORD).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert!(pair["expires_in"].as_i64().unwrap() <= 900);
    let me = app.me(pair["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "jeanne.martin@chu-nancy.fr");
    assert_eq!(me.body["full_name"], "Jeanne Martin");
    assert_eq!(me.body["rpps"], rpps(1));
    assert_eq!(me.body["roles"], json!(["requester"]));
    assert_eq!(me.body["site_code"], "nancy");
    assert_eq!(me.body["language"], "fr");
    assert!(me.body.get("password_hash").is_none());
}

async fn every_invalid_field_is_listed_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app
        .register(json!({
                "email": "not-an-address",
                "password": "short",
                "full_name": "",
                "rpps": "10005173141",
                "specialty": "   ",
                "site_code": "atlantis",
                "phone": "call me maybe",
                "language": "de",
        }))
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(
        answer.header("content-type").unwrap(),
        "application/problem+json"
    );
    let mut fields = answer.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "email",
            "full_name",
            "language",
            "password",
            "phone",
            "rpps",
            "site_code",
            "specialty"
        ]
    );

    // Weak passwords, including ones made of the user's own details.
    for weak in ["password1234567", "Jeanne Martin 2026", "jeanne.martin.chu"] {
        let mut body = registration("jeanne.martin@chu.fr", &rpps(2));
        body["password"] = json!(weak);
        let answer = app.register(body).await;
        assert_eq!(answer.status, 422, "{weak}");
        assert_eq!(answer.invalid_fields(), vec!["password"], "{weak}");
    }
    let mut body = registration("jeanne.martin@chu.fr", &rpps(2));
    body["password"] = json!("x".repeat(129));
    assert_eq!(app.register(body).await.invalid_fields(), vec!["password"]);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM users").await,
        0,
        "nothing is created"
    );
}

async fn fields_the_client_may_not_set_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    for (field, value) in [
        ("roles", json!(["admin"])),
        ("status", json!("active")),
        ("id", json!("x")),
    ] {
        let mut body = registration("jeanne.martin@chu.fr", &rpps(3));
        body[field] = value;
        let answer = app.register(body).await;
        assert_eq!(answer.status, 422, "{field}");
        assert_eq!(answer.invalid_fields(), vec![field.to_owned()]);
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users").await, 0);
}

async fn a_duplicate_email_gets_the_same_answer_and_the_owner_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.register(registration("owner@chu.fr", &rpps(4))).await;
    app.deliver_emails().await;
    let again = app.register(registration("OWNER@chu.fr", &rpps(5))).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    app.deliver_emails().await;
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM users").await,
        1,
        "nothing is created"
    );
    let mails = app.smtp.mails_to("owner@chu.fr");
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1].subject().contains("tried to register"),
        "{}",
        mails[1].subject()
    );
    assert!(mails[1].text().contains("reset-password?token="));
}

async fn a_duplicate_rpps_gets_the_same_answer_and_the_owner_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("owner@chu.fr", &rpps(6))).await;
    let again = app
        .register(registration("intruder@chu.fr", &rpps(6)))
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body, json!({"status": "pending_verification"}));
    app.deliver_emails().await;
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM users").await, 1);
    assert!(
        app.smtp.mails_to("intruder@chu.fr").is_empty(),
        "the new address receives nothing"
    );
    assert_eq!(app.smtp.mails_to("owner@chu.fr").len(), 2);
}

async fn an_unverified_account_cannot_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("pending@chu.fr", &rpps(7))).await;
    let unverified = app.login("pending@chu.fr", PASSWORD).await;
    let wrong = app.login("pending@chu.fr", "wrong-password-123").await;
    let unknown = app.login("nobody@chu.fr", PASSWORD).await;
    assert_eq!(unverified.status, 401);
    assert_eq!(unverified.body, wrong.body, "same body either way");
    assert_eq!(unverified.body, unknown.body, "same body either way");
}

async fn verification_tokens_are_single_use_and_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("a@chu.fr", &rpps(8))).await;
    app.register(registration("b@chu.fr", &rpps(9))).await;
    app.deliver_emails().await;
    let token_a = app.smtp.mails_to("a@chu.fr")[0].token();
    let token_b = app.smtp.mails_to("b@chu.fr")[0].token();
    assert_eq!(app.verify_email(&token_a).await.status, 204);
    let reused = app.verify_email(&token_a).await;
    assert_eq!(reused.status, 400);
    assert_eq!(app.verify_email("forged").await.status, 400);

    app.execute("UPDATE email_tokens SET expires_at = created_at WHERE used_at IS NULL")
        .await;
    assert_eq!(app.verify_email(&token_b).await.status, 400);
    let login = app.login("b@chu.fr", PASSWORD).await;
    assert_eq!(login.status, 401);
}

async fn account_emails_are_limited_per_address(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| s.email.per_address_per_hour = 3),
            ..Default::default()
        },
    )
    .await;
    app.register_and_login("busy@chu.fr", &rpps(10)).await;
    for _ in 0..6 {
        let answer = app.password_reset("busy@chu.fr").await;
        assert_eq!(answer.status, 202);
    }
    app.deliver_emails().await;
    assert_eq!(
        app.smtp.mails_to("busy@chu.fr").len(),
        3,
        "1 verification + 2 resets, then nothing this hour"
    );
}

async fn a_forgotten_password_is_reset(backend: Backend) {
    let app = spawn_app(backend).await;
    let pair = app.register_and_login("forgetful@chu.fr", &rpps(11)).await;
    let answer = app.password_reset("Forgetful@chu.fr").await;
    assert_eq!(answer.status, 202);
    let mail = app.wait_for_mail_to("forgetful@chu.fr").await;
    assert!(mail.subject().contains("reset"), "{}", mail.subject());
    let new_password = "quartz-lagoon-Pyrenees-77";
    let confirm = app
        .confirm_password_reset(&mail.token(), new_password)
        .await;
    assert_eq!(confirm.status, 204);

    let old = app.login("forgetful@chu.fr", PASSWORD).await;
    assert_eq!(old.status, 401);
    app.sign_in("forgetful@chu.fr", new_password).await;
    let refresh = app.refresh(&pair["refresh_token"]).await;
    assert_eq!(refresh.status, 401, "a reset ends every session");
    let again = app
        .confirm_password_reset(&mail.token(), "another-Long-phrase-99")
        .await;
    assert_eq!(again.status, 400, "the token is single use");
}

async fn password_reset_answers_the_same_for_unknown_addresses(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register_and_login("known@chu.fr", &rpps(12)).await;
    let known = app.password_reset("known@chu.fr").await;
    let unknown = app.password_reset("unknown@chu.fr").await;
    let garbage = app.password_reset("garbage").await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!((known.status, &known.body), (garbage.status, &garbage.body));
    app.deliver_emails().await;
    assert!(app.smtp.mails_to("unknown@chu.fr").is_empty());
}

async fn password_reset_refuses_weak_passwords_and_keeps_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register_and_login("weak@chu.fr", &rpps(13)).await;
    app.password_reset("weak@chu.fr").await;
    let mail = app.wait_for_mail_to("weak@chu.fr").await;
    let weak = app
        .confirm_password_reset(&mail.token(), "weak@chu.fr1234")
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.invalid_fields(), vec!["password"]);
    let strong = app
        .confirm_password_reset(&mail.token(), "quartz-lagoon-Pyrenees-77")
        .await;
    assert_eq!(strong.status, 204);
}
