//! Real local HTTP targets on port 0 that record what they receive and
//! answer from a script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;

pub struct Reply {
    pub status: u16,
    pub status_body: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
}

/// A request a test target received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} missing"))
            .to_str()
            .unwrap()
    }
}

#[derive(Default)]
struct TargetState {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    delay: Mutex<Duration>,
    default_status: Mutex<u16>,
}

/// A real HTTP target on port 0 that records what it gets and answers
/// from a script (then with its default status).
pub struct TestTarget {
    pub url: String,
    state: Arc<TargetState>,
}

impl TestTarget {
    pub async fn start() -> TestTarget {
        Self::scripted(Vec::new(), 200).await
    }

    pub async fn scripted(script: Vec<Reply>, default_status: u16) -> TestTarget {
        let state = Arc::new(TargetState::default());
        *state.script.lock().unwrap() = script.into();
        *state.default_status.lock().unwrap() = default_status;
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        TestTarget {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    pub fn set_status(&self, status: u16) {
        *self.state.default_status.lock().unwrap() = status;
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The `webhook-id` of every request received, in arrival order.
    pub fn webhook_ids(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }
}

async fn receive(
    State(state): State<Arc<TargetState>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    state.received.lock().unwrap().push(Received {
        headers,
        body,
        at: std::time::Instant::now(),
    });
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let reply = state.script.lock().unwrap().pop_front();
    let (status, text, extra) = match reply {
        Some(r) => (r.status, r.status_body, r.headers),
        None => (*state.default_status.lock().unwrap(), "ok", vec![]),
    };
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
    for (k, v) in extra {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}
