//! The one status vocabulary of the admin API.
//!
//! A delivery is `pending` (waiting for an attempt, or being retried),
//! `delivered` (the target answered 2xx), `dead` (out of attempts) or
//! `cancelled` (an operator cancelled it; never sent again). An event takes
//! its status from its deliveries: `failed` when one is dead (`dead` is
//! accepted as a filter too), else `pending` when one is pending, else
//! `delivered` when one was delivered, else `cancelled` when it had
//! deliveries, else `unrouted`. Filters answer 400 naming an unknown word
//! and listing the valid ones.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

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

    /// A status word from a filter or request body; `field` names it in the error.
    pub fn parse(field: &str, word: &str) -> Result<Self, ApiError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| unknown(field, word, &Self::ALL.map(Self::as_str)))
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

    /// `dead` means `failed` here: the event whose delivery is dead.
    pub fn parse(field: &str, word: &str) -> Result<Self, ApiError> {
        if word == "dead" {
            return Ok(EventStatus::Failed);
        }
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| unknown(field, word, &Self::ALL.map(Self::as_str)))
    }

    /// The status of an event with deliveries in these statuses.
    pub fn of<'a>(deliveries: impl IntoIterator<Item = &'a str> + Clone) -> Self {
        let any = |word: &str| deliveries.clone().into_iter().any(|d| d == word);
        if any("dead") {
            EventStatus::Failed
        } else if any("pending") {
            EventStatus::Pending
        } else if any("delivered") {
            EventStatus::Delivered
        } else if deliveries.into_iter().next().is_some() {
            EventStatus::Cancelled
        } else {
            EventStatus::Unrouted
        }
    }
}

fn unknown(field: &str, word: &str, valid: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "{field} {word:?} is unknown; use one of: {}",
        valid.join(", ")
    ))
    .with("parameter", field)
    .with("valid", valid.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_status_follows_its_deliveries() {
        let cases: [(&[&str], EventStatus); 6] = [
            (&[], EventStatus::Unrouted),
            (&["delivered", "dead"], EventStatus::Failed),
            (&["delivered", "pending"], EventStatus::Pending),
            (&["delivered", "cancelled"], EventStatus::Delivered),
            (&["cancelled"], EventStatus::Cancelled),
            (&["pending", "dead"], EventStatus::Failed),
        ];
        for (deliveries, expected) in cases {
            assert_eq!(EventStatus::of(deliveries.iter().copied()), expected);
        }
    }
}
