//! Typed, prefixed identifiers and the clock.
//!
//! IDs are `evt_`, `dlv_` or `cfl_` followed by 12 hex digits of the creation
//! time in milliseconds and 16 random hex digits, so they sort by creation
//! time, which the admin API's cursors rely on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, taken from the process clock (never
/// from the database's).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn time_ordered(prefix: &str, at_ms: i64) -> String {
    format!(
        "{prefix}{:012x}{:016x}",
        at_ms as u64 & 0xffff_ffff_ffff,
        rand::random::<u64>()
    )
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate(at_ms: i64) -> Self {
                Self(time_ordered($prefix, at_ms))
            }

            /// Accepts only strings of the right shape, so malformed IDs from
            /// URLs are refused before any query.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                (rest.len() == 28 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| Self(s.to_string()))
            }

            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// One accepted event (what a provider sent once).
    EventId,
    "evt_"
);
id_type!(
    /// One event's delivery to one target.
    DeliveryId,
    "dlv_"
);
id_type!(
    /// One refused same-ID, different-body request.
    ConflictId,
    "cfl_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_parse() {
        let a = EventId::generate(1_000);
        let b = EventId::generate(2_000);
        assert!(a < b);
        assert_eq!(EventId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(EventId::parse("evt_xyz"), None);
        assert_eq!(DeliveryId::parse(a.as_str()), None);
    }
}
