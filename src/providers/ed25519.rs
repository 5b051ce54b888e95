//! Ed25519 keys and signatures, shared by Discord, Telnyx and Standard
//! Webhooks `v1a`: a set of trusted public keys (several = rotation) and,
//! for development only, a private key so `hookgate replay` can sign
//! fixtures; and [`Timestamped`], the scheme Discord and Telnyx share.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::kit::{has_signing_key, Encoding};
use super::{bad_signature, check_timestamp, signature_header, Inbound, Rejection};
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

/// A sender that signs `{timestamp}{separator}{body}` with Ed25519 and
/// sends the signature and the timestamp in two headers (Discord, Telnyx):
/// the header names, the separator and how keys and signatures are written.
pub struct Form {
    /// The headers as the sender spells them (looked up without case).
    pub signature_header: &'static str,
    pub timestamp_header: &'static str,
    pub separator: &'static [u8],
    pub encoding: Encoding,
    /// The private key's text form, for errors.
    pub private: &'static str,
    /// Why a source without `public_keys` is refused.
    pub missing: &'static str,
}

/// A configured [`Form`]: the trusted public keys and the development key.
#[derive(Debug)]
pub struct Timestamped {
    form: &'static Form,
    public_keys: PublicKeys,
    signing_key: Option<PrivateKey>,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.signature_header)
    }
}

impl Timestamped {
    /// The source's `public_keys` (at least one) and `signing_key`, in the
    /// form's encoding; errors name the key to fix.
    pub fn from_config(
        form: &'static Form,
        source: &crate::config::SourceConfig,
        key: &str,
    ) -> Result<Timestamped, ConfigError> {
        let decode = |t: &str| form.encoding.decode(t);
        let shown = match form.encoding {
            Encoding::Hex => "64 hex digits",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
        };
        let public_keys = PublicKeys::parse(&source.public_keys, key, decode, shown)?;
        if public_keys.is_empty() {
            return Err(ConfigError::new(format!("{key}.public_keys"), form.missing));
        }
        let signing_key = signing_key(
            source.signing_key.as_ref().map(|s| s.expose()),
            key,
            decode,
            form.private,
        )?;
        Ok(Timestamped {
            form,
            public_keys,
            signing_key,
        })
    }

    /// Checks the signature, then the timestamp against `tolerance`.
    pub fn check(
        &self,
        req: &Inbound<'_>,
        tolerance: Option<u64>,
        now: i64,
    ) -> Result<(), Rejection> {
        let form = self.form;
        let signature = form
            .encoding
            .decode(signature_header(
                req.headers,
                &form.signature_header.to_ascii_lowercase(),
            )?)
            .ok_or_else(|| {
                Rejection::Unauthorized(format!(
                    "{} is not {}",
                    form.signature_header,
                    match form.encoding {
                        Encoding::Hex => "hex",
                        Encoding::Base64 => "base64",
                        Encoding::Base64Url => "base64url",
                    }
                ))
            })?;
        let timestamp = signature_header(req.headers, &form.timestamp_header.to_ascii_lowercase())?;
        if !self.public_keys.verify(
            &[timestamp.as_bytes(), form.separator, req.body],
            &signature,
        ) {
            return Err(bad_signature());
        }
        check_timestamp(timestamp, tolerance, now, false)?;
        Ok(())
    }

    /// The two headers, signed with the development key (none without it).
    pub fn sign(&self, body: &[u8], now: i64) -> Vec<(String, String)> {
        let Some(key) = &self.signing_key else {
            return Vec::new();
        };
        let timestamp = now.to_string();
        let signature = key.sign(&[timestamp.as_bytes(), self.form.separator, body]);
        vec![
            (
                self.form.signature_header.to_string(),
                self.form.encoding.encode(&signature),
            ),
            (self.form.timestamp_header.to_string(), timestamp),
        ]
    }

    /// [`super::Scheme::signing_ready`]: whether the development key is set.
    pub fn signing_ready(&self) -> Result<(), String> {
        has_signing_key(
            self.signing_key.as_ref(),
            &format!(
                "the source has no signing_key (a development Ed25519 private key, {})",
                self.form.private
            ),
        )
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
