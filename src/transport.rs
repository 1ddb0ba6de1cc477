//! Why a request got no answer from the API server, in words a user can act on.
//!
//! kube reports these as a chain of library errors ("ServiceError: client error (Connect):
//! deadline has elapsed"); the user needs to know which of a handful of things happened — the
//! server is down, the connection was cut, nothing answered in time, its certificate is not
//! trusted — because each has a different fix. The raw chain is logged at `-v 3`.

use std::error::Error;
use std::io::ErrorKind;
use std::time::Duration;

/// What went wrong between the plugin and the API server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportFailure {
    /// Nothing listens at the server's address: the API server is down, or the address is wrong.
    #[error("connection refused")]
    Refused,
    /// The connection was cut before an answer came (the server died, or a proxy, load
    /// balancer or VPN dropped it).
    #[error("the connection was reset")]
    Reset,
    /// No answer within the request timeout (`--request-timeout`, when known).
    #[error("no answer within {}", timeout_text(*.0))]
    TimedOut(Option<Duration>),
    /// The server's certificate is not one the kubeconfig's certificate authority vouches for;
    /// the detail is rustls' reason (`UnknownIssuer`, `BadSignature`, `Expired`, …).
    #[error("the server's certificate is not trusted by the kubeconfig's certificate authority ({0})")]
    Certificate(String),
    /// The server's host name does not resolve.
    #[error("its host name does not resolve")]
    Dns,
    /// Anything else, as the lowest-level library put it.
    #[error("{0}")]
    Other(String),
}

/// A timeout as `--request-timeout` spells it: `500ms`, `5s`, `1.5s`.
pub fn timeout_text(timeout: Option<Duration>) -> String {
    match timeout {
        Some(t) if t < Duration::from_secs(1) => format!("{}ms", t.as_millis()),
        Some(t) => format!("{}s", t.as_secs_f64()),
        None => "the request timeout".into(),
    }
}

impl TransportFailure {
    /// Classifies a kube error that carries no answer from the server, from its causes;
    /// `timeout` is the request timeout the client was given.
    pub fn of(err: &kube::Error, timeout: Option<Duration>) -> TransportFailure {
        let chain: Vec<&(dyn Error + 'static)> =
            std::iter::successors(Some(err as &(dyn Error + 'static)), |&e| e.source()).collect();
        for cause in &chain {
            if cause.is::<tokio::time::error::Elapsed>() {
                return TransportFailure::TimedOut(timeout);
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    ErrorKind::ConnectionRefused => return TransportFailure::Refused,
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                        return TransportFailure::Reset;
                    }
                    ErrorKind::TimedOut => return TransportFailure::TimedOut(timeout),
                    _ => {}
                }
            }
            // Some causes reach us only as text: rustls' errors inside an io::Error, and io
            // errors behind a boxed connector error that hides their type.
            let text = cause.to_string();
            if let Some(detail) = text.strip_prefix("invalid peer certificate: ") {
                return TransportFailure::Certificate(detail.to_owned());
            }
            let lower = text.to_lowercase();
            if lower.starts_with("dns error") {
                return TransportFailure::Dns;
            }
            if lower.starts_with("connection refused") {
                return TransportFailure::Refused;
            }
            if ["connection reset", "broken pipe", "connection closed before message completed"]
                .iter()
                .any(|cut| lower.starts_with(cut))
            {
                return TransportFailure::Reset;
            }
        }
        let last = chain.last().map(|e| e.to_string()).unwrap_or_default();
        TransportFailure::Other(crate::message::fold_whitespace(&last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Wrapper(#[source] Box<dyn Error + Send + Sync>);

    fn service(cause: impl Error + Send + Sync + 'static) -> kube::Error {
        kube::Error::Service(Box::new(Wrapper(Box::new(cause))))
    }

    #[test]
    fn io_errors_are_classified_by_kind_anywhere_in_the_chain() {
        let io = |kind| service(std::io::Error::new(kind, "x"));
        assert_eq!(TransportFailure::of(&io(ErrorKind::ConnectionRefused), None), TransportFailure::Refused);
        assert_eq!(TransportFailure::of(&io(ErrorKind::ConnectionReset), None), TransportFailure::Reset);
        assert_eq!(TransportFailure::of(&io(ErrorKind::TimedOut), None), TransportFailure::TimedOut(None));
        assert_eq!(TransportFailure::of(&io(ErrorKind::Other), None), TransportFailure::Other("x".into()));
    }

    #[test]
    fn causes_whose_type_is_hidden_are_read_from_their_text() {
        let text = |message: &str| service(std::io::Error::other(message.to_owned()));
        assert_eq!(
            TransportFailure::of(&text("Connection reset by peer (os error 104)"), None),
            TransportFailure::Reset
        );
        assert_eq!(
            TransportFailure::of(&text("connection closed before message completed"), None),
            TransportFailure::Reset
        );
        assert_eq!(TransportFailure::of(&text("Connection refused (os error 111)"), None), TransportFailure::Refused);
        assert_eq!(TransportFailure::of(&text("dns error: no such host"), None), TransportFailure::Dns);
    }

    #[test]
    fn an_elapsed_deadline_is_a_timeout() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let elapsed = runtime
            .block_on(async { tokio::time::timeout(std::time::Duration::ZERO, std::future::pending::<()>()).await })
            .unwrap_err();
        let timeout = Some(std::time::Duration::from_millis(1500));
        assert_eq!(TransportFailure::of(&service(elapsed), timeout), TransportFailure::TimedOut(timeout));
        assert_eq!(TransportFailure::TimedOut(timeout).to_string(), "no answer within 1.5s");
        assert_eq!(TransportFailure::TimedOut(Some(Duration::from_millis(500))).to_string(), "no answer within 500ms");
        assert_eq!(TransportFailure::TimedOut(None).to_string(), "no answer within the request timeout");
    }

    #[test]
    fn an_untrusted_certificate_keeps_rustls_reason() {
        let tls = std::io::Error::new(ErrorKind::InvalidData, "invalid peer certificate: UnknownIssuer");
        assert_eq!(TransportFailure::of(&service(tls), None), TransportFailure::Certificate("UnknownIssuer".into()));
        assert_eq!(
            TransportFailure::Certificate("BadSignature".into()).to_string(),
            "the server's certificate is not trusted by the kubeconfig's certificate authority (BadSignature)"
        );
    }
}
