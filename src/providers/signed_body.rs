//! The commonest provider of all, as a table row: one header holds the HMAC
//! of the raw body (hex or base64, maybe behind a prefix, or a `v1=` list),
//! and the event ID and type come from headers, JSON pointers or the body's
//! hash. Intercom, Typeform, Vercel, Lemon Squeezy, Paystack, Bitbucket,
//! Jira, Razorpay, Sentry, WooCommerce, PagerDuty, Webex, Gitea, CircleCI,
//! Heroku, LaunchDarkly, ClickUp, Cal.com, Tally, Segment, EasyPost and
//! Patreon differ only in those names, so each of their files is a
//! [`SignedBody`] constant and its vector (Airtable and Microsoft Teams one
//! keyed with a base64 secret, [`Base64Keyed`]).

use std::cell::OnceCell;

use super::kit::{body_sha256, BodyHmac};
use super::{
    json_body, required_header, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};

/// Where an event's ID or type is read from.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// A header, spelled as the provider sends it; when signing, the
    /// delivery ID is sent in it.
    Header(&'static str),
    /// A JSON pointer into the body.
    Pointer(&'static str),
    /// The body's SHA-256: the dedup key of providers that send no event ID
    /// (a resend carries the same bytes).
    BodySha256,
    /// A rule of the provider's own (Sentry's `{resource}.{action}`).
    Rule(fn(&Inbound<'_>, &Json<'_>) -> Result<String, Rejection>),
}

/// One provider that signs the raw body.
#[derive(Debug, Clone, Copy)]
pub struct SignedBody {
    /// As the provider calls itself, for "body is not the JSON ... sends".
    pub provider: &'static str,
    pub signature: BodyHmac,
    pub id: Field,
    pub event_type: Field,
    /// A header the provider stamps with the send time, outside the MAC.
    pub sent_at: Option<&'static str>,
}

/// The body parsed as a JSON object on first use, so a missing header is
/// reported before a body that is not JSON, in the order the fields are read.
pub struct Json<'a> {
    body: &'a [u8],
    provider: &'static str,
    value: OnceCell<serde_json::Value>,
}

impl<'a> Json<'a> {
    pub fn new(body: &'a [u8], provider: &'static str) -> Json<'a> {
        Json {
            body,
            provider,
            value: OnceCell::new(),
        }
    }

    pub fn get(&self) -> Result<&serde_json::Value, Rejection> {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let v = json_body(self.body, self.provider)?.value();
        Ok(self.value.get_or_init(|| v))
    }
}

impl Field {
    /// The JSON pointer of a field read from the body.
    pub fn pointer(&self) -> Option<&'static str> {
        match *self {
            Field::Pointer(p) => Some(p),
            _ => None,
        }
    }

    pub fn read(&self, req: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
        match *self {
            Field::Header(name) => {
                required_header(req.headers, &name.to_ascii_lowercase()).map(str::to_string)
            }
            // `/meta/event_name` is named `meta.event_name` in the error.
            Field::Pointer(p) => required_json_str(json.get()?, p, &p[1..].replace('/', ".")),
            Field::BodySha256 => Ok(body_sha256(req.body)),
            Field::Rule(rule) => rule(req, json),
        }
    }
}

/// The event a verified request carries, its ID and type read as `id` and
/// `event_type` say; the body must be the JSON object `provider` sends even
/// when neither is read from it.
pub fn read_event(
    req: &Inbound<'_>,
    provider: &'static str,
    id: Field,
    event_type: Field,
) -> Result<Verdict, Rejection> {
    let json = Json::new(req.body, provider);
    let id = id.read(req, &json)?;
    let event_type = event_type.read(req, &json)?;
    json.get()?;
    Verified::new(id, event_type).map(Verdict::Event)
}

impl Scheme for SignedBody {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        self.signature.verify(keys, req.headers, req.body)?;
        read_event(req, self.provider, self.id, self.event_type)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let mut headers = vec![self.signature.sign(key, body)];
        if let Field::Header(name) = self.id {
            headers.push((name.to_string(), delivery_id.to_string()));
        }
        if let Some(name) = self.sent_at {
            headers.push((name.to_string(), now.to_string()));
        }
        headers
    }

    fn body_id_pointer(&self) -> Option<&str> {
        self.id.pointer()
    }
}

/// A [`SignedBody`] whose key is the secret base64-decoded, as the sender
/// shows it (Airtable's `macSecretBase64`, a Microsoft Teams security token).
#[derive(Debug, Clone, Copy)]
pub struct Base64Keyed(pub SignedBody);

impl Scheme for Base64Keyed {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        self.0.verify(keys, tolerance, req, now)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        self.0.sign(key, body, now, delivery_id)
    }

    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        use base64::{engine::general_purpose::STANDARD, Engine};
        STANDARD
            .decode(raw.trim())
            .map_err(|_| format!("{} shows this secret in base64: it is not", self.0.provider))
    }

    fn body_id_pointer(&self) -> Option<&str> {
        self.0.body_id_pointer()
    }
}
