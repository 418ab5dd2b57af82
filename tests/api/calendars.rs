//! The calendars of INTEROP.md, read by Python's `icalendar` (not by our own parser): a
//! staff's public calendar follows its meetings (a move keeps the UID with a higher
//! SEQUENCE, a cancellation stays as `CANCELLED`, no video link); a personal feed holds its
//! owner's meetings only, no patient data, and its old address dies when it is replaced.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{Cast, PASSWORD};
use crate::support::forms::request_form;
use crate::support::python::calendar_events;

on_both_backends!(
    a_staff_calendar_follows_its_meetings_moves_and_cancellations,
    a_personal_feed_holds_its_owners_meetings_only_and_dies_when_replaced,
);

fn event<'a>(events: &'a [Value], meeting: &str) -> &'a Value {
    let uid = format!("{meeting}@consilium");
    events
        .iter()
        .find(|e| e["uid"] == uid.as_str())
        .unwrap_or_else(|| panic!("no event {uid}"))
}

fn starts(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_staff_calendar_follows_its_meetings_moves_and_cancellations(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let path = "/api/v1/staffs/rcp-national/calendar.ics";
    let first = app.api.get(path, None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.content_type().starts_with("text/calendar"));
    let Some(before) = calendar_events(&first.text) else {
        return;
    };
    let meetings = app.meetings("rcp-national", &cast.coordinator).await.body;
    let (moved, cancelled) = (
        meetings[0]["id"].as_str().unwrap().to_owned(),
        meetings[1]["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        before.len(),
        before
            .iter()
            .map(|e| e["uid"].as_str().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        "one event per meeting"
    );
    assert_eq!(event(&before, &moved)["sequence"], 0);
    assert_eq!(event(&before, &moved)["status"], "CONFIRMED");
    assert_eq!(
        starts(&event(&before, &moved)["start"]),
        starts(&meetings[0]["starts_at"])
    );

    // Moved two hours later, with a video link; another one cancelled.
    let later = starts(&meetings[0]["starts_at"]) + Duration::hours(2);
    let answer = app
        .update_meeting(
            &moved,
            json!({"starts_at": later.to_rfc3339(), "video_url": "https://visio.example/rcp-secret"}),
            &cast.coordinator,
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let answer = app
        .update_meeting(
            &cancelled,
            json!({"status": "cancelled"}),
            &cast.coordinator,
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    let second = app.api.get(path, None).await;
    let after = calendar_events(&second.text).unwrap();
    assert_eq!(
        after.len(),
        before.len(),
        "a cancelled meeting stays in the feed"
    );
    let moved_event = event(&after, &moved);
    assert_eq!(
        moved_event["sequence"], 1,
        "the same UID, a higher SEQUENCE"
    );
    assert_eq!(starts(&moved_event["start"]), later);
    assert_eq!(moved_event["status"], "CONFIRMED");
    let cancelled_event = event(&after, &cancelled);
    assert_eq!(cancelled_event["status"], "CANCELLED");
    assert_eq!(cancelled_event["sequence"], 1);
    assert!(
        !second.text.contains("visio.example"),
        "no video link in a public calendar"
    );
    assert_eq!(
        app.api
            .get("/api/v1/staffs/no-such-staff/calendar.ics", None)
            .await
            .status,
        404
    );
}

async fn a_personal_feed_holds_its_owners_meetings_only_and_dies_when_replaced(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let other = app
        .register_and_login("other.requester@chu.fr", &crate::support::cast::rpps(77))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = app
        .draft(request_form("MINE-LOCAL-ID"), &cast.requester)
        .await;
    let mine_ref = mine.body["reference"].as_str().unwrap().to_owned();
    let submitted = app.submit_draft(&mine.id(), &cast.requester).await;
    let proposed = submitted.body["proposed_meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = app.draft(request_form("THEIRS-LOCAL-ID"), &other).await;
    let theirs_ref = theirs.body["reference"].as_str().unwrap().to_owned();
    app.submit_draft(&theirs.id(), &other).await;

    // The requester's feed: the proposed meeting, named by the reference only.
    let created = app
        .api
        .post("/api/v1/me/calendar-feed", Some(&cast.requester), json!({}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let url = created.body["url"].as_str().unwrap().to_owned();
    let base = app.settings.server.public_url.clone();
    assert!(url.starts_with(&format!("{base}/calendar/")) && url.ends_with(".ics"));
    let feed_path = url.strip_prefix(&base).unwrap().to_owned();
    let feed = app.api.get(&feed_path, None).await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    let Some(events) = calendar_events(&feed.text) else {
        return;
    };
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["uid"], format!("{proposed}@consilium"));
    assert!(events[0]["summary"].as_str().unwrap().contains(&mine_ref));
    assert!(
        !feed.text.contains(&theirs_ref),
        "another requester's request"
    );
    let form = request_form("MINE-LOCAL-ID");
    for clinical in [
        "MINE-LOCAL-ID",
        form["patient"]["birth_date"].as_str().unwrap(),
        "20190412",
        form["question"].as_str().unwrap(),
    ] {
        assert!(!feed.text.contains(clinical), "no patient data: {clinical}");
    }
    // The token is stored hashed.
    let token = feed_path
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM calendar_feeds WHERE token_hash = '{token}'"
        ))
        .await,
        0
    );

    // A coordinator's feed: every staff's meetings, with their cases and video link.
    let staff = app
        .api
        .post(
            "/api/v1/me/calendar-feed",
            Some(&cast.coordinator),
            json!({}),
        )
        .await;
    let staff_path = staff.body["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&base)
        .unwrap()
        .to_owned();
    let staff_feed = calendar_events(&app.api.get(&staff_path, None).await.text).unwrap();
    assert!(staff_feed.len() > 10, "the meetings of every staff");
    assert!(
        event(&staff_feed, &proposed)["summary"]
            .as_str()
            .unwrap()
            .contains("0 dossier"),
        "{:?}",
        event(&staff_feed, &proposed)
    );

    // Replaced: the old address answers 404, the new one works; removed: 404.
    let renewed = app
        .api
        .post("/api/v1/me/calendar-feed", Some(&cast.requester), json!({}))
        .await;
    let new_path = renewed.body["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&base)
        .unwrap()
        .to_owned();
    assert_ne!(new_path, feed_path);
    assert_eq!(app.api.get(&feed_path, None).await.status, 404);
    assert_eq!(app.api.get(&new_path, None).await.status, 200);
    let removed = app
        .api
        .delete("/api/v1/me/calendar-feed", Some(&cast.requester), json!({}))
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(app.api.get(&new_path, None).await.status, 404);
    assert_eq!(
        app.api
            .post("/api/v1/me/calendar-feed", None, json!({}))
            .await
            .status,
        401
    );
    // The other requester signs in as usual: nothing of theirs changed.
    assert!(app.sign_in("other.requester@chu.fr", PASSWORD).await["access_token"].is_string());
}
