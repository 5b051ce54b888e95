//! Typed, prefixed identifiers, the random IDs a provider would make, and
//! the clock in the store's unit.
//!
//! IDs are `evt_`, `dlv_` or `cfl_` followed by 12 hex digits of the creation
//! time in milliseconds and 16 hex digits (random, counting up within one
//! millisecond), so they sort by creation time, which the admin API's
//! cursors rely on.

use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::time::UnixMs;

/// Milliseconds since the Unix epoch, taken from the process clock (never
/// from the database's): [`UnixMs::now`] as the store's `i64` columns hold it.
pub fn now_ms() -> i64 {
    UnixMs::now().as_millis()
}

/// A random identifier with a prefix, for delivery IDs a provider would
/// generate (Standard Webhooks' `webhook-id`, `msg_` and 32 hex digits).
pub fn fresh_id(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// A random UUID v4, lowercase and hyphenated, as GitHub, GitLab and
/// Shopify send their delivery IDs.
pub fn fresh_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Strictly increasing within this process: an ID made in the same
/// millisecond as the previous one (or with a clock that stepped back)
/// continues from it, so IDs sort in the order they were made.
fn time_ordered(prefix: &str, at_ms: i64) -> String {
    static LAST: Mutex<(u64, u64)> = Mutex::new((0, 0));
    let ms = at_ms.max(0) as u64 & 0xffff_ffff_ffff;
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let next = if ms > last.0 {
        // The top bit stays clear, leaving room to count up within the ms.
        (ms, rand::random::<u64>() >> 1)
    } else {
        (last.0, last.1.wrapping_add(1))
    };
    *last = next;
    format!("{prefix}{:012x}{:016x}", next.0, next.1)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
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
        // Same millisecond, or a clock that stepped back: still increasing.
        let c = EventId::generate(2_000);
        let d = EventId::generate(1_500);
        assert!(b < c && c < d, "{b} {c} {d}");
        assert_eq!(EventId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(EventId::parse("evt_xyz"), None);
        assert_eq!(DeliveryId::parse(a.as_str()), None);
    }

    #[test]
    fn fresh_uuids_are_lowercase_hyphenated_v4() {
        let u = fresh_uuid();
        let groups: Vec<&str> = u.split('-').collect();
        let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        assert_eq!(lens, [8, 4, 4, 4, 12], "{u}");
        assert!(u
            .bytes()
            .all(|b| b == b'-' || matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert!(groups[2].starts_with('4'), "version 4: {u}");
        assert!(
            matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
            "RFC 4122 variant: {u}"
        );
        assert_ne!(fresh_uuid(), u);
    }
}
