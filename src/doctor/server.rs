//! The API server: reachable, its version, and how far this machine's clock is from its clock.
//!
//! Tokens are signed here with `iat` = this machine's now minus the clock-skew allowance, and
//! judged on the Portworx nodes by theirs. The API server's clock stands in for the nodes'
//! (clusters keep them in sync): when this machine runs ahead by more than the allowance,
//! Portworx refuses new tokens as "used before issued" until its clock catches up.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::version::Info;
use kube::api::GetParams;

use super::check::{Check, Status};
use crate::connection::{ApiAction, ApiError, Connection};

/// What one `GET /version` told us.
#[derive(Debug, Clone)]
pub struct ServerFacts {
    pub version: String,
    /// The server's clock minus ours, in seconds (positive: the server is ahead), when the
    /// response carried a `Date` header.
    pub skew: Option<i64>,
}

/// `GET /version`, timed: the skew is the response's `Date` against the middle of the round
/// trip here. `Date` has one-second resolution, which [`classify_skew`] allows for.
pub async fn probe(conn: &Connection) -> Result<ServerFacts, ApiError> {
    let action = || ApiAction::new("get", "/version", None, None);
    // kube's request builder with an empty path makes the bare `/version` request; its
    // response keeps the headers, which the typed `apiserver_version` drops.
    let request = kube::core::Request::new("")
        .get("version", &GetParams::default())
        .map_err(|err| conn.api_error(action(), kube::Error::BuildRequest(err)))?;
    let sent = jiff::Timestamp::now();
    let response =
        conn.client.send(request.map(kube::client::Body::from)).await.map_err(|err| conn.api_error(action(), err))?;
    let received = jiff::Timestamp::now();
    let date = response.headers().get("date").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = response.status();
    let body = response.into_body().collect_bytes().await.map_err(|err| conn.api_error(action(), err))?;
    if !status.is_success() {
        // Error bodies are a `Status`, worded like every other refusal; anything else (a proxy's
        // page) is cut short.
        let status = serde_json::from_slice::<kube::core::Status>(&body).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(&body).chars().take(200).collect::<String>();
            let text = crate::message::fold_whitespace(&text);
            kube::core::Status::failure(&text, status.canonical_reason().unwrap_or_default()).with_code(status.as_u16())
        });
        return Err(conn.api_error(action(), kube::Error::Api(status.boxed())));
    }
    let version =
        serde_json::from_slice::<Info>(&body).map(|info| info.git_version).unwrap_or_else(|_| "unknown".into());
    let midpoint = sent.as_millisecond() + (received.as_millisecond() - sent.as_millisecond()) / 2;
    let skew = date.as_deref().and_then(parse_http_date).map(|server| (server * 1000 - midpoint) as f64 / 1000.0);
    Ok(ServerFacts { version, skew: skew.map(|s| s.round() as i64) })
}

/// An HTTP `Date` header (`Sat, 09 May 2026 07:29:33 GMT`) as Unix seconds.
pub fn parse_http_date(value: &str) -> Option<i64> {
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value).ok().map(|t| t.as_second())
}

/// The `api-server` line.
/// An unreachable server's message says what to check already; a refused login gets its fix.
pub fn server_check(probed: &Result<ServerFacts, ApiError>, server: &str, advice: &dyn super::Advice) -> Check {
    const NAME: &str = "api-server";
    match probed {
        Ok(facts) => Check::pass(NAME, format!("{server} answers, Kubernetes {}", facts.version)),
        Err(err) if err.code() == Some(401) => Check::fail(
            NAME,
            crate::message::one_line(err),
            "the API server does not accept this user's credentials: log in again or renew them",
        ),
        Err(err) => Check::fail(NAME, crate::message::one_line(err), advice.hint(err).unwrap_or_default()),
    }
}

