//! The screens in a real browser (headless Chromium), on both databases, with and without
//! JavaScript: a physician registers, opens the link of the verification e-mail, signs in,
//! fills the patient's form with an error first, fixes it, attaches a PDF, submits, sees the
//! proposed date, answers the coordinators' question, and reads the opinion the delivery
//! e-mail links to. Every page on the way, in each of its states, is checked by axe-core, by
//! the weight rules and at 320 px ([`Page::check`]).

use std::path::PathBuf;

use crate::helpers::{TestApp, spawn_app};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, COORDINATOR, EXPERT, PASSWORD, TOTP_SECRET, rpps};
use crate::support::forms::{meeting_record, opinion, request_form};
use crate::support::webdriver::Page;

on_both_backends!(
    a_physician_asks_for_an_opinion_in_a_browser,
    a_physician_asks_for_an_opinion_in_a_browser_without_javascript,
    the_other_screens_in_a_browser,
    a_coordinator_runs_the_week_in_a_browser,
    a_requester_follows_an_opinion_up_in_a_browser,
);

/// The checks themselves fail on a page that breaks the rules (else a journey proves
/// nothing): an image without a text alternative, a field without a label, and a box wider
/// than a 320 px screen (set through the CSSOM: the pages' CSP refuses inline styles). One
/// database is enough: nothing here is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_checks_catch_what_they_check() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(page) = Page::open(&app.api.url(""), true).await else {
        return;
    };
    page.run("checks", |mut page| async move {
        page.goto("/register").await;
        page.check("register").await;
        page.client
            .execute(
                "const main = document.getElementById('main'); \
                 main.insertAdjacentHTML('beforeend', \
                   '<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">' + \
                   '<input type=\"text\" name=\"unlabelled\">');",
                vec![],
            )
            .await
            .unwrap();
        let violations: Vec<String> = page
            .axe()
            .await
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            violations.contains(&"image-alt".to_owned()),
            "{violations:?}"
        );
        assert!(violations.contains(&"label".to_owned()), "{violations:?}");
        page.goto("/register").await;
        page.client
            .execute(
                "const wide = document.createElement('p'); \
                 wide.textContent = 'wide'; \
                 wide.style.width = '400px'; \
                 document.getElementById('main').append(wide);",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            !page.overflowing().await.is_empty(),
            "a 400 px box at 320 px"
        );
    })
    .await;
}

async fn a_physician_asks_for_an_opinion_in_a_browser(backend: Backend) {
    journey(backend, true).await
}

async fn a_physician_asks_for_an_opinion_in_a_browser_without_javascript(backend: Backend) {
    journey(backend, false).await
}

async fn journey(backend: Backend, javascript: bool) {
    let name = format!(
        "{}-{}",
        if backend.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        if javascript { "js" } else { "nojs" }
    );
    let backend_is_postgres = backend.is_postgres();
    let app = spawn_app(backend).await;
    let Some(page) = Page::open(&app.api.url(""), javascript).await else {
        return;
    };
    let shots = javascript && !backend_is_postgres;
    page.run(&name, |page| steps(&app, page, shots)).await;
}

/// The screens the journey does not pass through, each checked like the journey's: a staff
/// member's first sign-in (the second factor to set up, its QR code, the recovery codes),
/// the second step at the next sign-in, the account in English, a draft's edit page and the
/// list, a page that does not exist, and the password reset from the e-mail's link.
async fn the_other_screens_in_a_browser(backend: Backend) {
    let name = if backend.is_postgres() {
        "postgres-tour"
    } else {
        "sqlite-tour"
    };
    let app = spawn_app(backend).await;
    let Some(page) = Page::open(&app.api.url(""), true).await else {
        return;
    };
    page.run(name, |page| tour(&app, page)).await;
}

