//! The one status vocabulary of the admin API: the store's
//! [`DeliveryStatus`] and [`EventStatus`] words, parsed from filters and
//! request bodies. Filters answer 400 naming an unknown word and listing
//! the valid ones; on events `dead` is accepted for `failed`.

use crate::error::ApiError;
pub use crate::store::{DeliveryStatus, EventStatus};

impl DeliveryStatus {
    /// A status word from a filter or request body; `field` names it in the error.
    pub fn parse(field: &str, word: &str) -> Result<Self, ApiError> {
        Self::from_word(word).ok_or_else(|| unknown(field, word, &Self::ALL.map(Self::as_str)))
    }
}

impl EventStatus {
    /// `dead` means `failed` here: the event whose delivery is dead.
    pub fn parse(field: &str, word: &str) -> Result<Self, ApiError> {
        if word == "dead" {
            return Ok(EventStatus::Failed);
        }
        Self::from_word(word).ok_or_else(|| unknown(field, word, &Self::ALL.map(Self::as_str)))
    }
}

/// An optional `status` filter, read by `parse` (either type's `parse`).
pub fn filter<T>(
    word: Option<&str>,
    parse: fn(&str, &str) -> Result<T, ApiError>,
) -> Result<Option<T>, ApiError> {
    word.map(|w| parse("status", w)).transpose()
}

fn unknown(field: &str, word: &str, valid: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "{field} {word:?} is unknown; use one of: {}",
        valid.join(", ")
    ))
    .with("parameter", field)
    .with("valid", valid.to_vec())
}
