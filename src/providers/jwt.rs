//! JSON Web Tokens signed with a shared secret (HS256, HS512), as Vonage,
//! MessageBird, Netlify and monday.com sign their requests: the signature
//! checked against every configured secret, the claims returned for the
//! provider to check (its payload hash, issuer, times). Tokens with any
//! other `alg` (`none` included) are refused before anything else is read.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde_json::{Map, Value};

use super::kit::check;
use super::{Keys, Rejection};
use crate::crypto::{mac, Digest};

fn digest_of(alg: &str) -> Option<Digest> {
    match alg {
        "HS256" => Some(Digest::Sha256),
        "HS512" => Some(Digest::Sha512),
        _ => None,
    }
}

fn part(text: &str, what: &str) -> Result<Map<String, Value>, Rejection> {
    B64URL
        .decode(text.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| Rejection::Unauthorized(format!("the token's {what} is not base64url JSON")))
}

/// The claims of `token` when its signature verifies under one of `keys`
/// with one of the `allowed` algorithms.
pub fn verify(token: &str, keys: &Keys, allowed: &[&str]) -> Result<Map<String, Value>, Rejection> {
    let mut pieces = token.trim().split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(Rejection::Unauthorized("the token is not a JWT".into()));
    };
    let header = part(head, "header")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let digest = digest_of(alg)
        .filter(|_| allowed.contains(&alg))
        .ok_or_else(|| {
            Rejection::Unauthorized(format!("the token's alg {alg:?} is not accepted"))
        })?;
    let given = B64URL
        .decode(sig.trim_end_matches('='))
        .map_err(|_| Rejection::Unauthorized("the token's signature is not base64url".into()))?;
    let signed = &token.trim()[..head.len() + 1 + body.len()];
    check(keys, &[given], |key| mac(digest, key, &[signed.as_bytes()]))?;
    part(body, "payload")
}

/// A HS256 token of `claims` under `key`.
pub fn sign(key: &[u8], claims: &Value) -> String {
    let head = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = B64URL.encode(claims.to_string());
    let signed = format!("{head}.{body}");
    let sig = B64URL.encode(mac(Digest::Sha256, key, &[signed.as_bytes()]));
    format!("{signed}.{sig}")
}

/// A claim as text (a number as written), if present.
pub fn claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::keys;

    #[test]
    fn other_algorithms_and_forgeries_are_refused() {
        let token = sign(b"k", &serde_json::json!({"a": 1}));
        assert_eq!(
            verify(&token, &keys(&["x", "k"]), &["HS256"]).unwrap()["a"],
            1
        );
        assert!(verify(&token, &keys(&["x"]), &["HS256"]).is_err());
        assert!(verify(&token, &keys(&["k"]), &["HS512"]).is_err());
        let (signed, _) = token.rsplit_once('.').unwrap();
        let none = format!(
            "{}.{}.",
            B64URL.encode(br#"{"alg":"none"}"#),
            signed.split_once('.').unwrap().1
        );
        assert!(verify(&none, &keys(&["k"]), &["HS256"]).is_err());
        assert!(verify("a.b", &keys(&["k"]), &["HS256"]).is_err());
    }
}
