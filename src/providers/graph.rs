//! Microsoft Graph change notifications. Graph signs nothing: each
//! notification carries the `clientState` given when the subscription was
//! created, and it must equal one of the source's `secrets` (compared in
//! constant time). A request in which any notification fails this check is
//! refused whole with 401.
//!
//! Creating a subscription sends `?validationToken=...` (Graph uses POST;
//! GET is answered the same way), answered with the decoded token as
//! `text/plain` (Graph waits 10 seconds at most), not stored.
//!
//! The body is `{"value": [...]}`; each notification is stored as an event
//! of its own, like SendGrid's batches (see [`super::batch`]). Its ID is
//! its `id` when Graph sends one, else the SHA-256 (hex) of its bytes
//! (Graph's retries resend the same bytes); its type is `lifecycleEvent`
//! for lifecycle notifications (`reauthorizationRequired`, ...), else
//! `changeType` (`created`, `updated`, `deleted`).

use sha2::Digest;

use super::batch::{member_array, Part};
use super::{json_str, Handshake, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct Graph;

impl Scheme for Graph {
    fn verify(
        &self,
        keys: &Keys,
        _tolerance: Option<u64>,
        req: &Inbound<'_>,
        _now: i64,
    ) -> Result<Verdict, Rejection> {
        if let Some(token) = req.query_param("validationToken") {
            return Ok(Verdict::Handshake(Handshake::text(token)));
        }
        if req.method == axum::http::Method::GET {
            return Err(Rejection::BadRequest(
                "a GET from Microsoft Graph carries ?validationToken=".into(),
            ));
        }
        let elements = member_array(req.body, "value").ok_or_else(|| {
            Rejection::BadRequest(
                "body is not the {\"value\": [...]} object Microsoft Graph sends".into(),
            )
        })?;
        // Graph never posts an empty batch, and with no notification there
        // is no clientState to check: nothing here is authenticated.
        if elements.is_empty() {
            return Err(Rejection::BadRequest("the value array is empty".into()));
        }
        let mut parts = Vec::with_capacity(elements.len());
        for (i, (range, value)) in elements.into_iter().enumerate() {
            let state = value
                .get("clientState")
                .and_then(|s| s.as_str())
                .ok_or_else(|| {
                    Rejection::Unauthorized(format!("notification [{i}] has no clientState"))
                })?;
            if !keys.iter().any(|k| ct_eq(k, state.as_bytes())) {
                return Err(Rejection::Unauthorized(format!(
                    "notification [{i}] has a clientState that matches no secret"
                )));
            }
            let event_type = json_str(&value, "/lifecycleEvent")
                .or_else(|| json_str(&value, "/changeType"))
                .ok_or_else(|| {
                    Rejection::BadRequest(format!(
                        "notification [{i}] has neither changeType nor lifecycleEvent"
                    ))
                })?;
            let id = json_str(&value, "/id")
                .unwrap_or_else(|| hex::encode(sha2::Sha256::digest(&req.body[range.clone()])));
            parts.push(Part {
                range,
                verified: Verified::new(id, event_type)?,
                bytes: None,
            });
        }
        Ok(Verdict::Batch(parts))
    }

    /// Graph signs nothing: the secret travels inside each notification.
    fn sign(&self, _key: &[u8], _body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Graph "signs" by putting the subscription's `clientState` into each
    /// notification: `hookgate replay` sets it to the source's first secret.
    fn stamp(&self, key: &[u8], body: &[u8], _now: i64, _: &str) -> Option<Vec<u8>> {
        let mut json: serde_json::Value = serde_json::from_slice(body).ok()?;
        let state = serde_json::Value::String(String::from_utf8_lossy(key).into_owned());
        for item in json.get_mut("value")?.as_array_mut()? {
            if let Some(item) = item.as_object_mut() {
                item.insert("clientState".into(), state.clone());
            }
        }
        serde_json::to_vec_pretty(&json).ok()
    }

    fn handles_get(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys};
    use axum::http::{Method, Uri};

    const STATE: &str = "secretClientValue";

    // A notification laid out like the example in Microsoft's "Receive
    // change notifications through webhooks" guide (Graph v1.0): Graph signs
    // nothing, so the published shape is the vector.
    const PUBLISHED: &str = r##"{
  "value": [
    {
      "id": "lsgTZMr9KwAAA",
      "subscriptionId":"{subscription_guid}",
      "subscriptionExpirationDateTime":"2016-03-19T22:11:09.952Z",
      "clientState":"secretClientValue",
      "changeType":"created",
      "resource":"users/{user_guid}@{tenant_guid}/messages/{long_id_string}",
      "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
      "resourceData":
      {
        "@odata.type":"#Microsoft.Graph.Message",
        "@odata.id":"Users/{user_guid}@{tenant_guid}/Messages/{long_id_string}",
        "@odata.etag":"W/\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\"",
        "id":"{long_id_string}"
      }
    }
  ]
}"##;

    fn post(body: &str, secret: &str) -> Result<Verdict, Rejection> {
        let h = headers(&[("content-type", "application/json")]);
        Graph.verify(
            &keys(&[secret]),
            None,
            &Inbound::post(&h, body.as_bytes()),
            0,
        )
    }

    #[test]
    fn published_example() {
        let Verdict::Batch(parts) = post(PUBLISHED, STATE).unwrap() else {
            panic!()
        };
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].verified.provider_event_id(), "lsgTZMr9KwAAA");
        assert_eq!(parts[0].verified.event_type(), "created");
        assert!(PUBLISHED[parts[0].range.clone()].starts_with("{\n      \"id\""));
        assert!(PUBLISHED[parts[0].range.clone()].ends_with("}\n    }"));
    }

    #[test]
    fn a_wrong_or_missing_client_state_refuses_the_whole_request() {
        assert!(matches!(
            post(PUBLISHED, "another"),
            Err(Rejection::Unauthorized(_))
        ));
        let mixed = r#"{"value":[{"clientState":"secretClientValue","changeType":"updated"},{"clientState":"nope","changeType":"updated"}]}"#;
        assert!(matches!(
            post(mixed, STATE),
            Err(Rejection::Unauthorized(_))
        ));
        let missing = r#"{"value":[{"changeType":"updated"}]}"#;
        assert!(matches!(
            post(missing, STATE),
            Err(Rejection::Unauthorized(_))
        ));
        assert!(matches!(
            post(r#"{"value":[]}"#, STATE),
            Err(Rejection::BadRequest(_))
        ));
        assert!(matches!(
            post(r#"[{"clientState":"secretClientValue"}]"#, STATE),
            Err(Rejection::BadRequest(_))
        ));
    }

    #[test]
    fn ids_default_to_the_element_hash_and_lifecycle_events_name_the_type() {
        let body = r#"{"value":[{"clientState":"secretClientValue","changeType":"updated","resource":"a"},{"clientState":"secretClientValue","lifecycleEvent":"reauthorizationRequired"}]}"#;
        let Verdict::Batch(parts) = post(body, STATE).unwrap() else {
            panic!()
        };
        let first = &body[parts[0].range.clone()];
        assert_eq!(
            parts[0].verified.provider_event_id(),
            hex::encode(sha2::Sha256::digest(first))
        );
        assert_eq!(parts[1].verified.event_type(), "reauthorizationRequired");
    }

    #[test]
    fn replay_puts_the_secret_into_each_notification() {
        let body = r#"{"value":[{"changeType":"created","clientState":"placeholder"},{"changeType":"deleted"}]}"#;
        let signed = Graph
            .stamp(STATE.as_bytes(), body.as_bytes(), 0, "")
            .unwrap();
        let Verdict::Batch(parts) = post(std::str::from_utf8(&signed).unwrap(), STATE).unwrap()
        else {
            panic!()
        };
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn validation_token_is_echoed_as_text() {
        let h = headers(&[]);
        for method in [Method::POST, Method::GET] {
            let uri = Uri::from_static(
                "/ingest/graph?validationToken=Validation%3A%20Testing%20client%20application",
            );
            let req = Inbound {
                method: &method,
                uri: &uri,
                headers: &h,
                body: b"",
            };
            assert_eq!(
                Graph.verify(&keys(&[STATE]), None, &req, 0).unwrap(),
                Verdict::Handshake(Handshake::text("Validation: Testing client application"))
            );
        }
    }
}
