//! The coordinators' screens over plain HTTP on both databases: the triage list (urgent
//! first, filters in the URL, a proposed meeting confirmed in one action from its row), and
//! the decisions on a request's page (move to another staff's meeting, ask for information,
//! reject), refused in words when the input is wrong and as 403 pages for other roles.

use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, COORDINATOR, EXPERT, PASSWORD, TOTP_SECRET, rpps};
use crate::support::forms::{meeting_record, request_form};
use crate::support::html::{Browser, csrf_token, location};

on_both_backends!(
    a_coordinator_triages_from_the_screens,
    a_meeting_is_held_and_its_opinion_delivered_from_the_screens,
    an_admin_grants_a_role_and_queues_a_dead_message_again,
    a_coordinator_adds_moves_and_cancels_meetings,
);

/// A submitted request of `token`'s requester: its id and reference.
async fn submitted(app: &TestApp, token: &str, urgency: &str, topic: &str) -> (String, String) {
    let mut form = request_form("IPP-1");
    form["urgency"] = json!(urgency);
    form["topic"] = json!(topic);
    let id = app.draft(form, token).await.id();
    let view = app.submit_draft(&id, token).await;
    (id, view.body["reference"].as_str().unwrap().to_owned())
}

/// The value of the hidden field `name` in the first form whose action is `action`.
fn hidden_in(html: &str, action: &str, name: &str) -> String {
    let form = html
        .split(&format!("action=\"{action}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no form {action}"));
    let form = form.split("</form>").next().unwrap();
    let marker = format!("name=\"{name}\" value=\"");
    let at = form.find(&marker).expect("the hidden field") + marker.len();
    form[at..].split('"').next().unwrap().to_owned()
}

