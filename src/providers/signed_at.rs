//! The second commonest scheme, as a table row: the HMAC of the body joined
//! with the time it was sent, the time signed and sent alongside. Senders
//! differ only in where the two travel (one `t=..,v1=..` list or two
//! headers), how they are joined (`{t}.{body}`, `v0:{t}:{body}`,
//! `{body}{t}`), the clock's unit and the tolerance, and where the event ID
//! and type are read ([`Field`]). Sanity, Buildkite, Ghost, Lob, Webflow and
//! Customer.io are each a [`SignedAt`] constant and their vectors.

use super::kit::{check, pairs, Encoding, SignatureHeader};
use super::signed_body::{read_event, Field};
use super::{check_timestamp, signature_header, Inbound, Keys, Rejection, Scheme, Verdict};
use crate::crypto::{mac, Digest};

/// Where the timestamp and the signature travel.
#[derive(Debug, Clone, Copy)]
pub enum Carrier {
    /// One header holding a list of `key=value` items: the timestamp under
    /// `timestamp`, signatures under `signature` (any may match). Signing
    /// writes them in this order, joined with `join`.
    List {
        header: &'static str,
        timestamp: &'static str,
        signature: &'static str,
        encoding: Encoding,
        /// Whether the signature item comes first when signing (Ghost).
        signature_first: bool,
        join: &'static str,
    },
    /// The signature in one header, the timestamp in another.
    Headers {
        signature: SignatureHeader,
        timestamp: &'static str,
    },
}

/// How the timestamp and body are joined into the signed message:
/// `{before}{t}{between}{body}`, or `{before}{body}{between}{t}`.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub before: &'static str,
    pub between: &'static str,
    pub body_first: bool,
}

/// `{t}.{body}`, Stripe's join.
pub const DOT: Layout = Layout {
    before: "",
    between: ".",
    body_first: false,
};

/// The clock the timestamp counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
}

/// One provider that signs the body with its send time.
#[derive(Debug, Clone, Copy)]
pub struct SignedAt {
    /// As the provider calls itself, for "body is not the JSON ... sends".
    pub provider: &'static str,
    pub carrier: Carrier,
    pub layout: Layout,
    pub digest: Digest,
    pub unit: Unit,
    /// The default tolerance in seconds, where the provider names one.
    pub tolerance: Option<u64>,
    /// Whether only stale timestamps are refused (a clock ahead is fine).
    pub stale_only: bool,
    pub id: Field,
    pub event_type: Field,
}

impl SignedAt {
    fn message(&self, key: &[u8], t: &str, body: &[u8]) -> Vec<u8> {
        let Layout {
            before,
            between,
            body_first,
        } = self.layout;
        let (first, second) = if body_first {
            (body, t.as_bytes())
        } else {
            (t.as_bytes(), body)
        };
        mac(
            self.digest,
            key,
            &[before.as_bytes(), first, between.as_bytes(), second],
        )
    }

    /// The timestamp as sent and every candidate signature.
    fn read<'a>(&self, req: &Inbound<'a>) -> Result<(&'a str, Vec<Vec<u8>>), Rejection> {
        match self.carrier {
            Carrier::List {
                header,
                timestamp,
                signature,
                encoding,
                ..
            } => {
                let raw = signature_header(req.headers, header)?;
                let t = pairs(raw, ',')
                    .find(|(k, _)| *k == timestamp)
                    .map(|(_, v)| v)
                    .ok_or_else(|| {
                        Rejection::Unauthorized(format!("{header} has no {timestamp}="))
                    })?;
                let candidates: Vec<Vec<u8>> = pairs(raw, ',')
                    .filter(|(k, _)| *k == signature)
                    .filter_map(|(_, v)| encoding.decode(v))
                    .collect();
                if candidates.is_empty() {
                    return Err(Rejection::Unauthorized(format!(
                        "{header} has no {signature}= signature"
                    )));
                }
                Ok((t, candidates))
            }
            Carrier::Headers {
                signature,
                timestamp,
            } => {
                let candidates = signature.read_all(req.headers)?;
                Ok((signature_header(req.headers, timestamp)?, candidates))
            }
        }
    }

    fn stamp(&self, now: i64) -> String {
        match self.unit {
            Unit::Seconds => now.to_string(),
            Unit::Millis => (now * 1000).to_string(),
        }
    }
}

impl Scheme for SignedAt {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let (t, candidates) = self.read(req)?;
        check(keys, &candidates, |key| self.message(key, t, req.body))?;
        let secs = match self.unit {
            Unit::Seconds => t.to_string(),
            Unit::Millis => super::kit::millis_to_secs(t)?,
        };
        check_timestamp(&secs, tolerance, now, self.stale_only)?;
        read_event(req, self.provider, self.id, self.event_type)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let t = self.stamp(now);
        let sig = self.message(key, &t, body);
        let mut headers = match self.carrier {
            Carrier::List {
                header,
                timestamp,
                signature,
                encoding,
                signature_first,
                join,
            } => {
                let t = format!("{timestamp}={t}");
                let s = format!("{signature}={}", encoding.encode(&sig));
                let value = if signature_first {
                    format!("{s}{join}{t}")
                } else {
                    format!("{t}{join}{s}")
                };
                vec![(header.to_string(), value)]
            }
            Carrier::Headers {
                signature,
                timestamp,
            } => vec![
                (signature.name.to_string(), signature.value(&sig)),
                (timestamp.to_string(), t),
            ],
        };
        if let Field::Header(name) = self.id {
            headers.push((name.to_string(), delivery_id.to_string()));
        }
        headers
    }

    fn default_tolerance(&self) -> Option<u64> {
        self.tolerance
    }

    fn body_id_pointer(&self) -> Option<&str> {
        self.id.pointer()
    }
}