async fn tour(app: &TestApp, mut page: Page) {
    let expert = "claire.petit@chu-toulouse.fr";
    app.add_user(expert, &rpps(52), &["expert"], None).await;

    page.step("a staff member's first sign-in");
    page.goto("/login").await;
    page.fill("email", expert).await;
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    assert_eq!(page.path().await, "/account", "the second factor first");
    page.check("account, second factor required").await;
    page.click("form[action='/me/mfa/totp'] button").await;
    assert!(page.exists(".qr svg").await, "the QR code, drawn inline");
    page.check("account, scan the code").await;
    let secret = page.text_of(".secret").await;
    let code = app.totp.code(&secret, expert).await;
    page.fill("code", "000000").await;
    page.click("form[action='/me/mfa/totp/confirm'] button")
        .await;
    assert!(
        page.exists(".error-summary").await,
        "a wrong code is refused"
    );
    page.check("account, wrong code").await;
    page.fill("code", &code).await;
    page.click("form[action='/me/mfa/totp/confirm'] button")
        .await;
    assert!(
        page.count(".recovery-codes li").await >= 8,
        "the recovery codes"
    );
    page.check("account, recovery codes").await;
    page.click("form[action='/logout'] button").await;

    page.step("the second step");
    page.goto("/login?next=/account").await;
    page.fill("email", expert).await;
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    assert!(
        page.path().await.starts_with("/login/mfa"),
        "{}",
        page.path().await
    );
    page.check("second step").await;
    let code = app.totp.code(&secret, expert).await;
    page.fill("code", &code).await;
    page.click("form[action^='/login/mfa'] button[type=submit]")
        .await;
    assert_eq!(page.path().await, "/account");
    page.check("account, second factor on").await;

    page.step("in English");
    page.click(".lang-switch button").await;
    assert_eq!(
        page.find("html")
            .await
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("en")
    );
    assert!(
        page.text().await.contains("My account"),
        "{}",
        page.text().await
    );
    page.check("account, in English").await;
    page.click("form[action='/me/calendar-feed'] button").await;
    let shown = page.find("#feed-url").await.attr("value").await.unwrap();
    assert!(
        shown.as_deref().is_some_and(|url| url.ends_with(".ics")),
        "{shown:?}"
    );
    page.check("account, a calendar feed made").await;
    page.goto("/no/such/page").await;
    assert!(page.text().await.contains("Page not found"));
    page.check("not found, in English").await;
    page.click("form[action='/logout'] button").await;

    page.step("a draft and the list");
    let email = "luc.bernard@chu-rennes.fr";
    let pair = app.register_and_login(email, &rpps(53)).await;
    let token = pair["access_token"].as_str().unwrap();
    let draft = app
        .draft(serde_json::json!({"topic": "fetal"}), token)
        .await
        .id();
    page.goto("/login").await;
    page.fill("email", email).await;
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    page.check("requests, one draft").await;
    let row = page.text_of("tbody tr").await;
    assert!(row.contains("Fetal case") && row.contains("—"), "{row}");
    page.click(&format!("a[href='/requests/{draft}']")).await;
    page.check("request, draft").await;
    page.click(&format!("a[href='/requests/{draft}/edit']"))
        .await;
    assert_eq!(page.value("topic").await, "fetal");
    page.check("edit a draft").await;
    page.fill("patient.gestational_age_weeks", "9").await;
    page.click("button[name=intent][value=submit]").await;
    assert!(
        page.exists("#field-patient-gestational_age_weeks[aria-invalid=true]")
            .await
    );
    page.check("edit a draft, refused").await;
    page.click("form[action='/logout'] button").await;

    page.step("a password reset");
    page.goto("/login").await;
    page.click("a[href='/password-reset']").await;
    page.check("password reset").await;
    page.fill("email", email).await;
    page.click("form[action='/password-reset'] button").await;
    page.check("password reset, sent").await;
    app.deliver_emails().await;
    let mail = app.smtp.mails_to(email).pop().unwrap();
    page.goto(&mail.link(&app.settings.server.public_url)).await;
    page.check("new password").await;
    page.fill("password", "short").await;
    page.click("form[action='/reset-password'] button").await;
    assert!(page.exists(".error-summary").await);
    page.check("new password, refused").await;
    page.fill("password", "a long and unusual passphrase").await;
    page.click("form[action='/reset-password'] button").await;
    assert_eq!(page.path().await, "/login?reset=1");
    page.check("sign in, after the reset").await;
}

