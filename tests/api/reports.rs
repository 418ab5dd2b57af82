//! The RCP report (INTEROP.md): a delivered opinion as a PDF that independent tools read —
//! `pdftotext` finds the reference, the diagnosis, every recommendation and the participants
//! in reading order; `pdfinfo` reports it tagged, with its title and language (PDF/UA-1);
//! `qpdf --check` passes. A draft has no report; another requester gets 404; every version
//! delivered keeps its own; the requester's language is the document's.

use crate::helpers::spawn_app;
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{Cast, REQUESTER, rpps};
use crate::support::forms::opinion;
use crate::support::html::Browser;
use crate::support::pdf::read_pdf;

on_both_backends!(a_delivered_opinion_reads_as_a_tagged_pdf_report);

/// Asserts that `needles` appear in `text` in this order.
fn in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let at = text[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` after position {from} in: {text}"));
        from += at + needle.len();
    }
}

async fn a_delivered_opinion_reads_as_a_tagged_pdf_report(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let cases = app.discussed(&cast, &["PDF-A"]).await;
    let (id, reference) = &cases[0];
    let path = format!("/api/v1/requests/{id}/opinion.pdf");

    // A draft is not a document: no report for the requester, nor for the coordinator.
    assert_eq!(app.api.get(&path, Some(&cast.requester)).await.status, 404);
    assert_eq!(
        app.api.get(&path, Some(&cast.coordinator)).await.status,
        404
    );

    assert_eq!(app.deliver(id, &cast.coordinator).await.status, 200);
    let answer = app.api.get(&path, Some(&cast.requester)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.content_type(), "application/pdf");
    let disposition = answer.header("content-disposition").unwrap();
    assert!(
        disposition.contains("attachment") && disposition.contains(&format!("{reference}-v1.pdf")),
        "{disposition}"
    );
    let opinion_read = app.get_opinion(id, &cast.requester).await.body;
    let sha256 = opinion_read["content_sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha256.len(), 64);
    if let Some(pdf) = read_pdf(&answer.bytes) {
        let words = pdf.words();
        in_order(
            &words,
            &[
                "Centre de référence des maladies osseuses constitutionnelles",
                "RCP opinion",
                reference,
                "Patient",
                "AB",
                "Female",
                "2019-04-12",
                "PDF-A",
                "Which skeletal dysplasia?",
                "Short limbs noted at 2 years",
                "Clinical and radiological features suggest hypochondroplasia.",
                "Hypochondroplasia — ORPHA:429",
                "probable",
                "FGFR3 targeted sequencing",
                "Follow-up in the nearest competence center",
                "Nancy",
                "Unger S. et al., Am J Med Genet A 2023",
                "Pr A",
                "Genetics",
                "Dr B",
                "Radiology",
                "Dr C",
                "Orthopedics",
                "The quorum of specialties was met.",
                "Validated by",
                &format!("Document {reference}, version 1."),
                &sha256,
            ],
        );
        assert!(pdf.info.contains("Tagged:          yes"), "{}", pdf.info);
        assert!(
            pdf.info
                .contains(&format!("Title:           RCP opinion — {reference}")),
            "{}",
            pdf.info
        );
        assert!(
            pdf.metadata
                .contains("<dc:language><rdf:Bag><rdf:li>en</rdf:li>"),
            "{}",
            pdf.metadata
        );
        assert!(
            pdf.metadata.contains("<pdfuaid:part>1</pdfuaid:part>"),
            "PDF/UA-1: {}",
            pdf.metadata
        );
    }

    // Another requester cannot fetch it; nor anyone signed out.
    let other = app
        .register_and_login("other@chu-lille.fr", &rpps(91))
        .await;
    let other = other["access_token"].as_str().unwrap();
    assert_eq!(app.api.get(&path, Some(other)).await.status, 404);
    assert_eq!(app.api.get(&path, None).await.status, 401);

    // An amendment is version 2; version 1 keeps its report; a version never delivered is 404.
    let mut amended = opinion();
    amended["diagnosis"] = serde_json::json!(
        {"text": "Achondroplasia", "orpha_code": "ORPHA:15", "status": "confirmed"}
    );
    assert_eq!(
        app.put_opinion(id, amended, &cast.coordinator).await.status,
        200
    );
    assert_eq!(
        app.api
            .get(&format!("{path}?version=2"), Some(&cast.requester))
            .await
            .status,
        404,
        "the amendment's draft has no report"
    );
    assert_eq!(app.deliver(id, &cast.coordinator).await.status, 200);
    let latest = app.api.get(&path, Some(&cast.requester)).await;
    let first = app
        .api
        .get(&format!("{path}?version=1"), Some(&cast.requester))
        .await;
    assert_eq!((latest.status, first.status), (200, 200));
    if let (Some(latest), Some(first)) = (read_pdf(&latest.bytes), read_pdf(&first.bytes)) {
        assert!(latest.words().contains("Achondroplasia — ORPHA:15"));
        assert!(latest.words().contains("version 2."));
        assert!(first.words().contains("Hypochondroplasia — ORPHA:429"));
        assert!(!first.words().contains("Achondroplasia —"));
    }
    assert_eq!(
        app.api
            .get(&format!("{path}?version=3"), Some(&cast.requester))
            .await
            .status,
        404
    );

    // In the requester's language: French, for a French-speaking requester, whoever downloads.
    app.execute(&format!(
        "UPDATE users SET language = 'fr' WHERE email = '{}'",
        REQUESTER.email
    ))
    .await;
    let french = app.api.get(&path, Some(&cast.coordinator)).await;
    assert_eq!(french.status, 200);
    if let Some(pdf) = read_pdf(&french.bytes) {
        let words = pdf.words();
        in_order(
            &words,
            &[
                &format!("Avis de RCP — {reference}"),
                "Sexe",
                "Féminin",
                "Question posée",
                "Diagnostic retenu",
                "certitude : confirmé",
                "Recommandations",
                "Examen génétique",
                "Participants",
                "Le quorum de spécialités était atteint.",
                "Validé par",
            ],
        );
        assert!(
            pdf.metadata.contains("<rdf:li>fr</rdf:li>"),
            "{}",
            pdf.metadata
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'opinion.report'")
            .await,
        5,
        "each report given is audited"
    );

    // The request's page links the report; the link opens it in the browser.
    let mut browser = Browser::new(&app);
    browser
        .sign_in(REQUESTER.email, crate::support::cast::PASSWORD)
        .await;
    let page = browser.get(&format!("/requests/{id}")).await;
    assert_eq!(page.status, 200);
    let link = format!("/requests/{id}/opinion.pdf?version=2");
    assert!(page.text.contains(&link), "{}", page.text);
    assert!(page.text.contains("/opinion.pdf?version=1"));
    let shown = browser.get(&link).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.content_type(), "application/pdf");
    assert!(
        shown
            .header("content-disposition")
            .unwrap()
            .starts_with("inline")
    );
}
