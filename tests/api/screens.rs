//! The web screens without JavaScript, over plain HTTP on both databases: a physician's whole
//! journey through the forms (register, confirm, sign in, a form with errors then fixed, an
//! attachment, submit, answer a question, read the opinion and its earlier version, sign
//! out), and the session, cookie and CSRF rules every POST follows.

use serde_json::json;

use crate::helpers::{TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, COORDINATOR, EXPERT, PASSWORD, rpps};
use crate::support::forms::{meeting_record, opinion};
use crate::support::html::{Browser, location};

on_both_backends!(
    a_physician_asks_for_an_opinion_without_javascript,
    a_post_without_the_token_or_from_elsewhere_changes_nothing,
    unknown_pages_are_pages_and_the_api_keeps_problems,
    a_reset_a_disabling_or_a_role_change_ends_the_sessions,
    on_https_the_cookie_is_secure_and_host_only,
    the_account_page_gives_a_calendar_feed_shown_once_and_replaced_on_request,
);

async fn a_physician_asks_for_an_opinion_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = Browser::new(&app.api);

    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("<html lang=\"fr\""), "French by default");
    assert!(home.text.contains("Weekly national MOC RCP"));
    let cookie = home.header("set-cookie").unwrap();
    assert!(cookie.starts_with("consilium_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http in development");
    assert_eq!(
        home.header("referrer-policy").as_deref(),
        Some("same-origin"),
        "with no-referrer, browsers post forms with `Origin: null`"
    );
    assert!(
        home.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );

    // Register; the verification link's GET leaves the token usable.
    let page = browser.get("/register").await;
    let email = "jeanne.martin@chu-nancy.fr";
    let rpps_number = rpps(31);
    let fields = [
        ("email", email),
        ("password", PASSWORD),
        ("full_name", "Dr Jeanne Martin"),
        ("rpps", rpps_number.as_str()),
        ("specialty", "Pédiatrie"),
        ("site_code", ""),
        ("phone", ""),
        ("language", "fr"),
    ];
    let bad = browser
        .post(
            "/register",
            &page,
            &[("email", "not-an-address"), ("password", "short")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("role=\"alert\""), "an error summary");
    assert!(bad.text.contains("href=\"#field-email\""));
    assert!(bad.text.contains("aria-invalid=\"true\""));
    assert!(bad.text.contains("value=\"not-an-address\""), "values kept");
    assert!(
        bad.text
            .contains("n&#x27;est pas une adresse e-mail valide")
            || bad.text.contains("n'est pas une adresse e-mail valide"),
        "the API's message, in French"
    );
    let registered = browser.post("/register", &page, &fields).await;
    assert_eq!(registered.status, 303);
    assert_eq!(location(&registered), "/register?sent=1");
    let mail = app.wait_for_mail_to(email).await;
    let token = mail.token();
    let verify_page = browser.get(&format!("/verify-email?token={token}")).await;
    assert_eq!(verify_page.status, 200);
    let again = browser.get(&format!("/verify-email?token={token}")).await;
    assert_eq!(again.status, 200, "a GET spends nothing");
    let verified = browser
        .post("/verify-email", &verify_page, &[("token", token.as_str())])
        .await;
    assert_eq!(verified.status, 200);
    assert!(
        verified.text.contains(&format!("value=\"{email}\"")),
        "the address filled in"
    );

    // Sign in; `?next=` keeps to local paths.
    let signed_in = browser
        .post(
            "/login?next=//evil.example/x",
            &verified,
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(location(&signed_in), "/");
    assert_eq!(location(&browser.get("/").await), "/requests");

    // The form with an error first: the summary, the message at the field, the values kept.
    let form = browser.get("/requests/new").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("name=\"patient.birth_date\""));
    let mut fields = vec![
        ("topic", "diagnosis"),
        ("urgency", "routine"),
        ("patient.initials", "AB"),
        ("patient.sex", "female"),
        ("patient.birth_date", "2019-04-12"),
        ("patient.gestational_age_weeks", ""),
        (
            "question",
            "Which skeletal dysplasia? Is FGFR3 testing indicated?",
        ),
        (
            "clinical_summary",
            "Short limbs noted at 2 years, height -3.1 SD",
        ),
        ("suspected_diagnosis.orpha_code", "ORPHA-429"),
        ("hpo_terms", "HP:0004322"),
        ("hpo_terms", ""),
        ("consent_obtained", "true"),
        ("intent", "submit"),
    ];
    let refused = browser.post("/requests", &form, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("href=\"#field-suspected_diagnosis-orpha_code\"")
    );
    assert!(refused.text.contains("value=\"ORPHA-429\""), "values kept");
    assert!(refused.text.contains("ORPHA:&lt;chiffres&gt;"), "in French");
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM requests").await, 0);
    fields[8] = ("suspected_diagnosis.orpha_code", "ORPHA:429");
    let created = browser.post("/requests", &refused, &fields).await;
    assert_eq!(created.status, 303, "{}", created.text);
    let request_path = location(&created);
    assert!(request_path.ends_with("?done=submitted"), "{request_path}");
    let id = request_path
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = browser.get(&request_path).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Soumise"), "the status in words");
    assert!(page.text.contains("Réunion proposée"), "the proposed date");

    assert!(
        page.text.contains("jusqu&#x27;à 20 Mo") || page.text.contains("jusqu'à 20 Mo"),
        "the upload's limits beside the field"
    );

    // A stale tab submits again: refused in words, the current status named, a way back.
    let again = browser
        .post(
            &format!("/requests/{id}/submit"),
            &page,
            &[("version", "2")],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(
        again.text.contains("La demande est maintenant : Soumise."),
        "{}",
        again.text
    );
    // (minijinja writes the `/` of a value as `&#x2f;`.)
    assert!(
        again
            .text
            .contains(&format!("href=\"&#x2f;requests&#x2f;{id}\"")),
        "a link back to the request"
    );

    // The API never takes the screens' cookie.
    let cookie = browser.cookies["consilium_session"].clone();
    let api = app
        .get("/api/v1/me", None)
        .header("cookie", format!("consilium_session={cookie}"))
        .await;
    assert_eq!(api.status, 401, "{}", api.text);

    let list = browser.get("/requests").await;
    assert_eq!(list.status, 200);
    let row = list.text.split("<tbody>").nth(1).unwrap();
    assert!(row.contains(">AB<"), "the patient's initials: {row}");
    assert!(row.contains("Soumise"), "the status in words");
    assert!(
        row.contains("(proposée)"),
        "the proposed meeting's date: {row}"
    );

    // An attachment.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let uploaded = browser
        .upload(
            &format!("/requests/{id}/attachments"),
            &page,
            "growth.pdf",
            pdf.clone(),
            "application/pdf",
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.text);
    let page = browser.get(&location(&uploaded)).await;
    assert!(page.text.contains("growth.pdf"));

    // A PDF (or an image) opens in the browser, under a policy that runs nothing of it; a
    // DICOM file is only ever downloaded; a plain link downloads.
    let view_link = page
        .text
        .split("href=\"")
        .map(|h| h.split('"').next().unwrap())
        .find(|h| h.ends_with("?view=1"))
        .expect("a link that shows the PDF")
        .to_owned();
    let shown = browser.get(&view_link).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.text.as_bytes(), pdf.as_slice(), "the file itself");
    let header = |answer: &crate::support::api::Answer, name: &str| {
        answer.header(name).unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(header(&shown, "content-type"), "application/pdf");
    assert!(header(&shown, "content-disposition").starts_with("inline"));
    let policy = header(&shown, "content-security-policy");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(
        !policy.contains("script-src"),
        "no script of the file runs: {policy}"
    );
    let downloaded = browser.get(view_link.trim_end_matches("?view=1")).await;
    assert!(header(&downloaded, "content-disposition").starts_with("attachment"));
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM");
    dicom.extend_from_slice(&[2, 0, 0, 0, b'U', b'L', 4, 0, 0, 0, 0, 0]);
    let uploaded = browser
        .upload(
            &format!("/requests/{id}/attachments"),
            &page,
            "scanner.dcm",
            dicom,
            "application/dicom",
        )
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.text);
    let page = browser.get(&location(&uploaded)).await;
    let dicom_link = page
        .text
        .split("href=\"")
        .map(|h| h.split('"').next().unwrap())
        .filter(|h| h.contains("/attachments/") && !h.ends_with("?view=1"))
        .find(|h| !view_link.starts_with(*h))
        .expect("the DICOM file's link")
        .to_owned();
    assert!(
        page.text.contains("à télécharger"),
        "the DICOM file is offered for download"
    );
    let forced = browser.get(&format!("{dicom_link}?view=1")).await;
    assert!(header(&forced, "content-disposition").starts_with("attachment"));

    // A coordinator asks for information through the API; the physician answers on the page.
    let (_, coordinator) = app.staff(&COORDINATOR).await;
    let asked = app
        .post(
            &format!("/api/v1/requests/{id}/request-info"),
            Some(&coordinator),
            json!({"message": "Please add the skeletal survey."}),
        )
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    let page = browser.get(&format!("/requests/{id}")).await;
    assert!(page.text.contains("Please add the skeletal survey."));
    let answered = browser
        .post(
            &format!("/requests/{id}/messages"),
            &page,
            &[("body", "Survey attached: mesomelic shortening.")],
        )
        .await;
    assert_eq!(answered.status, 303);
    let page = browser.get(&location(&answered)).await;
    assert!(page.text.contains("Votre réponse a été envoyée"));

    // The opinion, delivered; then amended and delivered again: both versions on the page.
    let (expert_id, expert) = app.staff(&EXPERT).await;
    let experts = app
        .set_experts("rcp-national", &[&expert_id], &coordinator)
        .await;
    assert_eq!(experts.status, 200, "{:?}", experts.body);
    let meeting = app.past_meeting(&coordinator, "rcp-national", 10).await;
    let mut amended = opinion();
    amended["summary"] = json!("Hypochondroplasia confirmed by the FGFR3 result.");
    amended["diagnosis"]["status"] = json!("confirmed");
    for (answer, what) in [
        (app.schedule(&id, &meeting, &coordinator).await, "schedule"),
        (
            app.hold(&meeting, meeting_record(&[&id]), &coordinator)
                .await,
            "hold",
        ),
        (app.put_opinion(&id, opinion(), &expert).await, "write"),
        (app.deliver(&id, &coordinator).await, "deliver"),
    ] {
        assert_eq!(answer.status, 200, "{what}: {:?}", answer.body);
    }
    let page = browser.get(&format!("/requests/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("L&#x27;avis de la réunion")
            || page.text.contains("L'avis de la réunion")
    );
    assert!(page.text.contains("Version 1"));
    assert!(
        page.text.contains("probable"),
        "the diagnosis' status in words"
    );
    assert!(!page.text.contains("Versions précédentes"));
    for (answer, what) in [
        (app.put_opinion(&id, &amended, &coordinator).await, "amend"),
        (app.deliver(&id, &coordinator).await, "deliver again"),
    ] {
        assert_eq!(answer.status, 200, "{what}: {:?}", answer.body);
    }
    let page = browser.get(&format!("/requests/{id}")).await;
    assert!(page.text.contains("Version 2"));
    assert!(
        page.text
            .contains("Hypochondroplasia confirmed by the FGFR3 result.")
    );
    assert!(
        page.text.contains("Versions précédentes"),
        "the earlier version kept"
    );
    assert!(page.text.contains(opinion()["summary"].as_str().unwrap()));

    // Sign out: the session ends on the server.
    let signed_out = browser.post("/logout", &page, &[]).await;
    assert_eq!(signed_out.status, 303);
    let home = browser.get(&location(&signed_out)).await;
    assert!(
        home.text.contains("data-autosave-clear-all"),
        "signing out clears the drafts kept in the browser"
    );
    let after = browser.get(&format!("/requests/{id}")).await;
    assert_eq!(after.status, 303);
    assert!(location(&after).starts_with("/login?next="));
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM web_sessions").await, 0);
}

async fn a_post_without_the_token_or_from_elsewhere_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = Browser::new(&app.api);
    let page = browser.get("/register").await;
    let token = crate::support::html::csrf_token(&page.text);
    let fields = [("email", "a@chu.fr"), ("password", PASSWORD)];
    let without = browser
        .post_raw("/login", &fields, Some(&browser.origin.clone()))
        .await;
    assert_eq!(without.status, 403);
    let mut with_token = vec![("csrf_token", token.as_str())];
    with_token.extend_from_slice(&fields);
    let elsewhere = browser
        .post_raw("/login", &with_token, Some("https://evil.example"))
        .await;
    assert_eq!(elsewhere.status, 403);
    let no_origin = browser.post_raw("/login", &with_token, None).await;
    assert_eq!(no_origin.status, 403);
    // `Origin: null` (a referrer policy hid it) is judged by the browser's own
    // `Sec-Fetch-Site`: a sandboxed frame elsewhere says cross-site.
    let null_elsewhere = browser
        .post_with_headers(
            "/login",
            &with_token,
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(null_elsewhere.status, 403);
    let null_here = browser
        .post_with_headers(
            "/login",
            &with_token,
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        null_here.status, 401,
        "tried: a wrong password, not a forbidden post"
    );
    assert!(null_here.text.contains("error-summary"));
    assert!(elsewhere.text.contains("<h1>"), "a page, not JSON");
    let audited = app
        .count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'web.login'")
        .await;
    assert_eq!(audited, 1, "only the same-origin attempt was tried");
}

async fn unknown_pages_are_pages_and_the_api_keeps_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = Browser::new(&app.api);
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text.contains("Page introuvable"));
    let api = browser.get("/api/v1/no/such").await;
    assert_eq!(api.status, 404);
    assert!(api.content_type().starts_with("application/problem+json"));
    let asset = browser.get("/").await;
    assert_eq!(asset.status, 200, "{}", asset.text);
    let css = asset
        .text
        .split("href=\"")
        .find(|part| part.starts_with("/static/consilium."))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let served = browser.get(&css).await;
    assert_eq!(served.status, 200);
    assert!(
        served
            .header("cache-control")
            .unwrap()
            .contains("immutable")
    );
}

