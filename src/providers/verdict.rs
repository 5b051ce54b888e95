//! What verification yields: a [`Verified`] event (only ever built here
//! and in the provider files, and only with a deliverable ID and type), a
//! [`Handshake`] to answer, a batch, or a [`Rejection`] saying why not.

use super::batch;

/// The longest provider event ID hookgate stores, in bytes.
pub const MAX_EVENT_ID_BYTES: usize = 512;
/// The longest event type hookgate stores, in bytes.
pub const MAX_EVENT_TYPE_BYTES: usize = 256;

/// A request whose signature checked out, with what hookgate needs to store
/// and route it. Constructed only inside this module tree, and only with an
/// ID and type that can be delivered: both travel to targets as header
/// values, which cannot hold control characters, and targets refuse huge
/// headers. An event that could never be delivered is refused at ingest
/// (400), while the sender can still hear about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    provider_event_id: String,
    event_type: String,
    ack: Option<Ack>,
}

/// How a provider requires a stored event to be acknowledged, where
/// hookgate's JSON 200 would not do (Discord, Adyen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// 204 with no body.
    NoContent,
    /// 200 with this JSON body.
    Json(serde_json::Value),
    /// 200 with this plain-text body (Adyen's `[accepted]`).
    Text(&'static str),
}

impl Verified {
    pub(super) fn new(provider_event_id: String, event_type: String) -> Result<Self, Rejection> {
        deliverable(&provider_event_id, "provider event ID", MAX_EVENT_ID_BYTES)?;
        deliverable(&event_type, "event type", MAX_EVENT_TYPE_BYTES)?;
        Ok(Self {
            provider_event_id,
            event_type,
            ack: None,
        })
    }
    pub(super) fn with_ack(mut self, ack: Ack) -> Self {
        self.ack = Some(ack);
        self
    }
    /// The provider's own acknowledgement, when it needs one.
    pub fn ack(&self) -> Option<&Ack> {
        self.ack.as_ref()
    }
    pub fn provider_event_id(&self) -> &str {
        &self.provider_event_id
    }
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
}

/// Checks one field that will be sent as a header value; the message names
/// the field and never echoes the value.
fn deliverable(value: &str, field: &str, max: usize) -> Result<(), Rejection> {
    if value.is_empty() {
        return Err(Rejection::BadRequest(format!("the {field} is empty")));
    }
    if value.len() > max {
        return Err(Rejection::BadRequest(format!(
            "the {field} is {} bytes long; at most {max} are accepted",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Rejection::BadRequest(format!(
            "the {field} holds the control character U+{:04X}, which no header can carry",
            c as u32
        )));
    }
    Ok(())
}

/// What a verified request turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// An event to store and deliver.
    Event(Verified),
    /// A provider handshake (Slack `url_verification`, a Dropbox challenge):
    /// answered with 200 and this body, never stored.
    Handshake(Handshake),
    /// Several events in one request (SendGrid, Microsoft Graph), each
    /// stored, deduplicated and routed on its own.
    Batch(Vec<batch::Part>),
}

/// The answer to a handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    pub body: HandshakeBody,
    /// Extra response headers, e.g. `X-Content-Type-Options: nosniff`.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeBody {
    Json(serde_json::Value),
    /// Sent as `text/plain; charset=utf-8`.
    Text(String),
    /// 204 with no body (Discord's webhook-event PING).
    Empty,
}

impl Handshake {
    pub fn json(value: serde_json::Value) -> Handshake {
        Handshake {
            body: HandshakeBody::Json(value),
            headers: Vec::new(),
        }
    }

    /// A plain-text answer that browsers may not sniff as HTML, since it
    /// echoes text the caller chose (Dropbox requires the header).
    pub fn text(text: impl Into<String>) -> Handshake {
        Handshake {
            body: HandshakeBody::Text(text.into()),
            headers: vec![("x-content-type-options", "nosniff".into())],
        }
    }

    pub fn no_content() -> Handshake {
        Handshake {
            body: HandshakeBody::Empty,
            headers: Vec::new(),
        }
    }
}

/// Why a request was refused. `Unauthorized` details are safe to show: they
/// never name a secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// The provider never sends this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Verification needs something that cannot be had now (SNS's
    /// certificate server is unreachable): 503, so the sender retries.
    #[error("{0}")]
    Unavailable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IDs and types that could not travel as header values are refused,
    /// with the field named; the limits themselves are accepted.
    #[test]
    fn verified_holds_only_deliverable_values() {
        let ok = |id: &str, t: &str| Verified::new(id.into(), t.into());
        assert!(ok(
            &"i".repeat(MAX_EVENT_ID_BYTES),
            &"t".repeat(MAX_EVENT_TYPE_BYTES)
        )
        .is_ok());
        assert!(ok("é-ünïcode", "type.ok").is_ok());
        for (id, t, field) in [
            ("a\nb", "t", "provider event ID"),
            ("a\0b", "t", "provider event ID"),
            ("a\u{85}b", "t", "provider event ID"),
            ("", "t", "provider event ID"),
            ("a", "t\tx", "event type"),
            ("a", "", "event type"),
        ] {
            match ok(id, t) {
                Err(Rejection::BadRequest(m)) => assert!(m.contains(field), "{m}"),
                other => panic!("{id:?}/{t:?}: {other:?}"),
            }
        }
        assert!(ok(&"i".repeat(MAX_EVENT_ID_BYTES + 1), "t").is_err());
        assert!(ok("i", &"t".repeat(MAX_EVENT_TYPE_BYTES + 1)).is_err());
    }
}
