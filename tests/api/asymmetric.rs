//! Providers that sign with a private key and are verified with a public
//! one, through HTTP: Discord (Ed25519, PING answered), Standard Webhooks
//! `v1a` (Ed25519 next to `v1`), SendGrid (ECDSA P-256 over a batch of
//! events, each stored, deduplicated and routed on its own).

use serde_json::{json, Value};

use crate::helpers::*;
use crate::test_keys::*;

fn with_sources(extra: &str) -> String {
    sources() + extra
}

async fn discord_events_interactions_and_pings(backend: Backend) {
    let target = TestTarget::start().await;
    let app = spawn_app(
        &backend,
        &with_sources(&Route::new("discord", "bot").url(&target.url).toml()),
    )
    .await;
    let event = r#"{"version":1,"application_id":"1276180302918549504","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2026-11-20T09:14:05.512000","data":{"user":{"id":"40291"}}}}"#;

    // A webhook event: stored, answered 204 with no body, as Discord asks.
    let first = deliver(&app, "discord", event, &[]).await;
    assert_eq!(first.status, 204, "{}", first.text);
    assert_eq!(first.text, "");
    let event_id = first.header("x-hookgate-event-id").to_string();
    assert_eq!(first.header("x-hookgate-duplicate"), "false");
    let stored = app.store.event(&event_id).await.unwrap().expect("stored");
    assert_eq!(stored.event_type, "APPLICATION_AUTHORIZED");

    // Discord's retry (same bytes, fresh signature) is the same event.
    let again = deliver(&app, "discord", event, &[]).await;
    assert_eq!(again.status, 204);
    assert_eq!(again.header("x-hookgate-event-id"), event_id);
    assert_eq!(again.header("x-hookgate-duplicate"), "true");
    assert_eq!(app.store.counts().await.unwrap().events, 1);

    // PINGs of both endpoints are answered and never stored.
    let ping = deliver(
        &app,
        "discord",
        r#"{"version":1,"application_id":"1","type":0}"#,
        &[],
    )
    .await;
    assert_eq!((ping.status, ping.text.as_str()), (204, ""));
    let pong = deliver(
        &app,
        "discord",
        r#"{"id":"99","application_id":"1","type":1,"token":"t","version":1}"#,
        &[],
    )
    .await;
    assert_eq!(pong.status, 200);
    assert_eq!(pong.json(), json!({"type": 1}));
    assert_eq!(app.store.counts().await.unwrap().events, 1);

    // A slash command is stored and deferred so the target can follow up.
    let command = r#"{"id":"1309220187425398815","application_id":"1","type":2,"token":"tok","version":1,"data":{"name":"status"}}"#;
    let deferred = deliver(&app, "discord", command, &[]).await;
    assert_eq!(deferred.status, 200, "{}", deferred.text);
    assert_eq!(deferred.json(), json!({"type": 5}));
    let id = deferred.header("x-hookgate-event-id").to_string();
    let stored = app.store.event(&id).await.unwrap().unwrap();
    assert_eq!(stored.provider_event_id, "1309220187425398815");
    assert_eq!(stored.event_type, "interaction.application_command");

    app.dispatch_until("both delivered", || async { target.count() >= 2 })
        .await;
    let bodies: Vec<Vec<u8>> = target.received().iter().map(|r| r.body.to_vec()).collect();
    assert!(bodies.contains(&event.as_bytes().to_vec()));
    assert!(bodies.contains(&command.as_bytes().to_vec()));
    app.shutdown().await;
}

async fn discord_refuses_tampering_wrong_keys_and_stale_timestamps(backend: Backend) {
    let other = format!(
        "\n[[sources]]\nname = \"discord-strict\"\nprovider = \"discord\"\npublic_keys = [\"{}\"]\nsigning_key = \"{}\"\ntolerance_secs = 300\n\n[[sources]]\nname = \"discord-impostor\"\nprovider = \"discord\"\npublic_keys = [\"{}\"]\nsigning_key = \"{}\"\n",
        hex::encode(ed25519_public(&DISCORD_SEED)),
        hex::encode(DISCORD_SEED),
        hex::encode(ed25519_public(&DISCORD_SEED)),
        hex::encode(OTHER_ED25519_SEED),
    );
    let app = spawn_app(&backend, &with_sources(&other)).await;
    let event = r#"{"version":1,"application_id":"1","type":1,"event":{"type":"ENTITLEMENT_CREATE","data":{"id":"5"}}}"#;

    let (_, headers) = sign_at(&app, "discord", event.as_bytes(), now_secs());
    let tampered = event.replace("\"5\"", "\"6\"");
    let answer = send(&app, "POST", "/ingest/discord", tampered.into(), &headers).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["error"], "unauthorized");

    // Signed with a key the source does not trust.
    let (_, headers) = sign_at(&app, "discord-impostor", event.as_bytes(), now_secs());
    let answer = send(&app, "POST", "/ingest/discord", event.into(), &headers).await;
    assert_eq!(answer.status, 401);

    // Discord sets no tolerance of its own; a source may.
    let old = now_secs() - 3600;
    assert_eq!(
        deliver_at(&app, "discord", event, old, &[]).await.status,
        204
    );
    assert_eq!(
        deliver_at(&app, "discord-strict", event, old, &[])
            .await
            .status,
        401
    );
    assert_eq!(
        deliver(&app, "discord-strict", event, &[]).await.status,
        204
    );
    app.shutdown().await;
}