/// How far apart two clocks are, and what that does to tokens signed here. `skew` is the
/// server's clock minus ours in whole seconds; `allowance` is how far `iat` is backdated.
///
/// A one-second difference is within `Date`'s resolution and counts as none. Running ahead of
/// the server by the allowance or more fails (new tokens are refused until the clocks meet);
/// half of it warns. Running behind never makes a token unusable, but tokens then expire early
/// by that much and expiry judged here is off: a warning once it reaches the allowance.
pub fn classify_skew(skew: i64, allowance: Duration) -> (Status, String) {
    let allowance_secs = allowance.as_secs() as i64;
    let apart = (skew.abs() - 1).max(0);
    let shown = crate::age::human_duration(skew.abs());
    let backdate = crate::age::human_duration(allowance.as_secs() as i64);
    if apart == 0 {
        return (Status::Pass, format!("in step with the API server (tokens are backdated {backdate})"));
    }
    if skew < 0 {
        // The server is behind: this machine is ahead, and `iat` may land in the nodes' future.
        let status = if apart >= allowance_secs {
            Status::Fail
        } else if apart * 2 >= allowance_secs {
            Status::Warn
        } else {
            Status::Pass
        };
        let effect = match status {
            Status::Fail => "new tokens are refused as used before issued",
            Status::Warn => "close to the backdating",
            _ => "within the backdating",
        };
        return (
            status,
            format!("this machine is {shown} ahead of the API server; tokens are backdated {backdate}: {effect}"),
        );
    }
    let status = if apart >= allowance_secs.max(1) { Status::Warn } else { Status::Pass };
    (
        status,
        format!(
            "this machine is {shown} behind the API server (tokens are backdated {backdate}): tokens expire {shown} early"
        ),
    )
}

/// The `clock` line, with the fix worded by the caller (it names the allowance's flag).
pub fn clock_check(
    probed: &Result<ServerFacts, ApiError>,
    allowance: Duration,
    fix: impl Fn(Duration) -> String,
) -> Check {
    match probed {
        Ok(ServerFacts { skew: Some(skew), .. }) => {
            let (status, detail) = classify_skew(*skew, allowance);
            let needed = Duration::from_secs(skew.unsigned_abs() * 2);
            match status {
                Status::Pass => Check::pass("clock", detail),
                status => Check::new("clock", status, detail).with_fix(fix(needed)),
            }
        }
        Ok(ServerFacts { skew: None, .. }) => Check::skip("clock", "the API server's response carried no Date header"),
        Err(_) => Check::skip("clock", "the API server did not answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_MINUTES: Duration = Duration::from_secs(600);

    #[test]
    fn http_dates_parse_as_servers_send_them() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), Some(1));
        assert_eq!(parse_http_date("Sat, 09 May 2026 07:29:33 GMT"), Some(1_778_311_773));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn skew_is_judged_against_the_backdating() {
        let status = |skew| classify_skew(skew, TEN_MINUTES).0;
        assert_eq!(status(0), Status::Pass);
        assert_eq!(status(1), Status::Pass, "within Date's resolution");
        assert_eq!(status(-1), Status::Pass, "within Date's resolution");
        assert_eq!(status(-120), Status::Pass, "2m ahead, backdated 10m");
        assert_eq!(status(-302), Status::Warn, "ahead by half the backdating");
        assert_eq!(status(-601), Status::Fail, "ahead by the backdating: iat in the nodes' future");
        assert_eq!(status(-3600), Status::Fail);
        assert_eq!(status(300), Status::Pass, "behind: tokens stay usable");
        assert_eq!(status(601), Status::Warn, "behind by the backdating: expiry is off");
    }

    #[test]
    fn no_backdating_fails_on_any_measurable_lead() {
        assert_eq!(classify_skew(-1, Duration::ZERO).0, Status::Pass);
        assert_eq!(classify_skew(-2, Duration::ZERO).0, Status::Fail);
        assert_eq!(classify_skew(2, Duration::ZERO).0, Status::Warn);
    }

    #[test]
    fn the_clock_line_says_which_way_and_by_how_much() {
        let (_, detail) = classify_skew(-900, TEN_MINUTES);
        assert_eq!(
            detail,
            "this machine is 15m ahead of the API server; tokens are backdated 10m: new tokens are refused as used before issued"
        );
        let check = clock_check(&Ok(ServerFacts { version: "v1".into(), skew: Some(-900) }), TEN_MINUTES, |d| {
            format!("raise to {}s", d.as_secs())
        });
        assert_eq!((check.status, check.fix.as_deref()), (Status::Fail, Some("raise to 1800s")));
        let check =
            clock_check(&Ok(ServerFacts { version: "v1".into(), skew: Some(0) }), TEN_MINUTES, |_| unreachable!());
        assert_eq!((check.status, check.fix), (Status::Pass, None));
    }
}
