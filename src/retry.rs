//! Bounded retries of requests the API server turned away because it was busy.
//!
//! An API server under load answers 429 Too Many Requests (its `--max-requests-inflight` or
//! priority-and-fairness limits) or 503/504 with a `Retry-After` header, and expects clients to
//! come back. client-go does, and so do we: every request of a [`crate::connection::Connection`]
//! goes through [`RetryLayer`], which waits at least what `Retry-After` asks (else an
//! exponential backoff), with jitter so concurrent bulk requests do not return in step, at most
//! [`MAX_RETRIES`] times and never past `--request-timeout` counted from the first attempt.
//! kube's own retry layer is turned off: it retries up to 15 times with waits growing to
//! minutes, unbounded by the request timeout and silent.
//!
//! Only answers are retried, never transport errors: the server did not act on a 429/503/504,
//! while a reset connection may have lost the answer to a write that happened.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use http::{HeaderMap, Request, Response, StatusCode};
use kube::client::Body;
use tower::BoxError;
use tower::buffer::Buffer;
use tower::retry::{Policy, Retry};

/// Retries after the first attempt.
pub const MAX_RETRIES: u32 = 5;
/// First backoff when the server gives no `Retry-After`; doubles each retry.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// Longest single wait, whatever `Retry-After` says.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// When the first attempt of a request was sent (carried in the request's extensions, so every
/// retry measures the same deadline).
#[derive(Debug, Clone, Copy)]
struct FirstAttempt(Instant);

/// The retry decision for one request: its attempt count and the overall deadline.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    retries: u32,
    max_retries: u32,
    base_delay: Duration,
    /// `--request-timeout`; `None` bounds retries by their count only.
    timeout: Option<Duration>,
}

impl RetryPolicy {
    pub fn new(timeout: Option<Duration>) -> RetryPolicy {
        RetryPolicy { retries: 0, max_retries: MAX_RETRIES, base_delay: BASE_DELAY, timeout }
    }

    /// How long to wait before retrying an answer `status` with `headers`, after `elapsed` since
    /// the first attempt, or `None` when it must not be retried. `jitter` in `[0, 1)` stretches
    /// the wait by up to half.
    fn delay(&self, status: StatusCode, headers: &HeaderMap, elapsed: Duration, jitter: f64) -> Option<Duration> {
        let retryable = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
        );
        if !retryable || self.retries >= self.max_retries {
            return None;
        }
        let backoff = self.base_delay.saturating_mul(1 << self.retries.min(16));
        let delay = backoff.max(retry_after(headers).unwrap_or_default()).min(MAX_DELAY);
        let delay = delay.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 2.0);
        match self.timeout {
            Some(timeout) if elapsed + delay >= timeout => None,
            _ => Some(delay),
        }
    }
}

/// `Retry-After` in seconds (the form the API server sends); an HTTP date is ignored.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A number in `[0, 1)` that differs between calls and processes, for jitter only.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0); // RandomState's keys are what is random
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for RetryPolicy {
    type Future = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn retry(&mut self, req: &mut Request<Body>, result: &mut Result<Response<B>, BoxError>) -> Option<Self::Future> {
        let response = result.as_ref().ok()?;
        let elapsed = req.extensions().get::<FirstAttempt>().map(|f| f.0.elapsed()).unwrap_or_default();
        let delay = self.delay(response.status(), response.headers(), elapsed, jitter())?;
        self.retries += 1;
        tracing::info!(
            "{} {}: the API server answered {}; retrying in {:.1}s (retry {} of {})",
            req.method(),
            req.uri().path(),
            response.status(),
            delay.as_secs_f64(),
            self.retries,
            self.max_retries
        );
        Some(Box::pin(tokio::time::sleep(delay)))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        // A streamed body cannot be sent twice; kube's bodies are all in memory.
        let body = req.body().try_clone()?;
        let mut clone = Request::builder().method(req.method().clone()).uri(req.uri().clone()).version(req.version());
        if let Some(headers) = clone.headers_mut() {
            headers.extend(req.headers().clone());
        }
        let mut clone = clone.body(body).ok()?;
        *clone.extensions_mut() = req.extensions().clone();
        if clone.extensions().get::<FirstAttempt>().is_none() {
            clone.extensions_mut().insert(FirstAttempt(Instant::now()));
        }
        Some(clone)
    }
}

/// Wraps a client's service in [`RetryPolicy`]: the service goes behind a [`Buffer`] because a
/// retry calls it again from the response future.
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: RetryPolicy,
}

impl RetryLayer {
    /// Retries bounded by `timeout` (`--request-timeout`) from each request's first attempt.
    pub fn new(timeout: Option<Duration>) -> RetryLayer {
        RetryLayer { policy: RetryPolicy::new(timeout) }
    }
}

