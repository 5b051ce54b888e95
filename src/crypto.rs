//! The keyed-hash and comparison primitives every room that checks a
//! secret shares: provider signatures, admin token auth and `hookgate
//! listen`. Kept here, below all of them, so none reaches into another's
//! module for them.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// The hash under an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha512,
    /// Only where a sender still signs with it (Patreon).
    Md5,
}

/// The HMAC of the concatenated `parts`, with any digest.
pub fn mac(digest: Digest, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match digest {
        Digest::Sha1 => hmac_sha1(key, parts).to_vec(),
        Digest::Sha256 => hmac_sha256(key, parts).to_vec(),
        Digest::Sha512 => run::<Hmac<sha2::Sha512>>(key, parts).to_vec(),
        Digest::Md5 => run::<Hmac<md5::Md5>>(key, parts).to_vec(),
    }
}

/// HMAC-SHA256 of the concatenated `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    run::<Hmac<sha2::Sha256>>(key, parts).into()
}

/// HMAC-SHA1 of the concatenated `parts`.
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    run::<Hmac<sha1::Sha1>>(key, parts).into()
}

fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> hmac::digest::Output<M> {
    let mut m = <M as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes()
}

/// Constant-time equality of two byte strings (their lengths are not
/// secret): how every given secret or signature is compared with the
/// expected one, so timing reveals nothing of it.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_by_digest_match_rfc_4231_and_2202() {
        // RFC 4231 test case 2 and RFC 2202 test case 2: key "Jefe".
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        assert_eq!(
            hex::encode(mac(Digest::Sha256, b"Jefe", data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(mac(Digest::Sha512, b"Jefe", data)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        assert_eq!(
            hex::encode(mac(Digest::Sha1, b"Jefe", data)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // RFC 2202's test case 2 for HMAC-MD5.
        assert_eq!(
            hex::encode(mac(Digest::Md5, b"Jefe", data)),
            "750c783e6ab0b503eaa86e310a5db738"
        );
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }
}
