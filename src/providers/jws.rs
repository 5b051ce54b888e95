//! Compact JWS signed with HMAC-SHA256 (a JWT with `"alg": "HS256"`), for
//! senders whose signature is a token (Netlify's `X-Webhook-Signature`):
//! the claims are read only after the MAC over `{header}.{claims}` checks
//! out under one of the keys, and any other `alg` (`none` above all) is
//! refused.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde_json::Value;

use super::kit::check;
use super::{Keys, Rejection};
use crate::crypto::hmac_sha256;

/// The claims of `token` once its HS256 signature matches a key; 401
/// (naming `what`, the header it came in) otherwise.
pub fn verify(token: &str, keys: &Keys, what: &str) -> Result<Value, Rejection> {
    let malformed = || Rejection::Unauthorized(format!("{what} is not a compact JWS"));
    let mut parts = token.trim().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let decode = |part: &str| {
        B64URL
            .decode(part.trim_end_matches('='))
            .map_err(|_| malformed())
    };
    let head: Value = serde_json::from_slice(&decode(header)?).map_err(|_| malformed())?;
    if head.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(Rejection::Unauthorized(format!(
            "{what} is not signed with HS256"
        )));
    }
    let given = decode(signature)?;
    check(keys, &[given], |key| {
        hmac_sha256(key, &[header.as_bytes(), b".", claims.as_bytes()]).to_vec()
    })?;
    serde_json::from_slice(&decode(claims)?).map_err(|_| malformed())
}

/// `claims` as a compact JWS signed with `key` (header `{"alg":"HS256","typ":"JWT"}`).
pub fn sign(key: &[u8], claims: &Value) -> String {
    let header = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64URL.encode(claims.to_string());
    let mac = hmac_sha256(key, &[header.as_bytes(), b".", claims.as_bytes()]);
    format!("{header}.{claims}.{}", B64URL.encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::keys;

    #[test]
    fn only_hs256_under_a_known_key_is_read() {
        let token = sign(b"k", &serde_json::json!({"a": 1}));
        assert_eq!(verify(&token, &keys(&["x", "k"]), "H").unwrap()["a"], 1);
        assert!(verify(&token, &keys(&["x"]), "H").is_err());
        let none = format!(
            "{}.{}.",
            B64URL.encode(br#"{"alg":"none"}"#),
            B64URL.encode(br#"{"a":1}"#)
        );
        assert!(verify(&none, &keys(&["k"]), "H").is_err());
        for bad in ["", "a.b", "a.b.c.d", "!.!.!"] {
            assert!(verify(bad, &keys(&["k"]), "H").is_err(), "{bad}");
        }
    }
}
