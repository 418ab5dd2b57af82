//! Follow-up requests: a delivered opinion's recommendations (with a due date and the staff
//! that should see the follow-up) turned by the requester into linked drafts, prefilled from
//! the request they follow up, that the requester completes and submits as any draft.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{COORDINATOR, Cast, PASSWORD, REQUESTER, TOTP_SECRET, rpps};
use crate::support::forms::request_form;
use crate::support::html::{Browser, location};

on_both_backends!(recommendations_become_linked_prefilled_drafts);

/// The opinion of the loop: a genetic test due in `due_in` days (the same staff again), and a
/// referral to the genomic-medicine RCP for genome sequencing.
fn opinion(due_in: i64, genomic_staff: &str) -> Value {
    let due = (Utc::now().date_naive() + Duration::days(due_in)).to_string();
    json!({
        "summary": "Achondroplasia is confirmed on the skeletal survey.",
        "diagnosis": {"text": "Achondroplasia", "orpha_code": "ORPHA:15", "status": "confirmed"},
        "recommendations": [
            {"kind": "genetic_test", "text": "Sequence FGFR3 and bring the result back",
             "due_on": due},
            {"kind": "referral", "text": "Genome sequencing at the genomic-medicine RCP",
             "site_code": "necker", "staff": genomic_staff},
            {"kind": "follow_up", "text": "Re-evaluate growth in six months",
             "due_on": (Utc::now().date_naive() + Duration::days(180)).to_string()},
            {"kind": "other", "text": "Genetic counselling for the parents"}
        ],
        "references": []
    })
}

