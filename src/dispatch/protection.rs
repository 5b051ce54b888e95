//! The dispatcher's side of target protection: each target's
//! `rate_limit`, `circuit_failures` and `circuit_cooldown_ms` read from its
//! configuration, and the log line of each circuit change. The rules
//! themselves are the store's (`store::targets`), applied in the claim and
//! the record transactions so every process obeys one state.

use crate::config::{ConfigError, TargetConfig};
use crate::store::{CircuitChange, Protection, RateLimit};

/// A target's protection; a bad `rate_limit` is an error naming the key.
pub fn from_config(target: &TargetConfig, key: &str) -> Result<Protection, ConfigError> {
    let rate_limit = match &target.rate_limit {
        Some(text) => Some(
            text.parse::<RateLimit>()
                .map_err(|m| ConfigError::new(format!("{key}.rate_limit"), m))?,
        ),
        None => None,
    };
    Ok(Protection {
        rate_limit,
        circuit_failures: target.circuit_failures,
        circuit_cooldown_ms: target.circuit_cooldown_ms,
    })
}

/// One line per circuit change: the store reports each change once, from
/// the transaction that made it.
pub fn log_change(change: &CircuitChange) {
    tracing::warn!(
        target = %change.target,
        from = %change.from,
        to = %change.to,
        consecutive_failures = change.failures,
        "circuit {}",
        match change.to {
            crate::store::Circuit::Open => "opened: deliveries wait until a probe succeeds",
            crate::store::Circuit::HalfOpen => "half-open: one probe goes out",
            crate::store::Circuit::Closed => "closed: deliveries flow again",
        }
    );
}