/// The test sources plus `svix-both` (an HMAC secret and a public key)
/// and `svix-impostor` (signs with another Ed25519 key).
async fn v1a_app(backend: &Backend) -> TestApp {
    let both = format!(
        "\n[[sources]]\nname = \"svix-both\"\nprovider = \"standard-webhooks\"\nsecrets = [\"{SVIX_SECRET}\"]\npublic_keys = [\"whpk_{}\"]\n\n[[sources]]\nname = \"svix-impostor\"\nprovider = \"standard-webhooks\"\npublic_keys = [\"whpk_{}\"]\nsigning_key = \"whsk_{}\"\n",
        base64_of(&ed25519_public(&STANDARD_SEED)),
        base64_of(&ed25519_public(&OTHER_ED25519_SEED)),
        base64_of(&OTHER_ED25519_SEED),
    );
    spawn_app(backend, &with_sources(&both)).await
}

const V1A_BODY: &str = r#"{"type":"invoice.paid","data":{"id":"in_1"}}"#;

async fn standard_webhooks_v1a_is_stored_once(backend: Backend) {
    let app = v1a_app(&backend).await;
    let body = V1A_BODY;
    let signed = deliver(&app, "svix-pk", body, &[]).await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    let first = signed.json();
    assert_eq!(first["duplicate"], json!(false));
    let (_, headers) = sign_at(&app, "svix-pk", body.as_bytes(), now_secs());
    let signature = headers
        .iter()
        .find(|(k, _)| k == "webhook-signature")
        .unwrap()
        .1
        .clone();
    assert!(signature.starts_with("v1a,"), "{signature}");

    // The same webhook-id again is a duplicate.
    let again = send(&app, "POST", "/ingest/svix-pk", body.into(), &headers).await;
    let msg_id = &headers.iter().find(|(k, _)| k == "webhook-id").unwrap().1;
    let fresh = send(&app, "POST", "/ingest/svix-pk", body.into(), &headers).await;
    assert_eq!(again.json()["provider_event_id"], json!(msg_id));
    assert_eq!(fresh.json()["duplicate"], json!(true));
    app.shutdown().await;
}

async fn standard_webhooks_with_both_keys_takes_v1_or_v1a(backend: Backend) {
    let app = v1a_app(&backend).await;
    let body = V1A_BODY;
    let (_, v1a) = sign_at(&app, "svix-pk", body.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/svix-both", body.into(), &v1a)
            .await
            .status,
        200
    );
    let (_, v1) = sign_at(&app, "svix", body.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/svix-both", body.into(), &v1)
            .await
            .status,
        200
    );
    app.shutdown().await;
}

