//! Netlify (outgoing deploy and form notifications with a JWS secret):
//! `X-Webhook-Signature` is a JWT signed with HS256 under the notification's
//! JWS secret token, whose claims are `iss: "netlify"` and `sha256`, the hex
//! SHA-256 of the body (see [`super::jwt`]). The type is `X-Netlify-Event`
//! (`deploy_created`, `deploy_failed`, `submission_created`); a deploy
//! sends one notification per state with the same body `id`, so the event
//! ID is `{X-Netlify-Event}:{id}`.

use sha2::Digest as _;

use super::{
    json_body, jwt, required_header, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct Netlify;

/// The header naming the event.
const EVENT: &str = "x-netlify-event";

impl Scheme for Netlify {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let token = signature_header(req.headers, "x-webhook-signature")?;
        let claims = jwt::verify(token, keys, &["HS256"])?;
        if claims.get("iss").and_then(|v| v.as_str()) != Some("netlify") {
            return Err(Rejection::Unauthorized(
                "X-Webhook-Signature was not issued by netlify".into(),
            ));
        }
        let digest = hex::encode(sha2::Sha256::digest(req.body));
        let claimed = claims.get("sha256").and_then(|v| v.as_str()).unwrap_or("");
        if !ct_eq(claimed.as_bytes(), digest.as_bytes()) {
            return Err(Rejection::Unauthorized(
                "the body is not the one X-Webhook-Signature signs".into(),
            ));
        }
        let event = required_header(req.headers, EVENT)?;
        let json = json_body(req.body, "Netlify")?;
        let id = required_json_str(&json, "/id", "id")?;
        Verified::new(format!("{event}:{id}"), event.to_string()).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        let claims = serde_json::json!({
            "iss": "netlify",
            "sha256": hex::encode(sha2::Sha256::digest(body)),
        });
        vec![("X-Webhook-Signature".into(), jwt::sign(key, &claims))]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "netlify-jws-secret-54";
    const BODY: &str = r#"{"id":"6650c1a2f1b2c3d4e5f60740","site_id":"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","build_id":"6650c1a2f1b2c3d4e5f60741","state":"ready","name":"hookgate-docs","url":"https://hookgate-docs.netlify.app","deploy_url":"https://6650c1a2f1b2c3d4e5f60740--hookgate-docs.netlify.app","branch":"main","commit_ref":"a1b2c3d4","context":"production","created_at":"2024-05-20T10:00:00.000Z"}"#;
    /// Signed with `jsonwebtoken` 9.0.3 (npm), the library of Netlify's own
    /// verification example (`jwt.sign({iss, sha256}, secret)`, HS256), and
    /// accepted by its `jwt.verify` with issuer `netlify`, which also accepts
    /// hookgate's signer's token (the same string).
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJuZXRsaWZ5Iiwic2hhMjU2IjoiZWViMWU5ZTcwMjY1NjYyZDkxNTFjY2ZkZDMwNDA3MzIxNjg2Njc1ZTViN2FkMTg1MzA3ZjFmZDQwMTVhNDMzMCJ9.d-rv8uSCdmCnx7qppC_5i3NvuyPBzZNUseboAraF_lE";

    #[test]
    fn library_vector_verifies_and_signs() {
        let case = Case::new("netlify", &["cm90YXRlZC1vdXQ=", SECRET], "");
        let given = case.raw(
            &[
                ("x-webhook-signature", TOKEN),
                ("x-netlify-event", "deploy_created"),
            ],
            BODY.as_bytes(),
        );
        assert_eq!(
            given.event(0),
            (
                "deploy_created:6650c1a2f1b2c3d4e5f60740".into(),
                "deploy_created".into()
            )
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("netlify", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-webhook-signature"), Some(TOKEN));
    }

    #[test]
    fn another_issuer_is_refused() {
        let token = crate::providers::jwt::sign(
            SECRET.as_bytes(),
            &serde_json::json!({"iss": "elsewhere", "sha256": "00"}),
        );
        Case::new("netlify", &[SECRET], "")
            .raw(
                &[
                    ("x-webhook-signature", token.as_str()),
                    ("x-netlify-event", "deploy_created"),
                ],
                BODY.as_bytes(),
            )
            .assert_unauthorized(None, 0);
    }
}
