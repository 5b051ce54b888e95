//! Ed25519 keys and signatures, shared by Discord and Standard Webhooks
//! `v1a`: a set of trusted public keys (several = rotation) and, for
//! development only, a private key so `hookgate replay` can sign fixtures.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::config::ConfigError;

/// The public keys a source trusts.
#[derive(Clone, Default)]
pub struct PublicKeys(Vec<VerifyingKey>);

impl std::fmt::Debug for PublicKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKeys({})", self.0.len())
    }
}

impl PublicKeys {
    /// Parses each configured key with `decode` (which turns the provider's
    /// text form into 32 bytes); errors name `{key}.public_keys[i]`.
    pub fn parse(
        texts: &[String],
        key: &str,
        decode: impl Fn(&str) -> Option<Vec<u8>>,
        form: &str,
    ) -> Result<PublicKeys, ConfigError> {
        let mut keys = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            let bad = || {
                ConfigError::new(
                    format!("{key}.public_keys[{i}]"),
                    format!("not an Ed25519 public key ({form})"),
                )
            };
            let bytes: [u8; 32] = decode(text.trim())
                .and_then(|b| b.try_into().ok())
                .ok_or_else(bad)?;
            keys.push(VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?);
        }
        Ok(PublicKeys(keys))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `signature` over the concatenation of `parts` verifies under
    /// any trusted key. Strict verification: no malleable signatures, no
    /// small-order keys.
    pub fn verify(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        let message = parts.concat();
        self.0
            .iter()
            .any(|k| k.verify_strict(&message, &signature).is_ok())
    }
}

/// A private key for development signing.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

impl PrivateKey {
    /// From 32 bytes (the seed) or 64 (seed and public key, as libsodium
    /// and tweetnacl print it; the halves must agree).
    pub fn from_bytes(bytes: &[u8]) -> Option<PrivateKey> {
        match bytes.len() {
            32 => Some(PrivateKey(SigningKey::from_bytes(bytes.try_into().ok()?))),
            64 => SigningKey::from_keypair_bytes(bytes.try_into().ok()?)
                .ok()
                .map(PrivateKey),
            _ => None,
        }
    }

    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 64] {
        self.0.sign(&parts.concat()).to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

/// `signing_key`: the development private key, decoded by `decode`; an
/// error names `{key}.signing_key`.
pub fn signing_key(
    text: Option<&str>,
    key: &str,
    decode: impl Fn(&str) -> Option<Vec<u8>>,
    form: &str,
) -> Result<Option<PrivateKey>, ConfigError> {
    text.map(|t| {
        decode(t.trim())
            .and_then(|b| PrivateKey::from_bytes(&b))
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.signing_key"),
                    format!("not an Ed25519 private key ({form})"),
                )
            })
    })
    .transpose()
}