/// Whoever holds a session cookie loses it when the password is reset, the account is
/// disabled or its roles change: the next page asks to sign in again.
async fn a_reset_a_disabling_or_a_role_change_ends_the_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "paul.durand@chu-lyon.fr";
    let requester = app.register_and_login(email, &rpps(41)).await;
    let id = requester["user"]["id"].as_str().map(str::to_owned);
    let (_, admin) = app.staff(&ADMIN).await;
    let user_id = match id {
        Some(id) => id,
        None => {
            let me = app
                .me(Some(requester["access_token"].as_str().unwrap()))
                .await;
            me.body["id"].as_str().unwrap().to_owned()
        }
    };
    let signed_in_again = |_: ()| async {
        let mut browser = Browser::new(&app.api);
        browser.sign_in(email, PASSWORD).await;
        assert_eq!(browser.get("/requests").await.status, 200);
        browser
    };

    // A password reset through the screens, from another browser.
    let mut holder = signed_in_again(()).await;
    let mut other = Browser::new(&app.api);
    let page = other.get("/password-reset").await;
    let asked = other
        .post("/password-reset", &page, &[("email", email)])
        .await;
    assert_eq!(asked.status, 303);
    app.deliver_emails().await;
    let mail = app.smtp.mails_to(email).pop().unwrap();
    let link = mail.link(&app.settings.server.public_url);
    assert!(link.starts_with("/reset-password?token="), "{link}");
    let page = other.get(&link).await;
    assert_eq!(page.status, 200);
    let token = mail.token();
    let new_password = "another correct horse battery";
    let reset = other
        .post(
            "/reset-password",
            &page,
            &[("token", token.as_str()), ("password", new_password)],
        )
        .await;
    assert_eq!(reset.status, 303, "{}", reset.text);
    let after = holder.get("/requests").await;
    assert_eq!(after.status, 303, "the reset ended the other session");
    assert!(location(&after).starts_with("/login"));

    // Disabled by an admin, then enabled again.
    let mut holder = Browser::new(&app.api);
    holder.sign_in(email, new_password).await;
    assert_eq!(holder.get("/requests").await.status, 200);
    let disabled = app
        .update_user(&user_id, json!({"status": "disabled"}), &admin)
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(holder.get("/requests").await.status, 303);
    let enabled = app
        .update_user(&user_id, json!({"status": "active"}), &admin)
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);

    // A role change.
    let mut holder = Browser::new(&app.api);
    holder.sign_in(email, new_password).await;
    assert_eq!(holder.get("/requests").await.status, 200);
    let roles = app
        .set_roles(&user_id, &["requester", "expert"], &admin)
        .await;
    assert_eq!(roles.status, 200, "{}", roles.text);
    assert_eq!(holder.get("/requests").await.status, 303);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM web_sessions WHERE user_id IS NOT NULL")
            .await,
        0
    );
}

