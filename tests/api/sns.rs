//! Amazon SNS through HTTP, with a real local HTTPS server standing in for
//! `sns.<region>.amazonaws.com`: a CA made for the test signs the server's
//! certificate (trusted through the source's `sns_ca_file`), and the server
//! serves the X.509 certificate of the RSA key the test signs messages with.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePrivateKey;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::test_keys::*;

/// What the certificate server serves at a path, and what it was asked.
#[derive(Default)]
struct Served {
    routes: HashMap<String, (u16, Vec<u8>)>,
    hits: Vec<String>,
}

pub struct CertServer {
    pub port: u16,
    pub ca_file: PathBuf,
    ca: rcgen::Certificate,
    ca_key: rcgen::KeyPair,
    served: Arc<Mutex<Served>>,
    _dir: tempfile::TempDir,
}

/// An RSA public key in the form rcgen puts into a certificate.
struct RsaSubject(Vec<u8>);

impl rcgen::PublicKeyData for RsaSubject {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// A signing key with its certificate, issued by the test CA.
pub struct SigningIdentity {
    pub private_pem: String,
    pub cert_pem: String,
}

impl CertServer {
    pub async fn start() -> CertServer {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hookgate test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server_params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .unwrap();
        let server = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();

        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(Mutex::new(Served::default()));
        let state = served.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, state) = (acceptor.clone(), state.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request);
                    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let path = target.split('?').next().unwrap_or("/").to_string();
                    let (status, body) = {
                        let mut s = state.lock().unwrap();
                        s.hits.push(target);
                        s.routes
                            .get(&path)
                            .cloned()
                            .unwrap_or((404, b"no".to_vec()))
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(&body).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        CertServer {
            port,
            ca_file,
            ca,
            ca_key,
            served,
            _dir: dir,
        }
    }
}

impl CertServer {
    /// Serves `body` at `path` with `status`.
    pub fn serve(&self, path: &str, status: u16, body: impl Into<Vec<u8>>) {
        self.served
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), (status, body.into()));
    }

    /// Requests made for `path` (query included in what is recorded).
    pub fn hits(&self, path: &str) -> usize {
        self.served
            .lock()
            .unwrap()
            .hits
            .iter()
            .filter(|h| h.split('?').next() == Some(path))
            .count()
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }
}

/// An RSA key (2048 bits, as SNS uses) and an X.509 certificate for it.
pub fn signing_identity(server: &CertServer) -> SigningIdentity {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let subject = RsaSubject(
        private
            .to_public_key()
            .to_pkcs1_der()
            .unwrap()
            .as_bytes()
            .to_vec(),
    );
    let mut params = rcgen::CertificateParams::new(vec!["sns.test".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sns.test");
    let cert = params
        .signed_by(&subject, &server.ca, &server.ca_key)
        .unwrap();
    SigningIdentity {
        private_pem: private
            .to_pkcs8_pem(Default::default())
            .unwrap()
            .to_string(),
        cert_pem: cert.pem(),
    }
}

/// An `aws-sns` source trusting the test server, signing with `identity`.
pub fn sns_source(
    name: &str,
    server: &CertServer,
    identity: &SigningIdentity,
    cert_path: &str,
    extra: &str,
) -> String {
    format!(
        "\n[[sources]]\nname = \"{name}\"\nprovider = \"aws-sns\"\nsns_cert_hosts = [\"127.0.0.1\"]\nsns_ca_file = \"{}\"\nsns_signing_cert_url = \"{}\"\nsigning_key = '''{}'''\n{extra}\n",
        server.ca_file.display(),
        server.url("127.0.0.1", cert_path),
        identity.private_pem,
    )
}

fn notification(id: &str, kind: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": id,
        "TopicArn": "arn:aws:sns:eu-west-2:123456789012:orders",
        "Message": json!({"kind": kind, "order": "ord_1"}).to_string(),
        "SignatureVersion": "2",
    })
    .to_string()
}