async fn standard_webhooks_v1a_refuses_hmac_tampering_impostors_and_stale(backend: Backend) {
    let app = v1a_app(&backend).await;
    let body = V1A_BODY;
    // A public-key-only source takes no HMAC signature.
    let (_, v1) = sign_at(&app, "svix", body.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/svix-pk", body.into(), &v1)
            .await
            .status,
        401
    );

    let tampered = body.replace("in_1", "in_2");
    let (_, headers) = sign_at(&app, "svix-pk", body.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/svix-pk", tampered.into(), &headers)
            .await
            .status,
        401
    );
    let (_, impostor) = sign_at(&app, "svix-impostor", body.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/svix-pk", body.into(), &impostor)
            .await
            .status,
        401
    );
    assert_eq!(
        deliver_at(&app, "svix-pk", body, now_secs() - 301, &[])
            .await
            .status,
        401
    );
    assert_eq!(
        deliver_at(&app, "svix-pk", body, now_secs() + 330, &[])
            .await
            .status,
        401
    );
    app.shutdown().await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn event_ids(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect()
}

async fn sendgrid_batches_are_stored_deduplicated_and_routed_per_event(backend: Backend) {
    let bounces = TestTarget::start().await;
    let everything = TestTarget::start().await;
    let routes = routes(&[
        Route::new("sendgrid", "bounces")
            .url(&bounces.url)
            .types(&["bounce", "dropped"]),
        Route::new("sendgrid", "all").url(&everything.url),
    ]);
    let app = spawn_app(&backend, &with_sources(&routes)).await;
    let delivered =
        r#"{"email":"a@example.com","event":"delivered","sg_event_id":"sg-1","timestamp":1}"#;
    let bounce = r#"{"email":"b@example.com","event":"bounce","sg_event_id":"sg-2","timestamp":2,"reason":"550"}"#;
    let open = r#"{"email":"a@example.com","event":"open","sg_event_id":"sg-3","timestamp":3}"#;
    let batch = format!("[{delivered},\r\n{bounce}]\r\n");

    let answer = deliver(&app, "sendgrid", &batch, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let first = answer.json();
    assert_eq!(
        (first["accepted"].as_i64(), first["duplicates"].as_i64()),
        (Some(2), Some(0))
    );
    let events = first["events"].as_array().unwrap();
    assert_eq!(events[0]["provider_event_id"], "sg-1");
    assert_eq!(events[0]["deliveries"], 1, "delivered goes to `all` only");
    assert_eq!(events[1]["deliveries"], 2, "bounce goes to both");
    let ids = event_ids(&first);
    let stored = app.store.event(&ids[1]).await.unwrap().unwrap();
    assert_eq!(
        stored.body,
        bounce.as_bytes(),
        "each event is its element's bytes"
    );
    assert_eq!(stored.event_type, "bounce");

    // SendGrid's retry of the batch: every element a duplicate.
    let retry = deliver(&app, "sendgrid", &batch, &[]).await.json();
    assert_eq!(
        (retry["accepted"].as_i64(), retry["duplicates"].as_i64()),
        (Some(0), Some(2))
    );
    assert_eq!(event_ids(&retry), ids);
    // A batch cut differently: the known element is a duplicate, the new one new.
    let mixed = deliver(&app, "sendgrid", &format!("[{open},{bounce}]"), &[])
        .await
        .json();
    assert_eq!(mixed["events"][0]["duplicate"], false);
    assert_eq!(mixed["events"][1]["duplicate"], true);
    assert_eq!(mixed["events"][1]["event_id"], json!(ids[1]));
    // The same sg_event_id with other content: 409, the rest still stored.
    let changed = bounce.replace("550", "551");
    let click = r#"{"event":"click","sg_event_id":"sg-4"}"#;
    let conflict = deliver(&app, "sendgrid", &format!("[{click},{changed}]"), &[]).await;
    assert_eq!(conflict.status, 409, "{}", conflict.text);
    let conflict = conflict.json();
    assert_eq!(conflict["error"], "conflict");
    assert_eq!(conflict["conflicts"], 1);
    assert_eq!(conflict["events"][0]["duplicate"], false);
    let counts = app.store.counts().await.unwrap();
    assert_eq!((counts.events, counts.conflicts), (4, 1));

    app.dispatch_until("routed", || async {
        bounces.count() >= 1 && everything.count() >= 4
    })
    .await;
    let to_bounces: Vec<Vec<u8>> = bounces.received().iter().map(|r| r.body.to_vec()).collect();
    assert_eq!(to_bounces, vec![bounce.as_bytes().to_vec()]);
    assert_eq!(everything.count(), 4);
    app.shutdown().await;
}

async fn sendgrid_refuses_tampering_wrong_keys_and_stale_timestamps(backend: Backend) {
    let (public, _) = p256_keys(&SENDGRID_SCALAR);
    let (_, impostor_private) = p256_keys(&OTHER_P256_SCALAR);
    let extra = format!(
        "\n[[sources]]\nname = \"sendgrid-strict\"\nprovider = \"sendgrid\"\npublic_keys = [\"{public}\"]\ntolerance_secs = 600\n\n[[sources]]\nname = \"sendgrid-impostor\"\nprovider = \"sendgrid\"\npublic_keys = [\"{public}\"]\nsigning_key = \"{impostor_private}\"\n"
    );
    let app = spawn_app(&backend, &with_sources(&extra)).await;
    let batch = r#"[{"email":"a@example.com","event":"processed","sg_event_id":"sg-9"}]"#;
    let (_, headers) = sign_at(&app, "sendgrid", batch.as_bytes(), now_secs());
    let tampered = batch.replace("processed", "delivered");
    assert_eq!(
        send(&app, "POST", "/ingest/sendgrid", tampered.into(), &headers)
            .await
            .status,
        401
    );
    let (_, impostor) = sign_at(&app, "sendgrid-impostor", batch.as_bytes(), now_secs());
    assert_eq!(
        send(&app, "POST", "/ingest/sendgrid", batch.into(), &impostor)
            .await
            .status,
        401
    );
    let (_, old) = sign_at(&app, "sendgrid", batch.as_bytes(), now_secs() - 601);
    assert_eq!(
        send(&app, "POST", "/ingest/sendgrid-strict", batch.into(), &old)
            .await
            .status,
        401
    );
    assert_eq!(
        send(&app, "POST", "/ingest/sendgrid", batch.into(), &old)
            .await
            .status,
        200
    );
    let no_id = r#"[{"event":"processed"}]"#;
    let answer = deliver(&app, "sendgrid", no_id, &[]).await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["detail"]
        .as_str()
        .unwrap()
        .contains("sg_event_id"));
    assert_eq!(app.store.counts().await.unwrap().events, 1);
    app.shutdown().await;
}

crate::backend_tests!(
    discord_events_interactions_and_pings,
    discord_refuses_tampering_wrong_keys_and_stale_timestamps,
    standard_webhooks_v1a_is_stored_once,
    standard_webhooks_with_both_keys_takes_v1_or_v1a,
    standard_webhooks_v1a_refuses_hmac_tampering_impostors_and_stale,
    sendgrid_batches_are_stored_deduplicated_and_routed_per_event,
    sendgrid_refuses_tampering_wrong_keys_and_stale_timestamps,
);