/// Behind https (`server.public_url`), the cookie is `__Host-` prefixed and `Secure`, so no
/// plain-http page and no other host can set or read it.
async fn on_https_the_cookie_is_secure_and_host_only(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| s.server.public_url = "https://consilium.example.org".into()),
            ..Default::default()
        },
    )
    .await;
    let mut browser = Browser::new(&app.api);
    let home = browser.get("/").await;
    assert_eq!(home.status, 200);
    let cookie = home.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-consilium_session="), "{cookie}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain="), "host-only: {cookie}");
    assert!(
        home.header("strict-transport-security").is_some(),
        "browsers keep to https"
    );
}

/// The feed's address in the account page (shown once, as it is made).
fn feed_url(html: &str) -> String {
    let start = html
        .find("id=\"feed-url\"")
        .expect("the feed's address is shown");
    let value = &html[start..];
    let value = &value[value.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].replace("&#x2f;", "/")
}

async fn the_account_page_gives_a_calendar_feed_shown_once_and_replaced_on_request(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = "feed.owner@chu.fr";
    app.register_and_login(email, &rpps(78)).await;
    let mut browser = Browser::new(&app.api);
    browser.sign_in(email, PASSWORD).await;
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.text.contains("id=\"calendar\""), "{}", account.text);
    assert!(
        account.text.contains("You have no feed yet."),
        "in the account's language"
    );

    let made = browser.post("/me/calendar-feed", &account, &[]).await;
    assert_eq!(made.status, 200, "{}", made.text);
    let url = feed_url(&made.text);
    let base = app.settings.server.public_url.clone();
    let path = url
        .strip_prefix(&base)
        .expect("an address of the service")
        .to_owned();
    let feed = app.api.get(&path, None).await;
    assert_eq!(feed.status, 200);
    assert!(feed.content_type().starts_with("text/calendar"));
    let again = browser.get("/account").await;
    assert!(
        !again.text.contains(&path),
        "shown once: only its hash is kept"
    );
    assert!(again.text.contains("Replace my feed address"));

    // Replaced: the old address stops working; removed: the new one too.
    let replaced = browser.post("/me/calendar-feed", &again, &[]).await;
    let new_path = feed_url(&replaced.text)
        .strip_prefix(&base)
        .unwrap()
        .to_owned();
    assert_eq!(app.api.get(&path, None).await.status, 404);
    assert_eq!(app.api.get(&new_path, None).await.status, 200);
    let removed = browser
        .post("/me/calendar-feed/remove", &replaced, &[])
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(location(&removed), "/account?done=feed_removed#calendar");
    assert_eq!(app.api.get(&new_path, None).await.status, 404);
    let done = browser.get("/account?done=feed_removed").await;
    assert!(done.text.contains("Your calendar feed is removed"));
}
