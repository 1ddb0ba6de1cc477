//! A scripted API server for unit tests of flows: a [`Connection`] whose client answers each
//! request with the next canned reply and records what was sent (method, path, query, body).
//!
//! It lets a unit test assert what a flow sends, in order (a replace carries the resourceVersion
//! read; a refused takeover sends no write), which an end-to-end test can only infer.
//! [`routed`] answers by path instead, for tests of what a flow makes of a cluster in which
//! several things answer (which Portworx install discovery picks), where scripted order would
//! decide the answer for it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::connection::Connection;

/// One request as the fake server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/api/v1/namespaces/a/secrets?fieldManager=kubectl-pxtoken`.
    pub uri: String,
    /// The JSON body, `Value::Null` when there was none.
    pub body: Value,
}

#[derive(Default)]
struct State {
    replies: VecDeque<(u16, Value)>,
    /// `(method, path)` and its reply, given every time; used instead of `replies` when set.
    routes: Vec<(&'static str, &'static str, u16, Value)>,
    requests: Vec<Recorded>,
}

impl State {
    fn reply(&mut self, method: &str, uri: &str) -> (u16, Value) {
        if self.routes.is_empty() {
            return self.replies.pop_front().unwrap_or((599, status(599, "Unexpected", "no reply scripted")));
        }
        let path = uri.split('?').next().unwrap_or_default();
        let route = self.routes.iter().find(|(m, p, _, _)| *m == method && *p == path);
        route.map_or_else(|| (404, status(404, "NotFound", "no route")), |(_, _, code, body)| (*code, body.clone()))
    }
}

/// Handle on the fake server of a [`connection`].
#[derive(Clone)]
pub struct FakeApi(Arc<Mutex<State>>);

impl FakeApi {
    /// Everything sent so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().requests.clone()
    }

    /// `METHOD uri` of everything sent so far, for compact assertions.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(|r| format!("{} {}", r.method, r.uri)).collect()
    }
}

/// A connection whose server gives `replies` (HTTP status, JSON body) in order; a request
/// beyond them is answered 599, which fails the flow and the test. Call inside a runtime.
pub fn connection(replies: Vec<(u16, Value)>) -> (Connection, FakeApi) {
    serve(State { replies: replies.into(), ..State::default() })
}

/// A connection whose server answers each `(method, path, status, body)` route (path without
/// query) with its reply, as often as asked, and anything else with 404. Call inside a runtime.
pub fn routed(routes: Vec<(&'static str, &'static str, u16, Value)>) -> (Connection, FakeApi) {
    serve(State { routes, ..State::default() })
}

fn serve(state: State) -> (Connection, FakeApi) {
    let state = Arc::new(Mutex::new(state));
    let fake = FakeApi(state.clone());
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let state = state.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect_bytes().await.unwrap_or_default();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let uri = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
            let mut state = state.lock().unwrap();
            let (code, reply) = state.reply(parts.method.as_str(), &uri);
            state.requests.push(Recorded { method: parts.method.to_string(), uri, body });
            let response = http::Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(kube::client::Body::from(serde_json::to_vec(&reply).unwrap()))
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    });
    let client = kube::Client::new(service, "default");
    let conn = Connection {
        client,
        context: "fake".into(),
        server: "https://fake".into(),
        namespace: "default".into(),
        request_timeout: None,
    };
    (conn, fake)
}

/// A Kubernetes `Status` reply, as the API server sends with an error.
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}

/// Runs `future` to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}