/// Where the README's screenshots go: `CONSILIUM_SCREENSHOTS` (the README's are taken with
/// `CONSILIUM_SCREENSHOTS=docs/screenshots`), else under `target/`.
fn screenshot_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match std::env::var("CONSILIUM_SCREENSHOTS") {
        Ok(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target/screenshots"),
    }
}

/// The journey; `shots`: take the README's screenshots on the way.
async fn steps(app: &TestApp, mut page: Page, shots: bool) {
    let public_url = app.settings.server.public_url.clone();
    let email = "jeanne.martin@chu-nancy.fr";

    page.step("home");
    page.goto("/").await;
    page.check("home").await;
    assert!(page.text().await.contains("Weekly national MOC RCP"));

    page.click_link("Créer un compte").await;
    page.check("register").await;
    page.fill("email", email).await;
    page.fill("full_name", "Dr Jeanne Martin").await;
    page.fill("rpps", &rpps(31)).await;
    page.fill("specialty", "Pédiatrie").await;
    page.fill("password", "short").await;
    if page.javascript {
        let hint = page.text_of("#password-strength").await;
        assert!(!hint.is_empty(), "a strength hint while typing");
    }
    page.click("form[action='/register'] button[type=submit]")
        .await;
    assert!(
        page.exists(".error-summary").await,
        "a short password is refused"
    );
    assert_eq!(page.value("email").await, email, "values kept");
    page.check("register, refused").await;
    page.fill("password", PASSWORD).await;
    page.click("form[action='/register'] button[type=submit]")
        .await;
    assert_eq!(page.path().await, "/register?sent=1");
    page.check("register, sent").await;

    page.step("the verification e-mail");
    let mail = app.wait_for_mail_to(email).await;
    let link = mail.link(&public_url);
    assert!(link.starts_with("/verify-email?token="), "{link}");
    page.goto(&link).await;
    page.check("verify").await;
    page.click("form[action='/verify-email'] button").await;
    page.check("sign in, verified").await;
    assert_eq!(page.value("email").await, email, "the address filled in");
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    assert_eq!(page.path().await, "/requests");
    page.check("requests, empty").await;

    page.click("a[href='/requests/new']").await;
    page.check("new request").await;
    page.fill("topic", "diagnosis").await;
    if page.javascript {
        let route = page.text_of("#topic-route").await;
        assert!(
            route.contains("Weekly national MOC RCP") && route.contains("mercredi"),
            "the staff and its next meeting, as soon as the topic is chosen: {route}"
        );
    }
    page.fill("urgency", "routine").await;
    page.fill("patient.initials", "AB").await;
    if page.javascript {
        page.step("a draft outlives a timed-out session");
        page.goto("/requests").await;
        app.execute(
            "UPDATE web_sessions SET created_at = '2000-01-01 00:00:00', \
             last_seen_at = '2000-01-01 00:00:00'",
        )
        .await;
        page.goto("/requests/new").await;
        let path = page.path().await;
        assert!(path == "/login?next=/requests/new&ended=1", "{path}");
        page.check("sign in, session ended").await;
        page.fill("email", email).await;
        page.fill("password", PASSWORD).await;
        page.click("form[action^='/login'] button[type=submit]")
            .await;
        assert_eq!(page.path().await, "/requests/new");
        assert!(
            page.find("#autosave-restored")
                .await
                .is_displayed()
                .await
                .unwrap(),
            "the notice says the values came back"
        );
        assert_eq!(page.value("patient.initials").await, "AB");
        assert_eq!(page.value("topic").await, "diagnosis");
        page.check("new request, restored").await;
    }
    page.fill("patient.sex", "female").await;
    page.fill("patient.birth_date", "2019-04-12").await;
    page.fill(
        "question",
        "Which skeletal dysplasia? Is FGFR3 testing indicated?",
    )
    .await;
    page.fill(
        "clinical_summary",
        "Short limbs noted at 2 years, height -3.1 SD",
    )
    .await;
    page.fill("suspected_diagnosis.orpha_code", "ORPHA-429")
        .await;
    page.fill_nth("hpo_terms", 0, "HP:0004322").await;
    let rows = page.count("input[name=hpo_terms]").await;
    if page.javascript {
        page.press("button[data-add-row]").await;
        assert_eq!(page.count("input[name=hpo_terms]").await, rows + 1);
        let added = format!("#field-hpo_terms-{rows}");
        assert_eq!(
            page.focused_id().await,
            added[1..],
            "the new row has the focus"
        );
        assert!(
            page.text_of(&format!("label[for='{}']", &added[1..]))
                .await
                .ends_with(&(rows + 1).to_string())
        );
        page.fill_nth("hpo_terms", rows, "HP:0002652").await;
    } else {
        assert!(!page.exists("button[data-add-row]:not([hidden])").await);
        page.fill_nth("hpo_terms", 1, "HP:0002652").await;
    }
    page.fill("consent_obtained", "true").await;
    page.click("button[name=intent][value=submit]").await;
    page.step("the form, refused");
    let summary = page.text_of(".error-summary").await;
    assert!(summary.contains("ORPHA"), "{summary}");
    assert!(
        page.exists("#field-suspected_diagnosis-orpha_code[aria-invalid=true]")
            .await
    );
    assert!(
        page.text_of("#field-suspected_diagnosis-orpha_code-error")
            .await
            .contains("ORPHA:<chiffres>")
    );
    assert_eq!(
        page.value("suspected_diagnosis.orpha_code").await,
        "ORPHA-429"
    );
    assert_eq!(page.value("patient.initials").await, "AB", "values kept");
    page.check("new request, refused").await;
    assert!(
        page.text_of("#topic-route")
            .await
            .contains("Weekly national MOC RCP"),
        "the chosen topic's meeting, shown again by the server"
    );
    if shots {
        page.screenshot(&screenshot_dir().join("request-form.png"))
            .await;
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM requests").await, 0);
    page.fill("suspected_diagnosis.orpha_code", "ORPHA:429")
        .await;
    page.click("button[name=intent][value=submit]").await;
    let request_path = page.path().await;
    assert!(request_path.ends_with("?done=submitted"), "{request_path}");
    let id = request_path
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let text = page.text().await;
    assert!(text.contains("Soumise"), "the status in words");
    assert!(text.contains("Réunion proposée"), "the proposed date");
    assert!(text.contains("mercredi"), "on a Wednesday: {text}");
    assert!(
        text.contains("HP:0004322, HP:0002652"),
        "both HPO terms: {text}"
    );
    page.check("request, submitted").await;

    page.step("attach a PDF");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("courbe-de-croissance.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").unwrap();
    page.fill("file", pdf.to_str().unwrap()).await;
    page.click("form[action$='/attachments'] button").await;
    assert!(
        page.text().await.contains("courbe-de-croissance.pdf"),
        "the file is listed"
    );
    page.check("request, attached").await;
    // The PDF opens in the browser itself, not as a download.
    page.click_link("courbe-de-croissance.pdf").await;
    assert!(page.path().await.ends_with("?view=1"));
    assert_eq!(
        page.script("return document.contentType;").await,
        "application/pdf"
    );
    page.goto(&format!("/requests/{id}")).await;

    page.step("answer the coordinators");
    let (_, coordinator) = app.staff(&COORDINATOR).await;
    let asked = app
        .request_info(&id, "Please add the skeletal survey.", &coordinator)
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    page.goto(&format!("/requests/{id}")).await;
    assert!(
        page.text()
            .await
            .contains("Please add the skeletal survey.")
    );
    page.check("request, information needed").await;
    page.fill("body", "Survey attached: mesomelic shortening.")
        .await;
    page.click("form[action$='/messages'] button").await;
    assert!(page.text().await.contains("Votre réponse a été envoyée"));
    page.check("request, answered").await;

    page.step("the opinion, delivered");
    let (expert_id, expert) = app.staff(&EXPERT).await;
    let experts = app
        .set_experts("rcp-national", &[&expert_id], &coordinator)
        .await;
    assert_eq!(experts.status, 200, "{:?}", experts.body);
    let meeting = app.past_meeting(&coordinator, "rcp-national", 10).await;
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
    app.deliver_emails().await;
    let delivered = app
        .smtp
        .mails_to(email)
        .into_iter()
        .find(|mail| mail.subject().contains("avis disponible"))
        .expect("the delivery e-mail");
    let link = delivered.link(&public_url);
    assert_eq!(link, format!("/requests/{id}"));
    page.goto(&link).await;
    let text = page.text().await;
    assert!(text.contains("Avis"), "{text}");
    assert!(
        text.contains(opinion()["summary"].as_str().unwrap()),
        "{text}"
    );
    page.check("request, opinion delivered").await;
    if shots {
        page.screenshot(&screenshot_dir().join("request.png")).await;
    }

    page.step("sign out");
    page.click("form[action='/logout'] button").await;
    page.check("signed out").await;
    page.goto(&format!("/requests/{id}")).await;
    assert!(page.path().await.starts_with("/login?next="));
    page.check("sign in, asked").await;
    for (label, weight) in &page.checked {
        eprintln!("{label}: {weight:?}");
    }
}

/// The RCP secretary's week, in the browser: sign in with a TOTP code, triage three requests
/// (one confirmed from its row in one click, one moved to another staff's meeting, one asked
/// for information), record a meeting held with its regulars offered again (nothing typed)
/// and one case not reached (carried over); an expert drafts the opinion; the coordinator
/// delivers it after the confirmation, and the requester's e-mail goes out.
async fn a_coordinator_runs_the_week_in_a_browser(backend: Backend) {
    let name = if backend.is_postgres() {
        "postgres-week"
    } else {
        "sqlite-week"
    };
    let shots = !backend.is_postgres();
    let app = spawn_app(backend).await;
    let Some(page) = Page::open(&app.api.url(""), true).await else {
        return;
    };
    page.run(name, |page| week(&app, page, shots)).await;
}

async fn signed_in_with_code(app: &TestApp, page: &mut Page, email: &str) {
    page.step(&format!("{email} signs in"));
    page.goto("/login").await;
    page.fill("email", email).await;
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    assert!(
        page.path().await.starts_with("/login/mfa"),
        "{}",
        page.path().await
    );
    let code = app.totp.code(TOTP_SECRET, email).await;
    page.fill("code", &code).await;
    page.click("form[action^='/login/mfa'] button[type=submit]")
        .await;
}

async fn week(app: &TestApp, mut page: Page, shots: bool) {
    let email = "marie.leroy@chu-lille.fr";
    let requester = app.register_and_login(email, &rpps(71)).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut submitted = Vec::new();
    for (urgency, local) in [
        ("routine", "IPP-1"),
        ("routine", "IPP-2"),
        ("urgent", "IPP-3"),
        ("routine", "IPP-4"),
        ("routine", "IPP-5"),
    ] {
        let mut form = request_form(local);
        form["urgency"] = serde_json::json!(urgency);
        let id = app.draft(form, &requester).await.id();
        let view = app.submit_draft(&id, &requester).await;
        submitted.push((id, view.body["reference"].as_str().unwrap().to_owned()));
    }
    app.add_user(
        COORDINATOR.email,
        &COORDINATOR.rpps(),
        &["coordinator"],
        Some(TOTP_SECRET),
    )
    .await;
    let expert_id = app
        .add_user(EXPERT.email, &EXPERT.rpps(), &["expert"], Some(TOTP_SECRET))
        .await;
    let coordinator = app.sign_in(COORDINATOR.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The two last requests go to this week's meeting, which just started; last week's was
    // held with the staff's regulars.
    let last_week = (chrono::Utc::now() - chrono::Duration::days(6)).to_rfc3339();
    let previous = app
        .create_meeting("rcp-national", &last_week, 10, &coordinator)
        .await
        .id();
    assert_eq!(
        app.hold(&previous, meeting_record(&[]), &coordinator)
            .await
            .status,
        200
    );
    let meeting = app.past_meeting(&coordinator, "rcp-national", 10).await;
    for (id, _) in &submitted[3..] {
        assert_eq!(app.schedule(id, &meeting, &coordinator).await.status, 200);
    }
    assert_eq!(
        app.set_experts("rcp-national", &[&expert_id], &coordinator)
            .await
            .status,
        200
    );
    let [
        (confirmed, confirmed_ref),
        (moved, _),
        (asked, asked_ref),
        (discussed, _),
        (carried, _),
    ] = &submitted[..]
    else {
        unreachable!()
    };

    signed_in_with_code(app, &mut page, COORDINATOR.email).await;
    assert_eq!(page.path().await, "/triage", "the coordinator's home");
    page.check("triage").await;
    let rows = page.text_of("tbody").await;
    assert!(
        rows.find(asked_ref.as_str()) < rows.find(confirmed_ref.as_str()),
        "urgent first: {rows}"
    );
    if shots {
        page.screenshot(&screenshot_dir().join("triage.png")).await;
    }

    page.step("confirm from the row");
    let clicks = page.clicks();
    page.click(&format!(
        "form[action='/requests/{confirmed}/schedule'] button"
    ))
    .await;
    assert_eq!(page.clicks(), clicks + 1, "one action from /triage");
    assert!(
        page.text()
            .await
            .contains(&format!("{confirmed_ref} est programmée"))
    );
    page.check("triage, confirmed").await;

    page.step("move to another staff's meeting");
    let before = (page.clicks(), page.typed());
    page.click(&format!("a[href='/requests/{moved}']")).await;
    page.check("request, to decide").await;
    let molecular = app.meetings("molecular", &coordinator).await;
    let other = molecular.body[0]["id"].as_str().unwrap().to_owned();
    page.fill("meeting_id", &other).await;
    page.click(&format!("form[action='/requests/{moved}/schedule'] button"))
        .await;
    assert_eq!(
        (page.clicks() - before.0, page.typed() - before.1),
        (2, 1),
        "open the request, choose the meeting, schedule"
    );
    assert_eq!(
        page.path().await,
        format!("/requests/{moved}?done=scheduled")
    );
    page.check("request, moved").await;
    assert_eq!(
        app.get_request(moved, &coordinator).await.body["staff"],
        "molecular"
    );

    page.step("ask for information");
    page.goto("/triage").await;
    let before = (page.clicks(), page.typed());
    page.click(&format!("a[href='/requests/{asked}']")).await;
    page.fill("message", "Please add the skeletal survey.")
        .await;
    page.click(&format!(
        "form[action='/requests/{asked}/request-info'] button"
    ))
    .await;
    assert_eq!(
        (page.clicks() - before.0, page.typed() - before.1),
        (2, 1),
        "open the request, write the question, send it"
    );
    assert_eq!(
        page.path().await,
        format!("/requests/{asked}?done=info_requested")
    );
    page.check("request, information requested").await;

    page.step("record the meeting held");
    page.click("a[href='/meetings']").await;
    page.check("meetings").await;
    let coming = app.get_request(confirmed, &coordinator).await.body["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    page.goto(&format!("/meetings/{coming}")).await;
    page.press("details summary").await;
    assert!(
        page.exists(&format!("form[action='/meetings/{coming}/move']"))
            .await
    );
    page.check("meeting, coming, to move or cancel").await;
    page.goto("/meetings").await;
    page.click(&format!("a[href='/meetings/{meeting}']")).await;
    assert!(
        page.text_of("#quorum").await.contains("3 sur 3"),
        "{}",
        page.text_of("#quorum").await
    );
    page.check("meeting, to record").await;
    if shots {
        page.screenshot(&screenshot_dir().join("held-meeting.png"))
            .await;
    }
    let (clicks, typed) = (page.clicks(), page.typed());
    page.press(&format!("#discussed-{carried}")).await;
    page.click(&format!(
        "form[action='/meetings/{meeting}/held'] button[type=submit]"
    ))
    .await;
    assert_eq!(page.typed(), typed, "the regulars were not typed again");
    assert_eq!(
        page.clicks(),
        clicks + 2,
        "untick the case not discussed, record"
    );
    assert_eq!(page.path().await, format!("/meetings/{meeting}?done=held"));
    page.check("meeting, held").await;
    assert_eq!(
        app.get_request(carried, &coordinator).await.body["status"],
        "scheduled",
        "carried over"
    );
    page.click("form[action='/logout'] button").await;

    page.step("the expert drafts the opinion");
    signed_in_with_code(app, &mut page, EXPERT.email).await;
    assert_eq!(page.path().await, "/meetings", "the expert's home");
    page.goto(&format!("/requests/{discussed}")).await;
    page.check("request, as an expert").await;
    page.click(&format!("a[href='/requests/{discussed}/opinion']"))
        .await;
    page.check("opinion editor").await;
    page.fill("summary", "Probable hypochondroplasia.").await;
    page.fill("diagnosis.text", "Hypochondroplasia").await;
    page.fill("diagnosis.status", "probable").await;
    page.fill("recommendations[0].kind", "genetic_test").await;
    page.fill("recommendations[0].text", "FGFR3 targeted sequencing")
        .await;
    page.click("form[action$='/opinion'] button[type=submit]")
        .await;
    assert_eq!(
        page.path().await,
        format!("/requests/{discussed}?done=opinion_saved")
    );
    page.check("request, opinion drafted").await;
    assert!(!page.exists("form[action$='/opinion/deliver']").await);
    page.click("form[action='/logout'] button").await;

    page.step("the coordinator delivers it");
    signed_in_with_code(app, &mut page, COORDINATOR.email).await;
    page.goto(&format!("/requests/{discussed}/opinion")).await;
    assert_eq!(page.value("diagnosis.text").await, "Hypochondroplasia");
    let before = (page.clicks(), page.typed());
    page.click("form[action$='/opinion/deliver'] button").await;
    page.check("deliver, confirm").await;
    assert!(page.text().await.contains("Probable hypochondroplasia."));
    page.click("form[action$='/opinion/deliver'] button").await;
    assert_eq!(
        page.path().await,
        format!("/requests/{discussed}?done=delivered")
    );
    assert_eq!(
        (page.clicks() - before.0, page.typed() - before.1),
        (2, 0),
        "deliver, confirm: nothing typed again"
    );
    page.check("request, delivered").await;
    app.deliver_emails().await;
    assert!(
        app.smtp
            .mails_to(email)
            .iter()
            .any(|mail| mail.subject().contains("opinion available")),
        "the requester is told"
    );
    page.click("form[action='/logout'] button").await;

    page.step("an admin grants a role and queues a dead message again");
    app.add_user(ADMIN.email, &ADMIN.rpps(), &["admin"], Some(TOTP_SECRET))
        .await;
    let requester_id = app.me(Some(&requester)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    signed_in_with_code(app, &mut page, ADMIN.email).await;
    assert_eq!(page.path().await, "/admin/users", "the admin's home");
    page.check("admin, users").await;
    page.press(&format!("#role-{requester_id}-expert")).await;
    page.click(&format!(
        "form[action='/admin/users/{requester_id}/roles'] button"
    ))
    .await;
    assert_eq!(page.path().await, "/admin/users?done=roles");
    page.check("admin, roles saved").await;
    page.click("a[href='/admin/audit']").await;
    page.check("admin, audit").await;
    let dead = app.smtp.mails_to(email)[0].outbox_id();
    app.execute(&format!(
        "UPDATE outbox SET status = 'dead', attempts = 4 WHERE id = '{dead}'"
    ))
    .await;
    page.goto("/admin/outbox?status=dead").await;
    page.check("admin, outbox").await;
    page.click(&format!(
        "form[action='/admin/outbox/{dead}/requeue'] button"
    ))
    .await;
    assert!(page.text().await.contains("remis en file"));
    page.check("admin, requeued").await;

    // The national data set: a period forgotten is said in words, on the form.
    page.click("a[href='/admin/exports']").await;
    page.check("admin, exports").await;
    page.fill("to", "2026-01-31").await;
    page.click("form[action='/admin/export/sdm-mr.csv'] button")
        .await;
    assert!(
        page.text().await.contains("obligatoire"),
        "{}",
        page.text().await
    );
    page.check("admin, exports, a period missing its first day")
        .await;

    // The activity figures: the week's requests in charts, each with its table.
    page.click("a[href='/kpis']").await;
    let text = page.text().await;
    assert!(text.contains("Demandes soumises par mois"), "{text}");
    page.check("admin, figures").await;
    page.goto("/kpis?from=2026-01-01&to=bientot").await;
    assert!(page.text().await.contains("Au (dernier jour, inclus)"));
    page.check("admin, figures, a wrong period").await;
}

/// An opinion's recommendation followed up from its page: the requester prepares the
/// follow-up in one action, completes and submits it, and finds it in the chain of requests
/// and in their follow-ups; the coordinator's list of follow-ups. Every page checked.
async fn a_requester_follows_an_opinion_up_in_a_browser(backend: Backend) {
    let name = if backend.is_postgres() {
        "postgres-follow-up"
    } else {
        "sqlite-follow-up"
    };
    let app = spawn_app(backend).await;
    let cast = crate::support::cast::Cast::new(&app).await;
    let cases = app.discussed(&cast, &["FU-BROWSER"]).await;
    let (parent, reference) = cases[0].clone();
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string();
    let opinion = serde_json::json!({
        "summary": "Achondroplasia is confirmed.",
        "diagnosis": {"text": "Achondroplasia", "orpha_code": "ORPHA:15", "status": "confirmed"},
        "recommendations": [
            {"kind": "genetic_test", "text": "Sequence FGFR3 and bring the result back",
             "due_on": due},
            {"kind": "referral", "text": "Genome sequencing at the genomic-medicine RCP",
             "site_code": "necker", "staff": "fmg2025"}
        ],
        "references": []
    });
    assert_eq!(
        app.put_opinion(&parent, opinion, &cast.coordinator)
            .await
            .status,
        200
    );
    assert_eq!(app.deliver(&parent, &cast.coordinator).await.status, 200);
    let Some(page) = Page::open(&app.api.url(""), true).await else {
        return;
    };
    page.run(name, |page| follow_up_steps(&app, page, parent, reference))
        .await;
}

async fn follow_up_steps(app: &TestApp, mut page: Page, parent: String, reference: String) {
    page.step("the requester signs in");
    page.goto("/login").await;
    page.fill("email", crate::support::cast::REQUESTER.email)
        .await;
    page.fill("password", PASSWORD).await;
    page.click("form[action^='/login'] button[type=submit]")
        .await;
    page.goto(&format!("/requests/{parent}")).await;
    page.check("a delivered opinion, its follow-ups to prepare")
        .await;
    assert_eq!(
        page.count("form[action$='/follow-ups'] button").await,
        2,
        "one per recommendation with a date or a staff"
    );

    // One action prepares it.
    page.click("form[action$='/follow-ups'] button").await;
    let path = page.path().await;
    assert!(path.ends_with("?done=follow_up"), "{path}");
    let text = page.text().await;
    assert!(text.contains("The follow-up request is prepared"), "{text}");
    assert!(text.contains(&reference), "the parent in the chain: {text}");
    page.check("the follow-up prepared").await;
    let id = path
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    page.goto(&format!("/requests/{id}/edit")).await;
    assert_eq!(
        page.value("question").await,
        "Sequence FGFR3 and bring the result back",
        "the question from the recommendation"
    );
    assert_eq!(
        page.value("patient.initials").await,
        "AB",
        "the patient copied"
    );
    page.check("the follow-up's form, prefilled").await;
    page.fill("clinical_summary", "FGFR3 sequencing found p.Gly380Arg.")
        .await;
    page.click("button[name=intent][value=submit]").await;
    let path = page.path().await;
    assert!(path.ends_with("?done=submitted"), "{path}");
    page.check("the follow-up submitted").await;

    page.goto(&format!("/requests/{parent}")).await;
    assert_eq!(
        page.count("form[action$='/follow-ups'] button").await,
        1,
        "the referral only is left to prepare"
    );
    assert!(page.exists(&format!("a[href='/requests/{id}']")).await);
    page.check("the opinion, one follow-up made").await;

    page.goto("/follow-ups?state=done").await;
    assert!(page.exists(&format!("a[href='/requests/{id}']")).await);
    page.check("my follow-ups, done").await;
    page.goto("/follow-ups").await;
    page.check("my follow-ups, due").await;

    page.step("the coordinator's follow-ups");
    page.click("form[action='/logout'] button").await;
    signed_in_with_code(app, &mut page, COORDINATOR.email).await;
    page.goto("/follow-ups?state=done").await;
    assert!(page.text().await.contains(&reference));
    page.check("the center's follow-ups").await;
}