async fn post(app: &TestApp, source: &str, body: Vec<u8>) -> Response {
    let headers = vec![(
        "Content-Type".to_string(),
        "text/plain; charset=UTF-8".to_string(),
    )];
    send(app, "POST", &format!("/ingest/{source}"), body, &headers).await
}

fn set_field(body: &[u8], name: &str, value: &str) -> Vec<u8> {
    let mut msg: Value = serde_json::from_slice(body).unwrap();
    msg[name] = json!(value);
    serde_json::to_vec(&msg).unwrap()
}

/// An app with SNS sources `sns` (typed by `/kind`, order events routed
/// to the returned target), `sns-impostor` (another key, the same
/// certificate URL) and `sns-strict` (a tolerance), all fetching their
/// certificate from the returned server.
async fn sns_app(backend: &Backend) -> (TestApp, CertServer, TestTarget) {
    let server = CertServer::start().await;
    let ours = signing_identity(&server);
    let impostor = signing_identity(&server);
    server.serve("/signing.pem", 200, ours.cert_pem.clone());
    let sources = sns_source(
        "sns",
        &server,
        &ours,
        "/signing.pem",
        "event_type_pointer = \"/kind\"",
    ) + &sns_source("sns-impostor", &server, &impostor, "/signing.pem", "")
        + &sns_source(
            "sns-strict",
            &server,
            &ours,
            "/signing.pem",
            "tolerance_secs = 300",
        );
    let target = TestTarget::start().await;
    let app = spawn_app(
        backend,
        &(sources
            + &Route::new("sns", "orders")
                .url(&target.url)
                .types(&["order.*"])
                .toml()),
    )
    .await;
    (app, server, target)
}