async fn recommendations_become_linked_prefilled_drafts(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let cases = app.discussed(&cast, &["FU-PARENT"]).await;
    let (parent, reference) = &cases[0];

    // The opinion editor on the screens keeps a recommendation's date and staff.
    let mut editor = Browser::new(&app.api);
    let code = app.totp.code(TOTP_SECRET, COORDINATOR.email).await;
    editor
        .sign_in_with_code(COORDINATOR.email, PASSWORD, &code)
        .await;
    let form = editor.get(&format!("/requests/{parent}/opinion")).await;
    assert_eq!(form.status, 200, "{}", form.text);
    let later = (Utc::now().date_naive() + Duration::days(30)).to_string();
    let saved = editor
        .post(
            &format!("/requests/{parent}/opinion"),
            &form,
            &[
                ("summary", "Achondroplasia is confirmed."),
                ("diagnosis.text", "Achondroplasia"),
                ("diagnosis.status", "confirmed"),
                ("recommendations[0].kind", "genetic_test"),
                ("recommendations[0].text", "Sequence FGFR3"),
                ("recommendations[0].due_on", later.as_str()),
                ("recommendations[0].staff", "fmg2025"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let draft = app.get_opinion(parent, &cast.coordinator).await.body;
    assert_eq!(draft["recommendations"][0]["due_on"], json!(later));
    assert_eq!(draft["recommendations"][0]["staff"], "fmg2025");
    let shown = editor.get(&format!("/requests/{parent}/opinion")).await;
    assert!(
        shown.text.contains(&format!("value=\"{later}\"")),
        "the date shown again"
    );

    // The opinion names a staff of the network, and a due date not past at delivery.
    let wrong = app
        .put_opinion(parent, opinion(10, "atlantis"), &cast.coordinator)
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert_eq!(wrong.invalid_fields(), ["recommendations[1].staff"]);
    let late = app
        .put_opinion(parent, opinion(-1, "fmg2025"), &cast.coordinator)
        .await;
    assert_eq!(late.status, 200, "a draft may wait: {}", late.text);
    // No follow-up from a draft.
    let early = app.follow_up(parent, json!({}), &cast.requester).await;
    assert_eq!(early.status, 409, "{}", early.text);
    let refused = app.deliver(parent, &cast.coordinator).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.invalid_fields(), ["recommendations[0].due_on"]);
    assert_eq!(
        app.put_opinion(parent, opinion(10, "fmg2025"), &cast.coordinator)
            .await
            .status,
        200
    );
    assert_eq!(app.deliver(parent, &cast.coordinator).await.status, 200);
    let delivered = app.get_opinion(parent, &cast.requester).await.body;
    let due = (Utc::now().date_naive() + Duration::days(10)).to_string();
    assert_eq!(delivered["recommendations"][0]["due_on"], json!(due));
    assert_eq!(delivered["recommendations"][1]["staff"], "fmg2025");

    // Only its requester makes a follow-up; another requester does not see the request.
    let coordinator = app.follow_up(parent, json!({}), &cast.coordinator).await;
    assert_eq!(coordinator.status, 403, "{}", coordinator.text);
    let other = app
        .register_and_login("other@chu-lille.fr", &rpps(93))
        .await;
    let other = other["access_token"].as_str().unwrap();
    let hidden = app
        .follow_up(parent, json!({"recommendation": 0}), other)
        .await;
    assert_eq!(hidden.status, 404, "{}", hidden.text);
    let beyond = app
        .follow_up(parent, json!({"recommendation": 4}), &cast.requester)
        .await;
    assert_eq!(beyond.status, 422, "{}", beyond.text);
    assert_eq!(beyond.invalid_fields(), ["recommendation"]);

    // The genetic test: the same staff again, everything copied but what is new.
    let made = app
        .follow_up(parent, json!({"recommendation": 0}), &cast.requester)
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let test = &made.body;
    let original = app.get_request(parent, &cast.requester).await.body;
    assert_eq!(original["patient"]["local_id"], "FU-PARENT");
    assert_eq!(test["status"], "draft");
    assert_eq!(
        test["parent"],
        json!({"id": parent, "reference": reference})
    );
    assert_eq!(test["topic"], "diagnosis", "the parent's, its staff again");
    assert_eq!(test["question"], "Sequence FGFR3 and bring the result back");
    assert_eq!(test["patient"], original["patient"]);
    for copied in [
        "family_history",
        "growth",
        "genetic_tests",
        "hpo_terms",
        "consent_obtained",
    ] {
        assert_eq!(test[copied], original[copied], "{copied}");
    }
    assert_eq!(test["hpo_terms"], request_form("FU-PARENT")["hpo_terms"]);
    assert_eq!(
        test["suspected_diagnosis"],
        json!({"text": "Achondroplasia", "orpha_code": "ORPHA:15"}),
        "the diagnosis retained, not the one suspected"
    );
    assert_eq!(
        test["clinical_summary"],
        Value::Null,
        "the requester's to write"
    );
    assert_ne!(test["reference"], json!(reference));
    let test_id = made.id();
    // Asking again answers the same draft.
    let again = app
        .follow_up(parent, json!({"recommendation": 0}), &cast.requester)
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.id(), test_id);
    // The opinion shows the follow-up made for each recommendation.
    let read = app.get_opinion(parent, &cast.requester).await.body;
    assert_eq!(
        read["recommendations"][0]["follow_up"]["id"],
        json!(test_id)
    );
    assert_eq!(read["recommendations"][0]["follow_up"]["status"], "draft");
    assert_eq!(read["recommendations"][1]["follow_up"], Value::Null);

    // The referral to the genomic RCP: its staff's topic, routed there once submitted.
    let genomic = app
        .follow_up(parent, json!({"recommendation": 1}), &cast.requester)
        .await;
    assert_eq!(genomic.status, 201, "{}", genomic.text);
    assert_eq!(genomic.body["topic"], "genome_sequencing");
    let genomic_id = genomic.id();
    // Nothing is submitted for the requester, and the rules of any submission apply.
    let incomplete = app.submit(&genomic_id, &cast.requester).await;
    assert_eq!(incomplete.status, 422, "{}", incomplete.text);
    assert_eq!(incomplete.invalid_fields(), ["clinical_summary"]);
    let in_two_days = (Utc::now().date_naive() + Duration::days(2)).to_string();
    let future = app
        .update_request(
            &genomic_id,
            json!({"patient": {"birth_date": in_two_days}}),
            &cast.requester,
        )
        .await;
    assert_eq!(future.status, 422, "the birth-date rule: {}", future.text);
    assert_eq!(future.invalid_fields(), ["patient.birth_date"]);
    // As a fetal case, the gestational age is required, as for any draft.
    let fetal = app
        .update_request(&genomic_id, json!({"topic": "fetal"}), &cast.requester)
        .await;
    assert_eq!(fetal.status, 200, "{}", fetal.text);
    let refused = app.submit(&genomic_id, &cast.requester).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused
            .invalid_fields()
            .contains(&"patient.gestational_age_weeks".to_owned()),
        "{}",
        refused.text
    );
    assert_eq!(
        app.update_request(
            &genomic_id,
            json!({"topic": "genome_sequencing"}),
            &cast.requester
        )
        .await
        .status,
        200
    );
    let completed = app
        .update_request(
            &genomic_id,
            json!({"clinical_summary": "FGFR3 sequencing found no variant."}),
            &cast.requester,
        )
        .await;
    assert_eq!(completed.status, 200, "{}", completed.text);
    let submitted = app.submit(&genomic_id, &cast.requester).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_eq!(submitted.body["staff"], "fmg2025");
    assert_eq!(submitted.body["parent"]["id"], json!(parent));
    // In FHIR, the follow-up's ServiceRequest is based on its parent's.
    let bundle = app
        .api
        .get(
            &format!("/api/v1/requests/{genomic_id}/fhir"),
            Some(&cast.requester),
        )
        .await;
    assert_eq!(bundle.status, 200, "{}", bundle.text);
    let service = bundle.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "ServiceRequest")
        .unwrap();
    assert_eq!(
        service["basedOn"][0]["identifier"]["value"],
        json!(reference),
        "{service:#}"
    );
    assert_eq!(service["basedOn"][0]["type"], "ServiceRequest");

    // The parent lists its follow-ups, each with its recommendation.
    let read = app.get_request(parent, &cast.requester).await.body;
    assert_eq!(read["parent"], Value::Null);
    let follow_ups: Vec<(String, String, i64)> = read["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
                f["recommendation"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        follow_ups,
        [
            (test_id.clone(), "draft".to_owned(), 0),
            (genomic_id.clone(), "submitted".to_owned(), 1)
        ]
    );
    let seen = app.get_request(parent, &cast.coordinator).await.body;
    assert_eq!(seen["follow_ups"].as_array().unwrap().len(), 2);

    // On the screens: each recommendation with a due date or a staff offers its follow-up,
    // or shows the one made; one action prepares it.
    let mut browser = Browser::new(&app.api);
    browser.sign_in(REQUESTER.email, PASSWORD).await;
    let page = browser.get(&format!("/requests/{parent}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let made_links = page.text.matches("Follow-up request ").count();
    assert_eq!(made_links, 2, "the two made: {}", page.text);
    assert_eq!(
        page.text.matches("Prepare the follow-up request").count(),
        1,
        "the re-evaluation only (the counselling has no date nor staff)"
    );
    let prepared = browser
        .post(
            &format!("/requests/{parent}/follow-ups"),
            &page,
            &[("recommendation", "2")],
        )
        .await;
    assert_eq!(prepared.status, 303, "{}", prepared.text);
    let next = location(&prepared);
    assert!(next.ends_with("?done=follow_up"), "{next}");
    let draft = browser.get(&next).await;
    assert!(
        draft.text.contains("The follow-up request is prepared"),
        "{}",
        draft.text
    );
    assert!(
        draft
            .text
            .contains(&format!("href=\"/requests/{parent}\">{reference}</a>")),
        "the parent linked: {}",
        draft.text
    );
    let after = browser.get(&format!("/requests/{parent}")).await;
    assert_eq!(
        after.text.matches("Prepare the follow-up request").count(),
        0
    );
    // The chain of requests: this one, then its three follow-ups, the genomic one at its RCP.
    let chain = &after.text[after.text.find("The chain of requests").expect("a chain")..];
    let chain = &chain[..chain.find("</ol>").unwrap()];
    assert_eq!(chain.matches("<li").count(), 4, "{chain}");
    assert!(chain.contains(reference.as_str()), "{chain}");
    assert!(
        chain.contains(genomic.body["reference"].as_str().unwrap()),
        "{chain}"
    );
    assert!(
        chain.contains("Genomic medicine (PFMG 2025) RCP"),
        "{chain}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_log \
             WHERE action = 'follow_up.create' AND outcome = 'allowed'"
        )
        .await,
        3,
        "one audit row per follow-up made"
    );

    // The lists of what is due: the recommendations with a date (the genetic test, the
    // re-evaluation), by date, each with its follow-up.
    let list = |state: &str, token: &str| {
        let path = format!("/api/v1/follow-ups?state={state}");
        let token = token.to_owned();
        let app = &app;
        async move {
            let answer = app.api.get(&path, Some(&token)).await;
            assert_eq!(answer.status, 200, "{path}: {}", answer.text);
            answer.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| {
                    (
                        item["recommendation"].as_i64().unwrap(),
                        item["state"].as_str().unwrap().to_owned(),
                        item["follow_up"]["status"].as_str().map(str::to_owned),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let draft = Some("draft".to_owned());
    assert_eq!(
        list("due", &cast.requester).await,
        [
            (0, "due".to_owned(), draft.clone()),
            (2, "due".to_owned(), draft.clone())
        ]
    );
    let due = app
        .api
        .get("/api/v1/follow-ups", Some(&cast.requester))
        .await
        .body;
    assert_eq!(due["items"][0]["request"]["reference"], json!(reference));
    assert_eq!(
        due["items"][0]["due_on"],
        json!((Utc::now().date_naive() + Duration::days(10)).to_string())
    );
    assert_eq!(list("overdue", &cast.requester).await, []);
    // The genetic test's date passes with nothing submitted: overdue, and only it.
    app.execute(&format!(
        "UPDATE follow_up_dues SET due_on = '{}' WHERE recommendation = 0",
        Utc::now().date_naive() - Duration::days(1)
    ))
    .await;
    assert_eq!(
        list("overdue", &cast.coordinator).await,
        [(0, "overdue".to_owned(), draft.clone())],
        "the coordinators see the center's"
    );
    assert_eq!(
        list("overdue", other).await,
        [],
        "nothing of another requester's"
    );
    // Its follow-up submitted, it is done.
    let summary = json!({"clinical_summary": "FGFR3 sequencing found p.Gly380Arg."});
    assert_eq!(
        app.update_request(&test_id, summary, &cast.requester)
            .await
            .status,
        200
    );
    assert_eq!(app.submit(&test_id, &cast.requester).await.status, 200);
    assert_eq!(list("overdue", &cast.requester).await, []);
    assert_eq!(
        list("done", &cast.requester).await,
        [(0, "done".to_owned(), Some("submitted".to_owned()))]
    );
    let wrong = app
        .api
        .get(
            "/api/v1/follow-ups?state=late&staff=nobody",
            Some(&cast.requester),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);

    // Reminders, the worker's pass at a given time: seven days before the re-evaluation's date
    // and on it, once each; none for the genetic test, whose follow-up was submitted.
    app.deliver_emails().await;
    let before = app.smtp.mails_to(REQUESTER.email).len();
    let remind = |days: i64| {
        let (db, url) = (app.db.clone(), app.settings.server.public_url.clone());
        async move {
            db.run(move |conn| {
                consilium::app::follow_ups::remind(conn, &url, Utc::now() + Duration::days(days))
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(remind(0).await, 0, "the re-evaluation is 180 days away");
    assert_eq!(remind(173).await, 1, "a week before");
    assert_eq!(remind(174).await, 0, "once");
    assert_eq!(remind(180).await, 1, "on the day");
    assert_eq!(remind(200).await, 0, "once");
    app.deliver_emails().await;
    let mails = app.smtp.mails_to(REQUESTER.email);
    assert_eq!(mails.len(), before + 2);
    let (week, day) = (&mails[before], &mails[before + 1]);
    assert!(
        week.subject().contains("follow-up due on"),
        "{}",
        week.subject()
    );
    assert!(week.subject().contains(reference.as_str()));
    assert!(
        day.subject().contains("follow-up due today"),
        "{}",
        day.subject()
    );
    for mail in [week, day] {
        let text = mail.text();
        assert!(text.contains(&format!("/requests/{parent}")), "{text}");
        for clinical in ["Re-evaluate growth", "Achondroplasia", "FGFR3", "AB"] {
            assert!(!text.contains(clinical), "no clinical data: {text}");
            assert!(!mail.html().contains(clinical), "no clinical data");
        }
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_log \
             WHERE action = 'follow_up.remind' AND outcome = 'allowed'"
        )
        .await,
        2,
        "one audit row per reminder"
    );

    // The figures: the genetic test came due yesterday and was followed up late; the
    // re-evaluation, followed up now, in time. Both under the staff of the opinion's request.
    let reevaluation = app.get_request(parent, &cast.requester).await.body["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["recommendation"] == 2)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let summary = json!({"clinical_summary": "Growth re-evaluated: height -3.0 SD."});
    assert_eq!(
        app.update_request(&reevaluation, summary, &cast.requester)
            .await
            .status,
        200
    );
    assert_eq!(app.submit(&reevaluation, &cast.requester).await.status, 200);
    let today = Utc::now().date_naive();
    let figures = app
        .api
        .get(
            &format!(
                "/api/v1/admin/kpis?from={}&to={}",
                today - Duration::days(3),
                today + Duration::days(190)
            ),
            Some(&cast.coordinator),
        )
        .await;
    assert_eq!(figures.status, 200, "{}", figures.text);
    let total = &figures.body["total"];
    assert_eq!(
        (
            total["follow_ups_due"].as_i64(),
            total["follow_ups_in_time"].as_i64(),
            total["follow_up_share"].as_f64()
        ),
        (Some(2), Some(1), Some(0.5)),
        "{total:#}"
    );
    let staff = figures.body["staffs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["staff"] == "rcp-national")
        .unwrap();
    assert_eq!(staff["follow_ups_due"], 2, "the parent's staff");
}
