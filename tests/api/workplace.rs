//! Workplace senders that open with a handshake, through HTTP on both
//! backends: Okta's verification challenge (answered once the hook's secret
//! checks out), Nylas's GET challenge, Trello's HEAD and Xero's "intent to receive"
//! (correctly signed: 200 with an empty body; wrongly signed: 401). None of
//! them stores anything; a Xero batch after them is stored per event.

use serde_json::json;

use crate::helpers::*;
use crate::test_keys::*;

const OKTA_SECRET: &str = "okta-hook-secret-48";

async fn workplace_handshakes_are_answered_and_not_stored(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let challenge = (
        "X-Okta-Verification-Challenge".to_string(),
        "JwYd6r2ooOb3a7JKr0HX".to_string(),
    );
    let okta = |secret: &str| {
        vec![
            ("Authorization".to_string(), secret.to_string()),
            challenge.clone(),
        ]
    };
    let answer = send(&app, "GET", "/ingest/okta", Vec::new(), &okta(OKTA_SECRET)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json(),
        json!({"verification": "JwYd6r2ooOb3a7JKr0HX"})
    );
    let forged = send(&app, "GET", "/ingest/okta", Vec::new(), &okta("guess")).await;
    assert_eq!(forged.status, 401, "{}", forged.text);

    let nylas = send(
        &app,
        "GET",
        "/ingest/nylas?challenge=bc609b38-c81f",
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!((nylas.status, nylas.text.as_str()), (200, "bc609b38-c81f"));
    assert!(nylas.header("content-type").starts_with("text/plain"));

    // Trello checks a new callback URL with a HEAD.
    let head = send(&app, "HEAD", "/ingest/trello", Vec::new(), &[]).await;
    assert_eq!(head.status, 200);

    let intent = br#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"YOOVBPKWWYQBKQMNMHBL"}"#;
    let (body, headers) = sign_at(&app, "xero", intent, now_secs());
    let right = send(&app, "POST", "/ingest/xero", body.clone(), &headers).await;
    assert_eq!((right.status, right.text.as_str()), (200, ""));
    let wrong: Vec<(String, String)> = headers
        .iter()
        .map(|(k, _)| {
            (
                k.clone(),
                "ZmFrZS1zaWduYXR1cmUtb2YtdGhlLWludGVudA==".to_string(),
            )
        })
        .collect();
    let refused = send(&app, "POST", "/ingest/xero", body, &wrong).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(app.store.counts().await.unwrap().events, 0);

    // Then Xero's events: one stored event per element, in request order.
    let batch = r#"{"events":[{"resourceId":"a1","eventDateUtc":"2024-05-20T10:00:00.000","eventType":"CREATE","eventCategory":"CONTACT","tenantId":"t"},{"resourceId":"b2","eventDateUtc":"2024-05-20T10:00:01.000","eventType":"UPDATE","eventCategory":"INVOICE","tenantId":"t"}],"firstEventSequence":1,"lastEventSequence":2,"entropy":"QWERTYUIOPASDFGHJKLZ"}"#;
    let (body, headers) = sign_at(&app, "xero", batch.as_bytes(), now_secs());
    let stored = send(&app, "POST", "/ingest/xero", body, &headers)
        .await
        .json();
    assert_eq!(stored["accepted"], json!(2), "{stored}");
    let mut types = Vec::new();
    for e in stored["events"].as_array().unwrap() {
        let event = app
            .store
            .event(e["event_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        types.push(event.event_type);
    }
    assert_eq!(types, ["CONTACT.CREATE", "INVOICE.UPDATE"]);
    app.shutdown().await;
}

crate::backend_tests!(workplace_handshakes_are_answered_and_not_stored);
