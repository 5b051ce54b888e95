//! Keys and `[[sources]]` blocks for the providers that verify with public
//! keys or answer handshakes: fixed test keys (never used anywhere else),
//! the signing of a request exactly as each provider would, and requests
//! whose answers are not JSON.

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use crate::helpers::{convert_headers, now_secs, TestApp};

pub const DISCORD_SEED: [u8; 32] = [0x11; 32];
pub const OTHER_ED25519_SEED: [u8; 32] = [0x12; 32];
pub const STANDARD_SEED: [u8; 32] = [0x33; 32];
pub const SENDGRID_SCALAR: [u8; 32] = [0x22; 32];
pub const OTHER_P256_SCALAR: [u8; 32] = [0x23; 32];
pub const TWITCH_SECRET: &str = "twitch-test-secret-9a1c";
pub const ZOOM_SECRET: &str = "zoom-test-secret-token-5d2e";
pub const DROPBOX_SECRET: &str = "dropbox-test-app-secret-77f0";
pub const GRAPH_CLIENT_STATE: &str = "graph-test-client-state-1b4c";
pub const TELNYX_SEED: [u8; 32] = [0x44; 32];
pub const ADYEN_HMAC_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";
pub const LINE_SECRET: &str = "line-channel-secret-6a2f";
pub const GOCARDLESS_SECRET: &str = "gocardless-webhook-secret-3d8e";
pub const MANDRILL_KEY: &str = "mandrill-webhook-key-9b1c";

pub fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

/// SendGrid's forms: the public key as base64 DER, the private one as
/// base64 PKCS#8 DER.
pub fn p256_keys(scalar: &[u8; 32]) -> (String, String) {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let key = p256::SecretKey::from_slice(scalar).unwrap();
    let public = key.public_key().to_public_key_der().unwrap();
    let private = key.to_pkcs8_der().unwrap();
    (
        B64.encode(public.as_bytes()),
        B64.encode(private.as_bytes()),
    )
}

/// Sources for every provider of this family except SNS (which needs a
/// certificate server, see `sns.rs`).
pub fn sources() -> String {
    let (sendgrid_public, sendgrid_private) = p256_keys(&SENDGRID_SCALAR);
    format!(
        r#"
[[sources]]
name = "discord"
provider = "discord"
public_keys = ["{discord_public}"]
signing_key = "{discord_seed}"

[[sources]]
name = "svix-pk"
provider = "standard-webhooks"
public_keys = ["whpk_{standard_public}"]
signing_key = "whsk_{standard_seed}"

[[sources]]
name = "sendgrid"
provider = "sendgrid"
public_keys = ["{sendgrid_public}"]
signing_key = "{sendgrid_private}"

[[sources]]
name = "twitch"
provider = "twitch"
secrets = ["{TWITCH_SECRET}"]

[[sources]]
name = "zoom"
provider = "zoom"
secrets = ["{ZOOM_SECRET}"]

[[sources]]
name = "dropbox"
provider = "dropbox"
secrets = ["{DROPBOX_SECRET}"]

[[sources]]
name = "graph"
provider = "microsoft-graph"
secrets = ["{GRAPH_CLIENT_STATE}"]

[[sources]]
name = "telnyx"
provider = "telnyx"
public_keys = ["{telnyx_public}"]
signing_key = "{telnyx_seed}"

[[sources]]
name = "adyen"
provider = "adyen"
secrets = ["{ADYEN_HMAC_KEY}"]

[[sources]]
name = "line"
provider = "line"
secrets = ["{LINE_SECRET}"]

[[sources]]
name = "gocardless"
provider = "gocardless"
secrets = ["{GOCARDLESS_SECRET}"]

[[sources]]
name = "mandrill"
provider = "mandrill"
secrets = ["{MANDRILL_KEY}"]
public_url = "https://hooks.example.com/ingest/mandrill"
"#,
        discord_public = hex::encode(ed25519_public(&DISCORD_SEED)),
        discord_seed = hex::encode(DISCORD_SEED),
        standard_public = B64.encode(ed25519_public(&STANDARD_SEED)),
        standard_seed = B64.encode(STANDARD_SEED),
        telnyx_public = B64.encode(ed25519_public(&TELNYX_SEED)),
        telnyx_seed = B64.encode(TELNYX_SEED),
    )
}

/// `body` signed as source `name`'s provider would send it at `now`: the
/// body (rewritten by providers that sign inside it) and the headers.
pub fn sign_at(
    app: &TestApp,
    name: &str,
    body: &[u8],
    now: i64,
) -> (Vec<u8>, Vec<(String, String)>) {
    app.signer(name).request(body, now)
}

/// An answer of any content type.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("JSON from a {}: {:?}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} in {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(String, String)],
) -> Response {
    let mut req = app
        .client
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("request reaches the app");
    Response {
        status: resp.status().as_u16(),
        headers: convert_headers(resp.headers()),
        text: resp.text().await.unwrap(),
    }
}

/// Signs `body` now as source `name` would and POSTs it to its ingest path.
pub async fn deliver(app: &TestApp, name: &str, body: &str, extra: &[(&str, &str)]) -> Response {
    deliver_at(app, name, body, now_secs(), extra).await
}

pub async fn deliver_at(
    app: &TestApp,
    name: &str,
    body: &str,
    at: i64,
    extra: &[(&str, &str)],
) -> Response {
    let (body, mut headers) = sign_at(app, name, body.as_bytes(), at);
    headers.push(("Content-Type".into(), "application/json".into()));
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    send(app, "POST", &format!("/ingest/{name}"), body, &headers).await
}
