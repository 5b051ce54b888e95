//! The status words of deliveries and events, typed in and out of SQL
//! (stored as their lowercase words).
//!
//! A delivery is `pending` (waiting for an attempt, or being retried),
//! `delivered` (the target answered 2xx), `dead` (out of attempts) or
//! `cancelled` (an operator cancelled it; never sent again). An event takes
//! its status from its deliveries: `failed` when one is dead, else
//! `pending` when one is pending, else `delivered` when one was delivered,
//! else `cancelled` when it had deliveries, else `unrouted`.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dead,
        DeliveryStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Pending,
    Delivered,
    Failed,
    Cancelled,
    Unrouted,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Pending,
        EventStatus::Delivered,
        EventStatus::Failed,
        EventStatus::Cancelled,
        EventStatus::Unrouted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
            EventStatus::Cancelled => "cancelled",
            EventStatus::Unrouted => "unrouted",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// The status of an event with deliveries in these statuses.
    pub fn of(deliveries: impl IntoIterator<Item = DeliveryStatus> + Clone) -> Self {
        let any = |s: DeliveryStatus| deliveries.clone().into_iter().any(|d| d == s);
        if any(DeliveryStatus::Dead) {
            EventStatus::Failed
        } else if any(DeliveryStatus::Pending) {
            EventStatus::Pending
        } else if any(DeliveryStatus::Delivered) {
            EventStatus::Delivered
        } else if deliveries.into_iter().next().is_some() {
            EventStatus::Cancelled
        } else {
            EventStatus::Unrouted
        }
    }
}

macro_rules! display_word {
    ($ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with the status word, as the API and SQL spell it.
        impl PartialEq<&str> for $ty {
            fn eq(&self, word: &&str) -> bool {
                self.as_str() == *word
            }
        }
    };
}
display_word!(DeliveryStatus);
display_word!(EventStatus);

/// Decoding from the stored word; a word outside the vocabulary is a
/// store error, never silently mapped.
macro_rules! from_stored {
    ($ty:ident) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(word: String) -> Result<Self, String> {
                $ty::from_word(&word)
                    .ok_or_else(|| format!("unknown {} {word:?} in the store", stringify!($ty)))
            }
        }
    };
}
from_stored!(DeliveryStatus);
from_stored!(EventStatus);

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn event_status_follows_its_deliveries() {
        let cases: [(&[DeliveryStatus], EventStatus); 6] = [
            (&[], EventStatus::Unrouted),
            (&[Delivered, Dead], EventStatus::Failed),
            (&[Delivered, Pending], EventStatus::Pending),
            (&[Delivered, Cancelled], EventStatus::Delivered),
            (&[Cancelled], EventStatus::Cancelled),
            (&[Pending, Dead], EventStatus::Failed),
        ];
        for (deliveries, expected) in cases {
            assert_eq!(EventStatus::of(deliveries.iter().copied()), expected);
        }
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_errors() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        assert!(DeliveryStatus::try_from("sent".to_string()).is_err());
    }
}