async fn a_coordinator_triages_from_the_screens(backend: Backend) {
    let app = spawn_app(backend).await;
    let requester = app
        .register_and_login("marie.leroy@chu-lille.fr", &rpps(61))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (routine, routine_ref) = submitted(&app, &requester, "routine", "diagnosis").await;
    let (urgent, urgent_ref) = submitted(&app, &requester, "urgent", "diagnosis").await;
    let (third, _) = submitted(&app, &requester, "routine", "treatment").await;
    let (fourth, _) = submitted(&app, &requester, "routine", "diagnosis").await;
    app.add_user(
        COORDINATOR.email,
        &COORDINATOR.rpps(),
        &["coordinator"],
        Some(TOTP_SECRET),
    )
    .await;

    // A requester is refused the coordinators' screens.
    let mut physician = Browser::new(&app.api);
    physician
        .sign_in("marie.leroy@chu-lille.fr", PASSWORD)
        .await;
    assert_eq!(physician.get("/triage").await.status, 403);
    let page = physician.get(&format!("/requests/{routine}")).await;
    assert!(
        !page.text.contains("/schedule\""),
        "no decision for a requester"
    );
    let refused = physician
        .post(
            &format!("/requests/{routine}/schedule"),
            &page,
            &[("meeting_id", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.text.contains("<h1>"), "a page");

    let mut browser = Browser::new(&app.api);
    let code = app.totp.code(TOTP_SECRET, COORDINATOR.email).await;
    browser
        .sign_in_with_code(COORDINATOR.email, PASSWORD, &code)
        .await;
    assert_eq!(
        location(&browser.get("/").await),
        "/triage",
        "the coordinator's home"
    );

    // Urgent first, then the oldest.
    let triage = browser.get("/triage").await;
    assert_eq!(triage.status, 200, "{}", triage.text);
    let at = |reference: &str| triage.text.find(reference).unwrap_or(usize::MAX);
    assert!(at(&urgent_ref) < at(&routine_ref), "urgent first");
    assert!(triage.text.contains("places restantes") || triage.text.contains("place restante"));
    let only_urgent = browser.get("/triage?urgency=urgent").await;
    assert!(only_urgent.text.contains(&urgent_ref));
    assert!(
        !only_urgent.text.contains(&routine_ref),
        "the filter is the URL's"
    );

    // Confirmed in one action from its row; back to the same list, filters kept.
    let action = format!("/requests/{routine}/schedule");
    let meeting = hidden_in(&triage.text, &action, "meeting_id");
    let confirmed = browser
        .post_raw(
            &action,
            &[
                ("csrf_token", csrf_token(&triage.text).as_str()),
                ("meeting_id", meeting.as_str()),
                ("return_to", "/triage?urgency=routine"),
            ],
            Some(&browser.origin.clone()),
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.text);
    let back = location(&confirmed);
    assert!(
        back.starts_with("/triage?urgency=routine&done=scheduled"),
        "{back}"
    );
    let list = browser.get(&back).await;
    assert!(list.text.contains(&format!("{routine_ref} est programmée")));
    assert!(
        !list.text.contains(&format!("/requests/{routine}\"")),
        "no longer waiting"
    );
    let coordinator = app.sign_in(COORDINATOR.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = app.get_request(&routine, &coordinator).await;
    assert_eq!(view.body["status"], "scheduled");
    assert_eq!(view.body["meeting"]["id"], meeting.as_str());

    // The same list over the API (the screen's JSON twin): urgent first, each row with its
    // requester's site and its proposed meeting's room left.
    let queue = app.api.get("/api/v1/triage", Some(&coordinator)).await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    let items = queue.body["items"].as_array().unwrap();
    let references: Vec<&str> = items
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references[0], urgent_ref, "urgent first: {references:?}");
    assert!(
        !references.contains(&routine_ref.as_str()),
        "scheduled left"
    );
    assert_eq!(items.len(), 3, "{references:?}");
    let proposed = &items[0]["proposed_meeting"];
    assert!(proposed["capacity"].as_i64().unwrap() > proposed["booked"].as_i64().unwrap());
    assert!(items[0]["requester_site"].is_string(), "{}", items[0]);
    let urgent_only = app
        .api
        .get("/api/v1/triage?urgency=urgent&limit=1", Some(&coordinator))
        .await;
    assert_eq!(urgent_only.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        urgent_only.body["items"][0]["reference"],
        urgent_ref.as_str()
    );
    let refused = app.api.get("/api/v1/triage", Some(&requester)).await;
    assert_eq!(refused.status, 403);
    let not_waiting = app
        .api
        .get("/api/v1/triage?status=scheduled", Some(&coordinator))
        .await;
    assert_eq!(not_waiting.status, 422, "{}", not_waiting.text);
    assert_eq!(not_waiting.invalid_fields(), ["status"]);

    // Moved to another staff's meeting, from the request's page.
    let page = browser.get(&format!("/requests/{third}")).await;
    assert!(
        page.text.contains("Un message au demandeur"),
        "the coordinator writes to the requester"
    );
    assert!(
        !page.text.contains("Vous êtes prévenu"),
        "the requester's next steps are not the coordinator's"
    );
    assert!(
        page.text.contains("<optgroup label="),
        "the meetings, by staff"
    );
    let molecular = app.meetings("molecular", &coordinator).await;
    let other = molecular.body.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        page.text.contains(&format!("value=\"{other}\"")),
        "every staff's meetings offered"
    );
    let moved = browser
        .post(
            &format!("/requests/{third}/schedule"),
            &page,
            &[("meeting_id", other.as_str())],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.text);
    assert_eq!(
        location(&moved),
        format!("/requests/{third}?done=scheduled")
    );
    let view = app.get_request(&third, &coordinator).await;
    assert_eq!(view.body["staff"], "molecular", "rerouted");

    // Ask for information: an empty question is refused at its field.
    let page = browser.get(&format!("/requests/{urgent}")).await;
    let empty = browser
        .post(
            &format!("/requests/{urgent}/request-info"),
            &page,
            &[("message", "")],
        )
        .await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert!(empty.text.contains("href=\"#field-message\""));
    let asked = browser
        .post(
            &format!("/requests/{urgent}/request-info"),
            &page,
            &[("message", "Please add the skeletal survey.")],
        )
        .await;
    assert_eq!(asked.status, 303);
    let view = app.get_request(&urgent, &coordinator).await;
    assert_eq!(view.body["status"], "needs_info");
    let waiting = browser.get("/triage?status=needs_info").await;
    assert!(
        waiting.text.contains(&urgent_ref),
        "those waiting for an answer"
    );

    // Reject, with a reason.
    let page = browser.get(&format!("/requests/{fourth}")).await;
    let no_reason = browser
        .post(
            &format!("/requests/{fourth}/reject"),
            &page,
            &[("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.text.contains("href=\"#field-reason\""));
    let rejected = browser
        .post(
            &format!("/requests/{fourth}/reject"),
            &page,
            &[("reason", "Outside the network's scope: acquired condition.")],
        )
        .await;
    assert_eq!(rejected.status, 303);
    let view = app.get_request(&fourth, &coordinator).await;
    assert_eq!(view.body["status"], "rejected");

    // A stale page: the request already moved on.
    let stale = browser
        .post(
            &format!("/requests/{fourth}/reject"),
            &page,
            &[("reason", "Again.")],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(
        stale
            .text
            .contains("La demande est maintenant : Non retenue."),
        "{}",
        stale.text
    );
}

/// A staff member signed in through the screens (password, then a TOTP code), with an API
/// token of the same account for the test's own calls.
async fn staff_in_browser(
    app: &TestApp,
    email: &str,
    rpps: &str,
    roles: &[&str],
) -> (Browser, String, String) {
    let id = app.add_user(email, rpps, roles, Some(TOTP_SECRET)).await;
    let token = app.sign_in(email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&app.api);
    let code = app.totp.code(TOTP_SECRET, email).await;
    browser.sign_in_with_code(email, PASSWORD, &code).await;
    (browser, token, id)
}

async fn a_meeting_is_held_and_its_opinion_delivered_from_the_screens(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "marie.leroy@chu-lille.fr";
    let requester = app.register_and_login(email, &rpps(62)).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (discussed, reference) = submitted(&app, &requester, "routine", "diagnosis").await;
    let (not_reached, _) = submitted(&app, &requester, "routine", "diagnosis").await;
    let (mut browser, coordinator, _) = staff_in_browser(
        &app,
        COORDINATOR.email,
        &COORDINATOR.rpps(),
        &["coordinator"],
    )
    .await;

    // Last week's meeting, held with its regulars; this week's, just started.
    let last_week = (chrono::Utc::now() - chrono::Duration::days(6)).to_rfc3339();
    let previous = app
        .create_meeting("rcp-national", &last_week, 10, &coordinator)
        .await
        .id();
    let held = app.hold(&previous, meeting_record(&[]), &coordinator).await;
    assert_eq!(held.status, 200, "{}", held.text);
    let meeting = app.past_meeting(&coordinator, "rcp-national", 10).await;
    for id in [&discussed, &not_reached] {
        let scheduled = app.schedule(id, &meeting, &coordinator).await;
        assert_eq!(scheduled.status, 200, "{}", scheduled.text);
    }

    let list = browser.get("/meetings").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.text.contains(&format!("/meetings/{meeting}")));
    let page = browser.get(&format!("/meetings/{meeting}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(&reference), "the agenda");
    // The regulars are offered again: nothing to type for them.
    for name in ["Pr A", "Dr B", "Dr C"] {
        assert!(
            page.text.contains(&format!("value=\"{name}\"")),
            "{name} offered"
        );
    }
    assert!(
        page.text.contains("Quorum"),
        "the quorum shown before sending"
    );

    // Too few present: refused at the field, the rows kept.
    let csrf = csrf_token(&page.text);
    let action = format!("/meetings/{meeting}/held");
    let alone = browser
        .post_raw(
            &action,
            &[
                ("csrf_token", csrf.as_str()),
                ("participants[0].name", "Pr A"),
                ("participants[0].specialty", "Genetics"),
                ("participants[0].site_code", "necker"),
                ("participants[1].name", ""),
                ("discussed", discussed.as_str()),
            ],
            Some(&browser.origin.clone()),
        )
        .await;
    assert_eq!(alone.status, 422, "{}", alone.text);
    assert!(alone.text.contains("value=\"Pr A\""), "values kept");
    // As offered (the regulars), one case discussed: the other is carried over.
    let recorded = browser
        .post_raw(
            &action,
            &[
                ("csrf_token", csrf.as_str()),
                ("participants[0].name", "Pr A"),
                ("participants[0].specialty", "Genetics"),
                ("participants[0].site_code", "necker"),
                ("participants[1].name", "Dr B"),
                ("participants[1].specialty", "Radiology"),
                ("participants[1].site_code", "necker"),
                ("participants[2].name", "Dr C"),
                ("participants[2].specialty", "Orthopedics"),
                ("participants[2].site_code", "lyon"),
                ("participants[3].name", ""),
                ("discussed", discussed.as_str()),
            ],
            Some(&browser.origin.clone()),
        )
        .await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);
    assert_eq!(
        location(&recorded),
        format!("/meetings/{meeting}?done=held")
    );
    let view = app.get_request(&discussed, &coordinator).await;
    assert_eq!(view.body["status"], "discussed");
    let page = browser.get(&format!("/meetings/{meeting}")).await;
    assert!(
        page.text.contains("Avis à rédiger"),
        "what is missing, at a glance"
    );
    let view = app.get_request(&not_reached, &coordinator).await;
    assert_eq!(view.body["status"], "scheduled");
    assert_ne!(view.body["meeting"]["id"], meeting.as_str(), "carried over");

    // An expert of the staff drafts the opinion; only a coordinator delivers it.
    let (mut expert, _, expert_id) =
        staff_in_browser(&app, EXPERT.email, &EXPERT.rpps(), &["expert"]).await;
    let experts = app
        .set_experts("rcp-national", &[&expert_id], &coordinator)
        .await;
    assert_eq!(experts.status, 200);
    let page = expert.get(&format!("/requests/{discussed}")).await;
    assert!(
        page.text
            .contains(&format!("/requests/{discussed}/opinion\"")),
        "{} {}",
        page.status,
        page.text
    );
    let editor = expert.get(&format!("/requests/{discussed}/opinion")).await;
    assert_eq!(editor.status, 200, "{}", editor.text);
    assert!(
        editor.text.contains("Pr A"),
        "the attendance beside the editor"
    );
    let action = format!("/requests/{discussed}/opinion");
    let missing = expert
        .post(
            &action,
            &editor,
            &[("summary", "Probable hypochondroplasia.")],
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert!(missing.text.contains("href=\"#field-diagnosis-status\""));
    assert!(
        missing.text.contains("Probable hypochondroplasia."),
        "values kept"
    );
    let empty = expert.post(&action, &editor, &[]).await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    for field in ["summary", "diagnosis-text", "diagnosis-status"] {
        assert!(
            empty.text.contains(&format!("href=\"#field-{field}\"")),
            "every mistake said at once: {field}"
        );
    }
    let saved = expert
        .post(
            &action,
            &editor,
            &[
                ("summary", "Probable hypochondroplasia."),
                ("diagnosis.text", "Hypochondroplasia"),
                ("diagnosis.orpha_code", "ORPHA:429"),
                ("diagnosis.status", "probable"),
                ("recommendations[0].kind", "genetic_test"),
                ("recommendations[0].text", "FGFR3 targeted sequencing"),
                ("recommendations[0].site_code", ""),
                ("recommendations[1].kind", "referral"),
                ("recommendations[1].text", "Follow-up in the nearest center"),
                ("recommendations[1].site_code", "nancy"),
                ("recommendations[2].kind", ""),
                ("recommendations[2].text", ""),
                ("references", "Unger S. et al., 2023\nSecond reference"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let page = browser.get(&format!("/meetings/{meeting}")).await;
    assert!(page.text.contains("Avis en brouillon"));
    assert!(!page.text.contains("Avis à rédiger"));
    let draft = app.get_opinion(&discussed, &coordinator).await;
    assert_eq!(draft.body["recommendations"][1]["site_code"], "nancy");
    assert_eq!(draft.body["references"].as_array().unwrap().len(), 2);
    let by_expert = expert
        .post(
            &format!("{action}/deliver"),
            &editor,
            &[("confirmed", "true")],
        )
        .await;
    assert_eq!(by_expert.status, 403, "only a coordinator delivers");

    // Delivered after a confirmation step.
    let editor = browser.get(&action).await;
    assert!(
        editor.text.contains("value=\"Hypochondroplasia\""),
        "the draft, filled in"
    );
    let confirm = browser
        .post(&format!("{action}/deliver"), &editor, &[])
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    assert!(confirm.text.contains("Probable hypochondroplasia."));
    assert_eq!(
        app.get_request(&discussed, &coordinator).await.body["status"],
        "discussed",
        "nothing delivered before the confirmation"
    );
    let delivered = browser
        .post(
            &format!("{action}/deliver"),
            &confirm,
            &[("confirmed", "true")],
        )
        .await;
    assert_eq!(delivered.status, 303, "{}", delivered.text);
    assert_eq!(
        app.get_request(&discussed, &coordinator).await.body["status"],
        "completed"
    );
    app.deliver_emails().await;
    assert!(
        app.smtp.mails_to(email).iter().any(|mail| mail
            .subject()
            .contains(&format!("opinion available for request {reference}"))),
        "the requester is told"
    );
}

async fn an_admin_grants_a_role_and_queues_a_dead_message_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "paul.morel@chu-brest.fr";
    let pair = app.register_and_login(email, &rpps(81)).await;
    let token = pair["access_token"].as_str().unwrap().to_owned();
    let user_id = app.me(Some(&token)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut physician = Browser::new(&app.api);
    physician.sign_in(email, PASSWORD).await;
    assert_eq!(physician.get("/admin/users").await.status, 403);
    assert_eq!(physician.get("/admin/outbox").await.status, 403);

    let (mut browser, admin, _) =
        staff_in_browser(&app, ADMIN.email, &ADMIN.rpps(), &["admin"]).await;
    let users = browser.get("/admin/users").await;
    assert_eq!(users.status, 200, "{}", users.text);
    assert!(users.text.contains(email));
    // Search by part of the address or the name, whatever the case; `%` is a character.
    let found = browser.get("/admin/users?q=MOREL").await;
    assert!(found.text.contains(email), "{}", found.text);
    assert!(!found.text.contains(ADMIN.email), "only those matching");
    let none = browser.get("/admin/users?q=%25").await;
    assert!(!none.text.contains(email), "a % matches a % only");
    let api = app
        .get("/api/v1/admin/users?q=chu-brest", Some(&admin))
        .await;
    assert_eq!(
        api.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        api.text
    );

    // Grant a role: the account's sessions end, the change is audited.
    let granted = browser
        .post(
            &format!("/admin/users/{user_id}/roles"),
            &users,
            &[("roles", "requester"), ("roles", "expert")],
        )
        .await;
    assert_eq!(granted.status, 303, "{}", granted.text);
    assert_eq!(location(&granted), "/admin/users?done=roles");
    let again = app.sign_in(email, PASSWORD).await;
    let roles = app.me(again["access_token"].as_str()).await;
    assert_eq!(roles.body["roles"], json!(["requester", "expert"]));
    assert_eq!(physician.get("/requests").await.status, 303, "signed out");
    // The new expert sits in the national RCP.
    let users = browser.get("/admin/users").await;
    assert!(
        users
            .text
            .contains(&format!("id=\"expert-rcp-national-{user_id}\""))
    );
    let seated = browser
        .post(
            "/admin/staffs/rcp-national/experts",
            &users,
            &[("user_ids", user_id.as_str())],
        )
        .await;
    assert_eq!(seated.status, 303, "{}", seated.text);
    assert_eq!(location(&seated), "/admin/users?done=experts");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM staff_experts WHERE staff_code = 'rcp-national' \
             AND user_id = '{user_id}'"
        ))
        .await,
        1
    );
    let audit = browser.get("/admin/audit?action=role.set").await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert!(audit.text.contains("role.set"));
    assert!(
        audit.text.contains(&user_id),
        "the account the change was on"
    );

    // A message given up: queued again once, audited; a second time is refused in words.
    app.deliver_emails().await;
    app.execute("UPDATE outbox SET status = 'dead', attempts = 4")
        .await;
    let dead = browser.get("/admin/outbox?status=dead").await;
    assert_eq!(dead.status, 200, "{}", dead.text);
    assert!(dead.text.contains("Abandonné"));
    let outbox_id = app.smtp.mails_to(email)[0].outbox_id();
    let action = format!("/admin/outbox/{outbox_id}/requeue");
    assert!(dead.text.contains(&format!("action=\"{action}\"")));
    let queued = browser.post(&action, &dead, &[]).await;
    assert_eq!(queued.status, 303, "{}", queued.text);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE id = '{outbox_id}' AND status = 'pending'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'outbox.requeue'")
            .await,
        1
    );
    let again = browser.post(&action, &dead, &[]).await;
    assert_eq!(again.status, 409, "{}", again.text);
    let before = app.smtp.mails_to(email).len();
    app.deliver_emails().await;
    assert_eq!(app.smtp.mails_to(email).len(), before + 1, "sent again");
    let api = app
        .post(
            &format!("/api/v1/admin/outbox/{outbox_id}/requeue"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert!(api.is_problem(409), "{}", api.text);
}

async fn a_coordinator_adds_moves_and_cancels_meetings(backend: Backend) {
    let app = spawn_app(backend).await;
    let requester = app
        .register_and_login("marie.leroy@chu-lille.fr", &rpps(91))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (request, _) = submitted(&app, &requester, "routine", "diagnosis").await;
    let (mut browser, coordinator, _) = staff_in_browser(
        &app,
        COORDINATOR.email,
        &COORDINATOR.rpps(),
        &["coordinator"],
    )
    .await;
    let page = browser.get("/meetings").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains("action=\"/staffs/rcp-national/meetings\"")
    );

    // An extraordinary meeting, in the center's local time; a wrong date refused at its field.
    let action = "/staffs/rcp-national/meetings";
    let wrong = browser
        .post(
            action,
            &page,
            &[("starts_at", "next week"), ("capacity", "8")],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert!(wrong.text.contains("aria-invalid=\"true\""));
    assert!(wrong.text.contains("value=\"8\""), "values kept");
    let day = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let local = format!("{day}T10:30");
    let added = browser
        .post(
            action,
            &page,
            &[
                ("starts_at", local.as_str()),
                ("duration_minutes", "90"),
                ("capacity", "8"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.text);
    let meetings = app.meetings("rcp-national", &coordinator).await;
    let extra = meetings
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["extraordinary"] == true)
        .expect("the extraordinary meeting")
        .clone();
    let starts: chrono::DateTime<chrono::Utc> =
        extra["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        starts
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%H:%M")
            .to_string(),
        "10:30",
        "the center's local time"
    );
    assert_eq!(extra["capacity"], 8);
    let id = extra["id"].as_str().unwrap().to_owned();

    // The request goes there; the meeting moves, then is cancelled: the requester is told.
    assert_eq!(app.schedule(&request, &id, &coordinator).await.status, 200);
    let page = browser.get(&format!("/meetings/{id}")).await;
    assert!(
        page.text
            .contains(&format!("action=\"/meetings/{id}/move\""))
    );
    let later = format!("{}T11:00", day + chrono::Duration::days(1));
    let moved = browser
        .post(
            &format!("/meetings/{id}/move"),
            &page,
            &[("starts_at", later.as_str())],
        )
        .await;
    assert_eq!(moved.status, 303, "{}", moved.text);
    assert_eq!(location(&moved), format!("/meetings/{id}?done=moved"));
    let cancelled = browser
        .post(&format!("/meetings/{id}/cancel"), &page, &[])
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.text);
    let view = app.get_request(&request, &coordinator).await;
    assert_ne!(
        view.body["meeting"]["id"],
        id.as_str(),
        "moved to the next meeting"
    );
    app.deliver_emails().await;
    let told = app.smtp.mails_to("marie.leroy@chu-lille.fr").len();
    assert!(
        told >= 4,
        "acknowledged, scheduled, moved, cancelled: {told}"
    );
}
