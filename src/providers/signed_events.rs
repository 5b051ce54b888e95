//! Senders that sign the body with one HMAC header and post their events
//! as `{"events": [...]}`, as a table row: each event is stored on its own
//! (see [`super::batch`]). Xero, FastSpring, LINE and GoCardless differ only
//! in the header, where an event's ID and type are, and whether (and how)
//! an empty list is a URL check, so each is a [`SignedEvents`] constant and
//! its vectors.

use serde_json::Value;

use super::batch::{member_array, parts};
use super::kit::BodyHmac;
use super::{Handshake, Inbound, Keys, Rejection, Scheme, Verdict};

#[derive(Debug, Clone, Copy)]
pub struct SignedEvents {
    /// As the provider calls itself, for "body is not the ... it sends".
    pub provider: &'static str,
    pub signature: BodyHmac,
    /// The JSON pointer of an event's ID; `None`: the SHA-256 of its bytes.
    pub id: Option<&'static str>,
    pub event_type: fn(&Value) -> Option<String>,
    /// When a signed, empty `events` list is the sender's check of the URL
    /// (Xero's intent to receive, LINE's "Verify" button), its answer, and
    /// nothing is stored; with `None` such a list is refused (400).
    pub empty_is_check: Option<fn() -> Handshake>,
}

impl Scheme for SignedEvents {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        self.signature.verify(keys, req.headers, req.body)?;
        let elements = member_array(req.body, "events").ok_or_else(|| {
            Rejection::BadRequest(format!(
                "body is not the {{\"events\": [...]}} object {} sends",
                self.provider
            ))
        })?;
        if let (true, Some(answer)) = (elements.is_empty(), self.empty_is_check) {
            return Ok(Verdict::Handshake(answer()));
        }
        let parts = parts(req.body, elements, "event", self.id, self.event_type)?;
        Ok(Verdict::Batch(parts))
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![self.signature.sign(key, body)]
    }
}
