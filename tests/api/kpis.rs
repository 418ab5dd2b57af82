//! The activity figures (INTEROP.md) on a hand-made data set whose counts and delays are
//! known: requests made through the API, then moved into March and April 2026 with plain
//! SQL (submission, discussion, delivery, the timeline's events, the meeting), so that every
//! figure can be written down in advance. The CSV holds the same numbers as the JSON.

use consilium::db::kpis::{month_of, whole_days};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, COORDINATOR, Cast, PASSWORD, REQUESTER, TOTP_SECRET};
use crate::support::forms::{meeting_record, opinion, request_form};
use crate::support::html::Browser;

on_both_backends!(the_figures_are_those_of_a_known_data_set);

async fn submitted(app: &TestApp, cast: &Cast, marker: &str, urgent: bool) -> String {
    let mut form = request_form(marker);
    if urgent {
        form["urgency"] = json!("urgent");
    }
    let id = app.draft(form, &cast.requester).await.id();
    assert_eq!(app.submit_draft(&id, &cast.requester).await.status, 200);
    id
}

fn instant(text: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// The whole days from `from` to `to`, as the service keeps a delay.
fn days(from: &str, to: &str) -> i64 {
    whole_days(instant(from), instant(to))
}

/// Sets the request's submission (and the month the figures count it in) and the time of its
/// timeline events going to `status`.
async fn at(app: &TestApp, id: &str, submitted_at: &str, events: &[(&str, &str)]) {
    let month = month_of(instant(submitted_at), chrono_tz::Europe::Paris);
    app.execute(&format!(
        "UPDATE requests SET submitted_at = '{submitted_at}', submitted_month = '{month}' \
         WHERE id = '{id}'"
    ))
    .await;
    for (status, when) in events {
        app.execute(&format!(
            "UPDATE request_events SET at = '{when}' WHERE request_id = '{id}' AND to_status = '{status}'"
        ))
        .await;
        if *status == "discussed" {
            let days = days(submitted_at, when);
            app.execute(&format!(
                "UPDATE requests SET discussed_at = '{when}', discussed_days = {days} \
                 WHERE id = '{id}'"
            ))
            .await;
        }
    }
}

fn row<'a>(kpis: &'a Value, month: &str, staff: &str) -> &'a Value {
    kpis["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["month"] == month && r["staff"] == staff)
        .unwrap_or_else(|| panic!("no row {month} {staff}"))
}

