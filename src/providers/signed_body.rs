//! The commonest provider of all, as a table row: one header holds the HMAC
//! of the raw body (hex or base64, maybe behind a prefix), and the event ID
//! and type come from headers, JSON pointers or the body's hash. Intercom,
//! Typeform, Vercel, Lemon Squeezy, Paystack, Bitbucket, Jira, Razorpay,
//! Sentry and WooCommerce differ only in those names, so each of their
//! files is a [`SignedBody`] constant and its published vector. Senders
//! that sign the body and post an array of events under one member (LINE,
//! GoCardless) are a [`SignedBatch`] constant likewise.

use std::cell::OnceCell;

use super::batch::{member_array, parts};
use super::kit::{body_sha256, BodyHmac};
use super::{
    json_body, required_header, required_json_str, Handshake, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
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

impl Json<'_> {
    pub fn get(&self) -> Result<&serde_json::Value, Rejection> {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let v = json_body(self.body, self.provider)?;
        Ok(self.value.get_or_init(|| v))
    }
}

impl Field {
    fn read(&self, req: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
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

impl Scheme for SignedBody {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        self.signature.verify(keys, req.headers, req.body)?;
        let json = Json {
            body: req.body,
            provider: self.provider,
            value: OnceCell::new(),
        };
        let id = self.id.read(req, &json)?;
        let event_type = self.event_type.read(req, &json)?;
        // The body must be the JSON the provider sends even when neither
        // field is read from it.
        json.get()?;
        Verified::new(id, event_type).map(Verdict::Event)
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
        match self.id {
            Field::Pointer(p) => Some(p),
            _ => None,
        }
    }
}

/// One provider that signs the raw body and posts a JSON object whose
/// `member` array holds the events: each element is an event of its own
/// (see [`super::batch`]).
#[derive(Debug, Clone, Copy)]
pub struct SignedBatch {
    /// As the provider calls itself, for "body is not the JSON ... sends".
    pub provider: &'static str,
    pub signature: BodyHmac,
    pub member: &'static str,
    /// An element's ID and type; `None` when it lacks them.
    pub read: fn(&serde_json::Value) -> Option<(String, String)>,
    /// What `read` needs, for the refusal of an element without it.
    pub needs: &'static str,
    /// Whether an empty array is the provider's endpoint check (LINE's
    /// "Verify" button), answered `{"status": "ok"}` and not stored.
    pub empty_is_check: bool,
}

impl Scheme for SignedBatch {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        self.signature.verify(keys, req.headers, req.body)?;
        let elements = member_array(req.body, self.member).ok_or_else(|| {
            Rejection::BadRequest(format!(
                "body is not the {{\"{}\": [...]}} object {} sends",
                self.member, self.provider
            ))
        })?;
        if elements.is_empty() && self.empty_is_check {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({"status": "ok"}),
            )));
        }
        parts(elements, self.needs, self.read).map(Verdict::Batch)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![self.signature.sign(key, body)]
    }
}