async fn sns_verifies_with_a_fetched_and_cached_certificate(backend: Backend) {
    let (app, server, target) = sns_app(&backend).await;
    let (body, _) = sign_at(
        &app,
        "sns",
        notification("m-1", "order.paid").as_bytes(),
        now_secs(),
    );
    let first = post(&app, "sns", body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first = first.json();
    assert_eq!(first["provider_event_id"], "m-1");
    assert_eq!(first["deliveries"], 1, "typed by the pointer into Message");
    // SNS's retry: a duplicate, and the certificate is not fetched again.
    let again = post(&app, "sns", body.clone()).await.json();
    assert_eq!(again["duplicate"], true);
    let (second, _) = sign_at(
        &app,
        "sns",
        notification("m-2", "order.shipped").as_bytes(),
        now_secs(),
    );
    assert_eq!(post(&app, "sns", second).await.status, 200);
    assert_eq!(server.hits("/signing.pem"), 1, "fetched once, then cached");
    let stored = app
        .store
        .event(first["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type, "order.paid");
    app.dispatch_until("delivered", || async { target.count() >= 2 })
        .await;
    app.shutdown().await;
}

async fn sns_refuses_tampered_forged_and_stale_messages(backend: Backend) {
    let (app, _server, _target) = sns_app(&backend).await;
    let (body, _) = sign_at(
        &app,
        "sns",
        notification("m-1", "order.paid").as_bytes(),
        now_secs(),
    );
    // Tampered, signed by another key, or stale for a source with a tolerance.
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("ord_1", "ord_2");
    assert_eq!(post(&app, "sns", tampered.into_bytes()).await.status, 401);
    let (forged, _) = sign_at(
        &app,
        "sns-impostor",
        notification("m-3", "order.paid").as_bytes(),
        now_secs(),
    );
    assert_eq!(post(&app, "sns", forged).await.status, 401);
    let (old, _) = sign_at(
        &app,
        "sns",
        notification("m-4", "order.paid").as_bytes(),
        now_secs() - 301,
    );
    assert_eq!(post(&app, "sns-strict", old.clone()).await.status, 401);
    assert_eq!(
        post(&app, "sns", old).await.status,
        200,
        "no tolerance by default"
    );
    app.shutdown().await;
}

async fn sns_refuses_certificates_from_other_hosts(backend: Backend) {
    let server = CertServer::start().await;
    let ours = signing_identity(&server);
    server.serve("/signing.pem", 200, ours.cert_pem.clone());
    server.serve("/missing.pem", 404, "gone");
    let app = spawn_app(
        &backend,
        &sns_source("sns", &server, &ours, "/signing.pem", ""),
    )
    .await;
    let (body, _) = sign_at(
        &app,
        "sns",
        notification("m-9", "order.paid").as_bytes(),
        now_secs(),
    );

    // Same server, but named by a host the pattern does not allow: refused
    // before anything is fetched.
    for url in [
        server.url("localhost", "/signing.pem"),
        format!("http://127.0.0.1:{}/signing.pem", server.port),
        "https://sns.us-east-1.amazonaws.com.evil.test/cert.pem".to_string(),
    ] {
        let moved = set_field(&body, "SigningCertURL", &url);
        let answer = post(&app, "sns", moved).await;
        assert_eq!(answer.status, 401, "{url}: {}", answer.text);
        assert!(
            answer.json()["detail"].as_str().unwrap().contains("host"),
            "{}",
            answer.text
        );
    }
    assert_eq!(server.hits("/signing.pem"), 0);

    // An allowed host that does not serve a certificate.
    let missing = set_field(
        &body,
        "SigningCertURL",
        &server.url("127.0.0.1", "/missing.pem"),
    );
    assert_eq!(post(&app, "sns", missing).await.status, 401);
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    assert_eq!(post(&app, "sns", body).await.status, 200);
    app.shutdown().await;
}

async fn sns_subscription_confirmation(backend: Backend) {
    let server = CertServer::start().await;
    let ours = signing_identity(&server);
    server.serve("/signing.pem", 200, ours.cert_pem.clone());
    server.serve("/", 200, "<ConfirmSubscriptionResponse/>");
    let sources = sns_source("sns", &server, &ours, "/signing.pem", "")
        + &sns_source(
            "sns-confirm",
            &server,
            &ours,
            "/signing.pem",
            "sns_confirm_subscriptions = true",
        );
    let app = spawn_app(&backend, &sources).await;
    let confirmation = |id: &str| {
        json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": id,
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a",
            "TopicArn": "arn:aws:sns:eu-west-2:123456789012:orders",
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": server.url("127.0.0.1", &format!("/?Action=ConfirmSubscription&Token={id}")),
            "SignatureVersion": "1",
        })
        .to_string()
    };

    // Without the switch: stored, not confirmed.
    let (body, _) = sign_at(&app, "sns", confirmation("c-1").as_bytes(), now_secs());
    let answer = post(&app, "sns", body).await.json();
    let stored = app
        .store
        .event(answer["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type, "SubscriptionConfirmation");
    assert_eq!(server.hits("/"), 0);

    // With it: stored, then confirmed by fetching SubscribeURL.
    let (body, _) = sign_at(
        &app,
        "sns-confirm",
        confirmation("c-2").as_bytes(),
        now_secs(),
    );
    let answer = post(&app, "sns-confirm", body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(server.hits("/"), 1);
    assert_eq!(app.store.counts().await.unwrap().events, 2);

    // A SubscribeURL on a host outside the pattern is never fetched.
    let (body, _) = sign_at(
        &app,
        "sns-confirm",
        confirmation("c-3").as_bytes(),
        now_secs(),
    );
    let mut msg: Value = serde_json::from_slice(&body).unwrap();
    msg["SubscribeURL"] = json!(server.url("localhost", "/?Action=ConfirmSubscription"));
    let resigned = {
        // Re-sign so only the host check can refuse it.
        let text = serde_json::to_vec(&msg).unwrap();
        sign_at(&app, "sns-confirm", &text, now_secs()).0
    };
    let answer = post(&app, "sns-confirm", resigned).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert_eq!(answer.json()["error"], "confirmation_failed");
    assert_eq!(server.hits("/"), 1);
    app.shutdown().await;
}

crate::backend_tests!(
    sns_verifies_with_a_fetched_and_cached_certificate,
    sns_refuses_tampered_forged_and_stale_messages,
    sns_refuses_certificates_from_other_hosts,
    sns_subscription_confirmation,
);
