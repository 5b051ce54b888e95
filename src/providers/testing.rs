//! Test scaffolding for the provider files: a [`Case`] is one request to
//! one provider, built from a source config, signed by the provider's own
//! signer or given verbatim, then verified as ingest would. `now` here is
//! Unix seconds, the unit published vectors give.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

pub fn keys(secrets: &[&str]) -> super::Keys {
    super::Keys(secrets.iter().map(|s| s.as_bytes().to_vec()).collect())
}

/// `scheme`'s verdict on a `POST` of `body` with `headers`, straight
/// through the scheme (no method check, `now` in Unix seconds).
pub fn post(
    scheme: &dyn super::Scheme,
    keys: &super::Keys,
    tolerance: Option<u64>,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<super::Verdict, super::Rejection> {
    scheme.verify(keys, tolerance, &super::Inbound::post(headers, body), now)
}

/// The verdict of a request that verifies to one event.
pub fn event(id: &str, event_type: &str) -> super::Verdict {
    super::Verdict::Event(super::Verified::new(id.into(), event_type.into()).unwrap())
}

/// A `[[sources]]` entry of `provider` with `extra` TOML lines.
pub fn source(provider: &str, extra: &str) -> crate::config::SourceConfig {
    let text = format!("name = \"s\"\nprovider = \"{provider}\"\n{extra}\n");
    toml::from_str(&text).unwrap()
}

/// The scheme `from_config` builds from a source of `provider` with `extra`
/// TOML lines, as the registry would (config key `sources[0]`).
pub fn build<T>(
    from_config: fn(&crate::config::SourceConfig, &str) -> Result<T, crate::config::ConfigError>,
    provider: &str,
    extra: &str,
) -> Result<T, crate::config::ConfigError> {
    from_config(&source(provider, extra), "sources[0]")
}

/// Each `(extra TOML lines, key)`: the source fails to build, and the
/// error names that key.
pub fn assert_config_errors<T: std::fmt::Debug>(
    build: impl Fn(&str) -> Result<T, crate::config::ConfigError>,
    cases: &[(&str, &str)],
) {
    for (extra, key) in cases {
        assert_eq!(build(extra).unwrap_err().key, *key, "{extra}");
    }
}

/// The two headers of a public-key provider that signs `{timestamp}{body}`
/// (Discord, SendGrid).
pub struct TimestampedHeaders {
    pub signature: &'static str,
    pub timestamp: &'static str,
}

impl TimestampedHeaders {
    /// `scheme`'s verdict on `body` sent with `signature` and `timestamp`
    /// in these headers (public keys only: no secrets).
    pub fn verify(
        &self,
        scheme: &dyn super::Scheme,
        body: &str,
        signature: &str,
        timestamp: &str,
        tolerance: Option<u64>,
        now: i64,
    ) -> Result<super::Verdict, super::Rejection> {
        let h = headers(&[(self.signature, signature), (self.timestamp, timestamp)]);
        post(scheme, &keys(&[]), tolerance, &h, body.as_bytes(), now)
    }
}

/// One request to one provider, for the provider files' tests: built
/// from a source config, signed by the provider's own signer or given
/// verbatim, then verified as ingest would.
#[derive(Clone)]
pub struct Case {
    pub provider: super::Provider,
    pub keys: super::Keys,
    pub method: axum::http::Method,
    pub uri: axum::http::Uri,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Case {
    /// A source of `provider` with `secrets` and more TOML lines.
    pub fn new(provider: &str, secrets: &[&str], extra: &str) -> Case {
        let list: Vec<String> = secrets.iter().map(|s| format!("{s:?}")).collect();
        let text = format!(
            "name = \"s\"\nprovider = \"{provider}\"\nsecrets = [{}]\n{extra}",
            list.join(", ")
        );
        let source: crate::config::SourceConfig = toml::from_str(&text).unwrap();
        let (provider, keys) = super::Provider::from_config(&source, "sources[0]").unwrap();
        Case {
            provider,
            keys,
            method: axum::http::Method::POST,
            uri: axum::http::Uri::from_static("/ingest/s"),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `body` as the provider sends it at `now` with the first secret,
    /// plus `extra` headers.
    pub fn signed(&self, body: &[u8], now: i64, delivery_id: &str, extra: &[(&str, &str)]) -> Case {
        let (body, mut headers) = self.provider.prepare_as(
            self.keys.first().unwrap(),
            body,
            crate::time::UnixMs::from_secs(now),
            delivery_id,
        );
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Case {
            headers,
            body,
            ..self.clone()
        }
    }

    /// This request as given: headers and body verbatim.
    pub fn raw(&self, headers: &[(&str, &str)], body: &[u8]) -> Case {
        Case {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            ..self.clone()
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn verify(
        &self,
        tolerance: Option<u64>,
        now: i64,
    ) -> Result<super::Verdict, super::Rejection> {
        let pairs: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let map = headers(&pairs);
        let req = super::Inbound {
            method: &self.method,
            uri: &self.uri,
            headers: &map,
            body: &self.body,
        };
        self.provider.verify(
            &self.keys,
            tolerance,
            &req,
            crate::time::UnixMs::from_secs(now),
        )
    }

    /// The (event ID, type) of a request that must verify.
    pub fn event(&self, now: i64) -> (String, String) {
        match self.verify(None, now) {
            Ok(super::Verdict::Event(v)) => (
                v.provider_event_id().to_string(),
                v.event_type().to_string(),
            ),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The elements of a request that must verify to a batch, with the
    /// (event ID, type) each one read.
    pub fn batch(&self, now: i64) -> (Vec<super::batch::Part>, Vec<(String, String)>) {
        match self.verify(None, now) {
            Ok(super::Verdict::Batch(parts)) => {
                let read = parts
                    .iter()
                    .map(|p| {
                        (
                            p.verified.provider_event_id().to_string(),
                            p.verified.event_type().to_string(),
                        )
                    })
                    .collect();
                (parts, read)
            }
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    /// A tampered body (one byte changed) and a wrong secret are both 401.
    pub fn assert_tamper_and_wrong_secret_refused(&self, now: i64) {
        let mut tampered = self.clone();
        let i = tampered
            .body
            .iter()
            .rposition(|b| b.is_ascii_alphanumeric())
            .expect("a body with a letter or digit");
        tampered.body[i] = if tampered.body[i] == b'x' { b'y' } else { b'x' };
        assert!(
            matches!(
                tampered.verify(None, now),
                Err(super::Rejection::Unauthorized(_))
            ),
            "tampered body: {:?}",
            tampered.verify(None, now)
        );
        let mut wrong = self.clone();
        wrong.keys = super::Keys(vec![b"not-the-secret".to_vec()]);
        assert!(
            matches!(
                wrong.verify(None, now),
                Err(super::Rejection::Unauthorized(_))
            ),
            "wrong secret: {:?}",
            wrong.verify(None, now)
        );
    }

    pub fn assert_unauthorized(&self, tolerance: Option<u64>, now: i64) {
        let got = self.verify(tolerance, now);
        assert!(
            matches!(got, Err(super::Rejection::Unauthorized(_))),
            "{got:?}"
        );
    }
}

/// A secret rotated out before the vector's, in base64 (`rotated-out`) so
/// it also serves providers that take their secrets in base64.
const ROTATED_OUT: &str = "cm90YXRlZC1vdXQ=";

/// A provider's vector: a request as the provider sent it (or as computed
/// independently from its documented scheme) and what it must verify to.
pub struct Vector<'a> {
    pub provider: &'a str,
    pub secret: &'a str,
    pub body: &'a str,
    /// The signature header and its value.
    pub signature: (&'a str, &'a str),
    /// The other headers the request carries (event ID, type).
    pub headers: &'a [(&'a str, &'a str)],
    pub id: &'a str,
    pub event_type: &'a str,
}

impl Vector<'_> {
    /// Verifies with the secret second in rotation, refuses a tampered body
    /// and a wrong secret, and signs the body to the same signature and event.
    pub fn assert_verifies_and_signs(&self) {
        let case = Case::new(self.provider, &[ROTATED_OUT, self.secret], "");
        let mut headers = vec![self.signature];
        headers.extend_from_slice(self.headers);
        let given = case.raw(&headers, self.body.as_bytes());
        let expected = (self.id.to_string(), self.event_type.to_string());
        assert_eq!(given.event(0), expected);
        given.assert_tamper_and_wrong_secret_refused(0);

        let case = Case::new(self.provider, &[self.secret], "");
        let bare = case.signed(self.body.as_bytes(), 0, self.id, &[]);
        let extra: Vec<(&str, &str)> = self
            .headers
            .iter()
            .copied()
            .filter(|(k, _)| bare.header(k).is_none())
            .collect();
        let signed = case.signed(self.body.as_bytes(), 0, self.id, &extra);
        assert_eq!(signed.header(self.signature.0), Some(self.signature.1));
        assert_eq!(signed.event(0), expected);
    }
}

/// A vector of a scheme that signs a timestamp: the request as the sender
/// sent it at `at` (Unix seconds), with every header it carries.
pub struct TimedVector<'a> {
    pub provider: &'a str,
    pub secret: &'a str,
    pub body: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub id: &'a str,
    pub event_type: &'a str,
    pub at: i64,
}

impl TimedVector<'_> {
    /// Verifies at `at` with the secret second in rotation, refuses a
    /// tampered body, a wrong secret and (under `tolerance`, or the
    /// provider's default) a request that has gone stale, and signs the body
    /// at `at` to the same headers.
    pub fn assert_verifies_expires_and_signs(&self, tolerance: Option<u64>) {
        let case = Case::new(self.provider, &[ROTATED_OUT, self.secret], "");
        let given = case.raw(self.headers, self.body.as_bytes());
        let expected = (self.id.to_string(), self.event_type.to_string());
        assert_eq!(given.event(self.at), expected);
        given.assert_tamper_and_wrong_secret_refused(self.at);
        let tol = tolerance
            .or(case.provider.default_tolerance())
            .expect("a tolerance to expire under");
        let within = given.verify(tolerance, self.at + tol as i64);
        assert!(within.is_ok(), "{within:?}");
        given.assert_unauthorized(tolerance, self.at + tol as i64 + 1);

        let case = Case::new(self.provider, &[self.secret], "");
        let signed = case.signed(self.body.as_bytes(), self.at, self.id, &[]);
        for (name, value) in self.headers {
            if let Some(mine) = signed.header(name) {
                assert_eq!(mine, *value, "{name}");
            }
        }
        let mut complete = signed.clone();
        for (name, value) in self.headers {
            if signed.header(name).is_none() {
                complete.headers.push((name.to_string(), value.to_string()));
            }
        }
        assert_eq!(complete.event(self.at), expected);
    }
}
