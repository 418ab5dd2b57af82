//! The SDM-MR export (BNDMR's minimal data set): one row per request whose opinion was first
//! delivered in the period (an amendment is the same row, at its latest version), none for a
//! draft opinion, the columns the README maps item by item; admins only.

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, Cast, PASSWORD, TOTP_SECRET};
use crate::support::forms::{opinion, request_form};
use crate::support::html::Browser;

on_both_backends!(the_sdm_mr_file_has_one_row_per_delivered_opinion_and_none_for_drafts);

fn rows(csv: &str) -> Vec<Vec<String>> {
    assert!(csv.ends_with("\r\n"), "CRLF-ended lines");
    csv.split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

async fn the_sdm_mr_file_has_one_row_per_delivered_opinion_and_none_for_drafts(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let (_, admin) = app.staff(&ADMIN).await;
    let cases = app.discussed(&cast, &["EXP-A", "EXP-B", "EXP-C"]).await;
    let (a, b, c) = (&cases[0], &cases[1], &cases[2]);
    for (id, _) in [a, b] {
        assert_eq!(app.deliver(id, &cast.coordinator).await.status, 200);
    }
    // B is amended: a second version, delivered too. C keeps a draft.
    let mut amended: Value = opinion();
    amended["diagnosis"] =
        json!({"text": "Achondroplasia", "orpha_code": "ORPHA:15", "status": "confirmed"});
    assert_eq!(
        app.put_opinion(&b.0, amended, &cast.coordinator)
            .await
            .status,
        200
    );
    assert_eq!(app.deliver(&b.0, &cast.coordinator).await.status, 200);

    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let period = format!(
        "from={}&to={}",
        today.pred_opt().unwrap(),
        today.succ_opt().unwrap()
    );
    let path = format!("/api/v1/admin/export/sdm-mr.csv?{period}");
    let file = app.api.get(&path, Some(&admin)).await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert!(file.content_type().starts_with("text/csv"));
    assert!(
        file.header("content-disposition")
            .unwrap()
            .contains("attachment"),
    );
    let lines = rows(&file.text);
    let header = &lines[0];
    assert_eq!(header.len(), consilium::app::exports::SDM_MR_COLUMNS.len());
    let readme = std::fs::read_to_string("README.md").unwrap();
    for column in header {
        assert!(
            readme.contains(&format!("| `{column}` |")),
            "the README maps `{column}` to its SDM-MR item"
        );
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let body = &lines[1..];
    assert_eq!(body.len(), 2, "A and B, not C's draft: {}", file.text);
    let row_of = |reference: &str| {
        body.iter()
            .find(|r| r[col("reference")] == reference)
            .unwrap_or_else(|| panic!("no row for {reference}: {}", file.text))
    };
    assert!(body.iter().all(|r| r[col("reference")] != c.1));
    let row_a = row_of(&a.1);
    assert_eq!(row_a[col("version")], "1");
    assert_eq!(row_a[col("centre")], "MOC");
    assert_eq!(row_a[col("date_activite")], today.to_string());
    assert_eq!(row_a[col("type_activite")], "avis_sur_dossier");
    assert_eq!(row_a[col("rcp")], "rcp-national");
    assert_eq!(row_a[col("sexe")], "feminin");
    assert_eq!(row_a[col("date_naissance")], "2019-04-12");
    assert_eq!(row_a[col("statut_diagnostic")], "probable");
    assert_eq!(row_a[col("code_orpha")], "429");
    assert_eq!(row_a[col("rpps_demandeur")].len(), 11);
    let form = request_form("x");
    let hpo: Vec<&str> = form["hpo_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(row_a[col("termes_hpo")], hpo.join(" "));
    let row_b = row_of(&b.1);
    assert_eq!(row_b[col("version")], "2", "the latest delivered version");
    assert_eq!(row_b[col("statut_diagnostic")], "confirme");
    assert_eq!(row_b[col("code_orpha")], "15");
    assert!(!file.text.contains("EXP-A"), "no local patient id");

    // Another period holds none of them; a coordinator may not export; a bad period is 422.
    let before = app
        .api
        .get(
            "/api/v1/admin/export/sdm-mr.csv?from=2020-01-01&to=2020-12-31",
            Some(&admin),
        )
        .await;
    assert_eq!(rows(&before.text).len(), 1, "the header only");
    let refused = app.api.get(&path, Some(&cast.coordinator)).await;
    assert_eq!(refused.status, 403);
    let invalid = app
        .api
        .get("/api/v1/admin/export/sdm-mr.csv?to=someday", Some(&admin))
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.invalid_fields(), ["from", "to"]);

    // The same file from the admin's screen; a bad period is the form again, in words.
    let mut browser = Browser::new(&app.api);
    let code = app.totp.code(TOTP_SECRET, ADMIN.email).await;
    browser
        .sign_in_with_code(ADMIN.email, PASSWORD, &code)
        .await;
    let page = browser.get("/admin/exports").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("action=\"/admin/export/sdm-mr.csv\""));
    let screen_file = browser
        .get(&format!("/admin/export/sdm-mr.csv?{period}"))
        .await;
    assert_eq!(screen_file.status, 200);
    assert!(screen_file.content_type().starts_with("text/csv"));
    assert_eq!(screen_file.text, file.text, "the API's file");
    let wrong = browser
        .get("/admin/export/sdm-mr.csv?from=&to=2026-01-01")
        .await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.text.contains("href=\"#field-from\""),
        "{}",
        wrong.text
    );
    assert!(wrong.text.contains("obligatoire"), "in French");
}