async fn the_figures_are_those_of_a_known_data_set(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let (_, admin) = app.staff(&ADMIN).await;
    let meeting = app
        .past_meeting(&cast.coordinator, "rcp-national", 10)
        .await;
    let a = submitted(&app, &cast, "KPI-A", false).await;
    let b = submitted(&app, &cast, "KPI-B", false).await;
    let c = submitted(&app, &cast, "KPI-C", false).await;
    let d = submitted(&app, &cast, "KPI-D", false).await;
    let e = submitted(&app, &cast, "KPI-E", true).await;
    for id in [&a, &b, &c] {
        assert_eq!(
            app.schedule(id, &meeting, &cast.coordinator).await.status,
            200
        );
    }
    // A and B discussed, C not reached (carried over to the next meeting).
    let held = app
        .hold(&meeting, meeting_record(&[&a, &b]), &cast.coordinator)
        .await;
    assert_eq!(held.status, 200, "{:?}", held.body);
    for id in [&a, &b] {
        assert_eq!(
            app.put_opinion(id, opinion(), &cast.coordinator)
                .await
                .status,
            200
        );
        assert_eq!(app.deliver(id, &cast.coordinator).await.status, 200);
    }
    assert_eq!(
        app.reject(&d, "Outside the network's field.", &cast.coordinator)
            .await
            .status,
        200
    );
    assert_eq!(
        app.request_info(&e, "The skeletal survey, please.", &cast.coordinator)
            .await
            .status,
        200
    );

    // The workflow kept each request's milestones: A and B discussed and delivered, with the
    // whole days they took; and for all five the month and requester's site of their submission.
    for column in [
        "discussed_at",
        "delivered_at",
        "discussed_days",
        "delivered_days",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) AS n FROM requests WHERE {column} IS NOT NULL"
            ))
            .await,
            2,
            "{column}"
        );
    }

    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM requests \
             WHERE submitted_month IS NOT NULL AND site_code = 'nancy'"
        )
        .await,
        5
    );

    // Into March and April 2026 (Paris time; 10:00 UTC is 11:00 there).
    at(
        &app,
        &a,
        "2026-03-02 10:00:00",
        &[("discussed", "2026-03-12 10:00:00")],
    )
    .await;
    at(
        &app,
        &b,
        "2026-03-05 10:00:00",
        &[("discussed", "2026-03-11 10:00:00")],
    )
    .await;
    at(
        &app,
        &c,
        "2026-03-09 10:00:00",
        &[("scheduled", "2026-03-12 10:00:00")],
    )
    .await;
    at(
        &app,
        &d,
        "2026-04-01 10:00:00",
        &[("rejected", "2026-04-02 10:00:00")],
    )
    .await;
    at(
        &app,
        &e,
        "2026-03-20 10:00:00",
        &[("needs_info", "2026-03-21 10:00:00")],
    )
    .await;
    // E went on to the molecular staff after the question: its submission counts there, the
    // request for information stays with the staff that asked it.
    app.execute(&format!(
        "UPDATE requests SET staff_code = 'molecular' WHERE id = '{e}'"
    ))
    .await;
    for (id, submitted, delivered) in [
        (&a, "2026-03-02 10:00:00", "2026-03-16 10:00:00"),
        (&b, "2026-03-05 10:00:00", "2026-03-25 12:00:00"),
    ] {
        app.execute(&format!(
            "UPDATE opinions SET delivered_at = '{delivered}' WHERE request_id = '{id}'"
        ))
        .await;
        let days = days(submitted, delivered);
        app.execute(&format!(
            "UPDATE requests SET delivered_at = '{delivered}', delivered_days = {days} \
             WHERE id = '{id}'"
        ))
        .await;
    }
    app.execute(&format!(
        "UPDATE meetings SET starts_at = '2026-03-11 09:00:00' WHERE id = '{meeting}'"
    ))
    .await;

    // The months of requests submitted before the service kept them are filled when it
    // starts, in the center's calendar: the figures below are read from those.
    app.execute("UPDATE requests SET submitted_month = NULL")
        .await;
    let filled = app.db.run(consilium::db::kpis::fill_months).await.unwrap();
    assert_eq!(filled, 5);
    assert_eq!(
        app.db.run(consilium::db::kpis::fill_months).await.unwrap(),
        0,
        "once"
    );

    let query = "from=2026-03-01&to=2026-04-30";
    let answer = app
        .api
        .get(
            &format!("/api/v1/admin/kpis?{query}"),
            Some(&cast.coordinator),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let kpis = answer.body;
    assert_eq!(
        (kpis["from"].as_str(), kpis["to"].as_str()),
        (Some("2026-03-01"), Some("2026-04-30"))
    );
    let months: Vec<&str> = kpis["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2026-03", "2026-04"]);
    let staffs = app.api.get("/api/v1/staffs", Some(&admin)).await.body;
    let staff_count = staffs.as_array().map_or(0, Vec::len);
    assert_eq!(
        kpis["rows"].as_array().unwrap().len(),
        2 * staff_count,
        "every month × staff"
    );

    let march = row(&kpis, "2026-03", "rcp-national");
    assert_eq!(
        march["submitted"], 3,
        "A, B, C (E is molecular's now): {march:#}"
    );
    assert_eq!(march["by_topic"], json!({"diagnosis": 3}));
    assert_eq!(march["by_urgency"], json!({"routine": 3, "urgent": 0}));
    assert_eq!(march["by_site"], json!({"nancy": 3}));
    assert_eq!(
        march["to_meeting"],
        json!({"count": 2, "median_days": 6, "p90_days": 10}),
        "B in 6 days, A in 10"
    );
    assert_eq!(
        march["to_opinion"],
        json!({"count": 2, "median_days": 14, "p90_days": 20}),
        "A in 14 days, B in 20 (and 2 hours)"
    );
    assert_eq!(march["carry_overs"], 1);
    assert_eq!(
        march["information_requests"], 1,
        "asked by this staff, about E"
    );
    assert_eq!(march["rejections"], 0);
    assert_eq!(march["meetings_held"], 1);
    assert_eq!(march["fill_ratio"], 0.2, "A and B in 10 places");
    assert_eq!(march["quorum_share"], 1.0);
    let april = row(&kpis, "2026-04", "rcp-national");
    assert_eq!(
        (april["submitted"].as_i64(), april["rejections"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        april["to_meeting"],
        json!({"count": 0, "median_days": null, "p90_days": null})
    );
    assert_eq!(april["meetings_held"], 0);
    assert_eq!(april["fill_ratio"], Value::Null);
    let molecular = row(&kpis, "2026-03", "molecular");
    assert_eq!(molecular["submitted"], 1, "E");
    assert_eq!(molecular["by_urgency"], json!({"routine": 0, "urgent": 1}));
    assert_eq!(
        molecular["information_requests"], 0,
        "asked by another staff"
    );
    assert_eq!(kpis["months"][0]["submitted"], 4);
    let total = &kpis["total"];
    assert_eq!(total["submitted"], 5);
    assert_eq!(total["rejections"], 1);
    assert_eq!(total["to_opinion"]["median_days"], 14);

    // Filters: a staff; a requester's site (the meetings are the staff's, not a site's).
    let only = app
        .api
        .get(
            &format!("/api/v1/admin/kpis?{query}&staff=molecular"),
            Some(&admin),
        )
        .await;
    assert_eq!(only.status, 200, "{}", only.text);
    assert_eq!(only.body["total"]["submitted"], 1);
    assert_eq!(only.body["total"]["information_requests"], 0);
    assert_eq!(only.body["rows"].as_array().unwrap().len(), 2);
    let lyon = app
        .api
        .get(
            &format!("/api/v1/admin/kpis?{query}&site=lyon"),
            Some(&admin),
        )
        .await;
    assert_eq!(lyon.body["total"]["submitted"], 0);
    assert_eq!(lyon.body["total"]["meetings_held"], 1);

    // The CSV: one row per month and staff, the same numbers.
    let csv = app
        .api
        .get(&format!("/api/v1/admin/kpis.csv?{query}"), Some(&admin))
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.content_type().starts_with("text/csv"));
    let lines: Vec<Vec<&str>> = csv
        .text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let header = &lines[0];
    assert_eq!(lines.len(), 1 + 2 * staff_count);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let line = lines
        .iter()
        .find(|l| l[col("month")] == "2026-03" && l[col("staff")] == "rcp-national")
        .unwrap();
    for (column, expected) in [
        ("submitted", "3"),
        ("topic_diagnosis", "3"),
        ("urgency_urgent", "0"),
        ("site_nancy", "3"),
        ("to_meeting_median_days", "6"),
        ("to_meeting_p90_days", "10"),
        ("to_opinion_median_days", "14"),
        ("to_opinion_p90_days", "20"),
        ("carry_overs", "1"),
        ("information_requests", "1"),
        ("meetings_held", "1"),
        ("fill_ratio", "0.200"),
        ("quorum_share", "1.000"),
    ] {
        assert_eq!(line[col(column)], expected, "{column}");
        let json_value = match column {
            "topic_diagnosis" => march["by_topic"]["diagnosis"].to_string(),
            "urgency_urgent" => march["by_urgency"]["urgent"].to_string(),
            "site_nancy" => march["by_site"]["nancy"].to_string(),
            "to_meeting_median_days" => march["to_meeting"]["median_days"].to_string(),
            "to_meeting_p90_days" => march["to_meeting"]["p90_days"].to_string(),
            "to_opinion_median_days" => march["to_opinion"]["median_days"].to_string(),
            "to_opinion_p90_days" => march["to_opinion"]["p90_days"].to_string(),
            "fill_ratio" | "quorum_share" => format!("{:.3}", march[column].as_f64().unwrap()),
            other => march[other].to_string(),
        };
        assert_eq!(
            line[col(column)],
            json_value,
            "{column}: the CSV is the JSON"
        );
    }

    // Coordinators and admins only; every invalid field named.
    let refused = app
        .api
        .get(
            &format!("/api/v1/admin/kpis?{query}"),
            Some(&cast.requester),
        )
        .await;
    assert_eq!(refused.status, 403);
    let invalid = app
        .api
        .get(
            "/api/v1/admin/kpis?to=soon&staff=nobody&site=nowhere",
            Some(&admin),
        )
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    let mut fields = invalid.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["from", "to"], "the period first: {}", invalid.text);
    let invalid = app
        .api
        .get(
            &format!("/api/v1/admin/kpis?{query}&staff=nobody&site=nowhere"),
            Some(&admin),
        )
        .await;
    let mut fields = invalid.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["site", "staff"]);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'kpis.read'")
            .await,
        4
    );

    // The screen: three charts, each followed by its numbers; the CSV is the API's.
    let mut browser = Browser::new(&app.api);
    let code = app.totp.code(TOTP_SECRET, COORDINATOR.email).await;
    browser
        .sign_in_with_code(COORDINATOR.email, PASSWORD, &code)
        .await;
    let home = browser.get("/triage").await;
    assert!(
        home.text.contains("href=\"&#x2f;kpis\""),
        "in the coordinator's menu"
    );
    let page = browser.get(&format!("/kpis?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.text.matches("<svg class=\"chart\"").count(), 3);
    assert!(
        page.text
            .contains("<title>Demandes soumises par mois</title>")
    );
    let march_row =
        "<tr><th scope=\"row\">2026-03</th><td>4</td><td>1</td><td>1</td><td>0</td></tr>";
    assert!(page.text.contains(march_row), "{}", page.text);
    assert!(
        page.text
            .contains("<td>6 j</td><td>10 j</td><td>14 j</td><td>20 j</td>")
    );
    assert!(
        page.text
            .contains("<td>1</td><td>20 %</td><td>100 %</td><td>1</td>")
    );
    let link = format!("/kpis.csv?{}", query.replace('&', "&amp;"));
    assert!(page.text.contains(&link), "{}", page.text);
    let screen_csv = browser.get(&format!("/kpis.csv?{query}")).await;
    assert_eq!(screen_csv.status, 200);
    assert_eq!(screen_csv.text, csv.text, "the API's file");
    let default = browser.get("/kpis").await;
    assert_eq!(default.status, 200, "the last twelve months by default");
    let wrong = browser.get(&format!("/kpis?{query}&staff=nobody")).await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.text.contains("href=\"#field-staff\""),
        "{}",
        wrong.text
    );
    let mut requester = Browser::new(&app.api);
    requester.sign_in(REQUESTER.email, PASSWORD).await;
    assert_eq!(requester.get("/kpis").await.status, 403);
}