impl<S, B> tower::Layer<S> for RetryLayer
where
    S: tower::Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + Sync,
    B: Send + 'static,
{
    type Service = Retry<RetryPolicy, Buffer<Request<Body>, S::Future>>;

    fn layer(&self, inner: S) -> Self::Service {
        // Requests in flight at once: a bulk run's concurrency is at most 64.
        Retry::new(self.policy.clone(), Buffer::new(inner, 1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(retry_after: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn busy_answers_are_retried_with_exponential_backoff() {
        let mut policy = RetryPolicy::new(None);
        let mut delays = Vec::new();
        while let Some(delay) = policy.delay(StatusCode::TOO_MANY_REQUESTS, &headers(None), Duration::ZERO, 0.0) {
            delays.push(delay.as_millis());
            policy.retries += 1;
        }
        assert_eq!(delays, [250, 500, 1000, 2000, 4000], "MAX_RETRIES retries, doubling");
        for status in [StatusCode::SERVICE_UNAVAILABLE, StatusCode::GATEWAY_TIMEOUT] {
            assert!(RetryPolicy::new(None).delay(status, &headers(None), Duration::ZERO, 0.0).is_some(), "{status}");
        }
    }

    #[test]
    fn other_answers_are_not_retried() {
        for status in [StatusCode::OK, StatusCode::CONFLICT, StatusCode::INTERNAL_SERVER_ERROR, StatusCode::FORBIDDEN] {
            assert_eq!(
                RetryPolicy::new(None).delay(status, &headers(Some("1")), Duration::ZERO, 0.0),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let policy = RetryPolicy::new(None);
        let wait = |value| policy.delay(StatusCode::TOO_MANY_REQUESTS, &headers(Some(value)), Duration::ZERO, 0.0);
        assert_eq!(wait("1"), Some(Duration::from_secs(1)));
        assert_eq!(wait("3600"), Some(MAX_DELAY));
        assert_eq!(wait("Wed, 21 Oct 2015 07:28:00 GMT"), Some(BASE_DELAY), "an HTTP date falls back to backoff");
    }

    #[test]
    fn jitter_stretches_by_at_most_half() {
        let policy = RetryPolicy::new(None);
        let wait = |jitter| policy.delay(StatusCode::TOO_MANY_REQUESTS, &headers(Some("2")), Duration::ZERO, jitter);
        assert_eq!(wait(0.999_999), Some(Duration::from_secs(2).mul_f64(1.0 + 0.999_999 / 2.0)));
        assert!((0..100).map(|_| jitter()).all(|j| (0.0..1.0).contains(&j)));
    }

    #[test]
    fn no_retry_would_end_past_the_request_timeout() {
        let policy = RetryPolicy::new(Some(Duration::from_secs(5)));
        let wait = |elapsed| policy.delay(StatusCode::TOO_MANY_REQUESTS, &headers(Some("1")), elapsed, 0.0);
        assert_eq!(wait(Duration::from_secs(3)), Some(Duration::from_secs(1)));
        assert_eq!(wait(Duration::from_secs(4)), None, "4s + 1s reaches the 5s timeout");
    }

    /// A service that answers 429 (with `Retry-After: 0`) `busy` times, then 200, counting calls.
    fn busy_service(
        busy: usize,
    ) -> (
        impl tower::Service<Request<Body>, Response = Response<()>, Error = BoxError, Future: Send> + Send,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let service = tower::service_fn(move |_req: Request<Body>| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let status = if n < busy { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::OK };
                Ok::<_, BoxError>(Response::builder().status(status).header("Retry-After", "0").body(()).unwrap())
            }
        });
        (service, calls)
    }

    /// The real layer with 1 ms backoffs.
    fn quick_layer() -> RetryLayer {
        RetryLayer { policy: RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::new(None) } }
    }

    fn send(
        layer: &RetryLayer,
        service: impl tower::Service<Request<Body>, Response = Response<()>, Error = BoxError, Future: Send>
        + Send
        + 'static,
    ) -> StatusCode {
        use tower::{Layer as _, ServiceExt as _};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let request = Request::post("/api/v1/namespaces/x/secrets").body(Body::from(b"{}".to_vec())).unwrap();
            layer.layer(service).oneshot(request).await.unwrap().status()
        })
    }

    #[test]
    fn a_busy_server_is_asked_again_until_it_answers() {
        let (service, calls) = busy_service(2);
        assert_eq!(send(&quick_layer(), service), StatusCode::OK);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[test]
    fn a_server_that_stays_busy_gets_a_bounded_number_of_attempts() {
        let (service, calls) = busy_service(usize::MAX);
        assert_eq!(send(&quick_layer(), service), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1 + MAX_RETRIES as usize);
    }
}
