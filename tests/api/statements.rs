//! The database statements each request costs, as `/metrics` reports them: constant per route,
//! however many events, requests or agenda lines there are (no N+1 query anywhere on the paths
//! the benchmark measures).

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::on_both_backends;
use crate::support::api::Answer;
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::forms::request_form;

on_both_backends!(
    statements_per_request_do_not_grow_with_the_data,
    submitting_costs_the_same_however_many_meetings_are_full,
);

/// The sum and count of `consilium_db_statements_per_request` for one route.
async fn statements_so_far(app: &TestApp, method: &str, route: &str) -> (f64, u64) {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let labels = format!(r#"{{method="{method}",route="{route}"}}"#);
    let value = |series: &str| {
        let prefix = format!("consilium_db_statements_per_request_{series}{labels} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0.0, |v| v.parse::<f64>().unwrap())
    };
    (value("sum"), value("count") as u64)
}

/// Sends one request and answers its body and the statements it took.
async fn cost_of(
    app: &TestApp,
    request: Answer,
    method: &str,
    route: &str,
    before: (f64, u64),
) -> (Value, u64) {
    assert!(
        (200..300).contains(&request.status),
        "{} {:?}",
        request.status,
        request.body
    );
    let (sum_after, count_after) = statements_so_far(app, method, route).await;
    assert_eq!(count_after, before.1 + 1, "one request observed");
    let statements = (sum_after - before.0) as u64;
    assert!(statements > 0, "{route}: the statements are counted");
    (request.body, statements)
}

async fn cost_of_get(app: &TestApp, path: &str, route: &str, token: &str) -> (Value, u64) {
    let before = statements_so_far(app, "GET", route).await;
    let answer = app.get(path, Some(token)).await;
    cost_of(app, answer, "GET", route, before).await
}

/// Submits a new draft of `token`'s requester: the answer and the statements the submit took.
async fn cost_of_submit(app: &TestApp, token: &str) -> (Value, u64) {
    let id = app.draft(request_form("IPP-4242"), token).await.id();
    let route = "/api/v1/requests/{id}/submit";
    let before = statements_so_far(app, "POST", route).await;
    let answer = app.submit(&id, token).await;
    cost_of(app, answer, "POST", route, before).await
}

/// A submitted request of `token`'s requester; answers its id and proposed meeting.
async fn submitted(app: &TestApp, token: &str) -> (String, String) {
    let (request, _) = cost_of_submit(app, token).await;
    let id = request["id"].as_str().unwrap().to_owned();
    (
        id,
        request["proposed_meeting"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn statements_per_request_do_not_grow_with_the_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let requester = app.register_and_login("few@chu-lyon.fr", &rpps(700)).await;
    let requester = requester["access_token"].as_str().unwrap().to_owned();
    let (_, coordinator) = app
        .user_with_roles("coord@necker.fr", &rpps(701), &["coordinator"])
        .await;

    // A request with two timeline entries, and one with four (information asked, answered).
    let (short, meeting) = submitted(&app, &requester).await;
    let (long, _) = submitted(&app, &requester).await;
    let asked = app
        .request_info(&long, "The X-rays, please.", &coordinator)
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    let answered = app.post_message(&long, "Attached.", &requester).await;
    assert_eq!(answered.status, 201, "{:?}", answered.body);

    let read = "/api/v1/requests/{id}";
    let (view, short_cost) =
        cost_of_get(&app, &format!("/api/v1/requests/{short}"), read, &requester).await;
    assert_eq!(view["timeline"].as_array().unwrap().len(), 2);
    let (view, long_cost) =
        cost_of_get(&app, &format!("/api/v1/requests/{long}"), read, &requester).await;
    assert_eq!(view["timeline"].as_array().unwrap().len(), 4);
    assert_eq!(
        short_cost, long_cost,
        "reading a request costs the same whatever its timeline"
    );

    let list = "/api/v1/requests?status=submitted&limit=50";
    let agenda = format!("/api/v1/meetings/{meeting}");
    let (page, list_cost) = cost_of_get(&app, list, "/api/v1/requests", &coordinator).await;
    let listed = page["items"].as_array().unwrap().len();
    let (view, agenda_cost) =
        cost_of_get(&app, &agenda, "/api/v1/meetings/{id}", &coordinator).await;
    let lines = view["agenda"].as_array().unwrap().len();

    // More requests, from other requesters, on the same agenda.
    for n in 0..3 {
        let other = app
            .register_and_login(&format!("more{n}@chu-lille.fr"), &rpps(710 + n))
            .await;
        let (_, proposed) = submitted(&app, other["access_token"].as_str().unwrap()).await;
        assert_eq!(proposed, meeting, "the next meeting has room");
    }
    let (page, cost) = cost_of_get(&app, list, "/api/v1/requests", &coordinator).await;
    assert_eq!(page["items"].as_array().unwrap().len(), listed + 3);
    assert_eq!(
        cost, list_cost,
        "a page costs the same whatever its rows and requesters"
    );
    let (view, cost) = cost_of_get(&app, &agenda, "/api/v1/meetings/{id}", &coordinator).await;
    assert_eq!(view["agenda"].as_array().unwrap().len(), lines + 3);
    assert_eq!(
        cost, agenda_cost,
        "an agenda costs the same whatever its length"
    );
}

/// Proposing a meeting looks past the full ones without a query per meeting looked at.
async fn submitting_costs_the_same_however_many_meetings_are_full(backend: Backend) {
    let app = spawn_app(backend).await;
    let requester = app
        .register_and_login("busy@chu-brest.fr", &rpps(720))
        .await;
    let requester = requester["access_token"].as_str().unwrap().to_owned();
    let (_, coordinator) = app
        .user_with_roles("coord@necker.fr", &rpps(721), &["coordinator"])
        .await;

    let (first, cost_with_room) = cost_of_submit(&app, &requester).await;
    let staff = first["staff"].as_str().unwrap();
    let next = first["proposed_meeting"]["id"].as_str().unwrap().to_owned();
    // The proposed meeting and the one after it hold one request each: each submission
    // below finds one more full meeting before the one with room.
    let meetings = app.meetings(staff, &coordinator).await;
    assert_eq!(meetings.status, 200, "{:?}", meetings.body);
    let upcoming: Vec<String> = meetings
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .skip_while(|id| *id != next)
        .take(3)
        .collect();
    assert_eq!(upcoming.len(), 3, "three meetings from the proposed one");
    for id in &upcoming[..2] {
        let changed = app
            .update_meeting(id, json!({"capacity": 1}), &coordinator)
            .await;
        assert_eq!(changed.status, 200, "{:?}", changed.body);
    }
    let (second, cost_past_one) = cost_of_submit(&app, &requester).await;
    assert_eq!(second["proposed_meeting"]["id"], upcoming[1].as_str());
    let (third, cost_past_two) = cost_of_submit(&app, &requester).await;
    assert_eq!(third["proposed_meeting"]["id"], upcoming[2].as_str());
    assert_eq!(
        (cost_past_one, cost_past_two),
        (cost_with_room, cost_with_room),
        "a submission costs the same however many full meetings it passes"
    );
}
