//! The [`Judge`] for a cluster: the keys and issuer a Portworx node holds, found as `tenant`
//! finds them (overrides, then the install), or public keys the user gives.
//!
//! Judging degrades where signing cannot: a user who may list token Secrets but not read the
//! Portworx key still learns which tokens have expired. What could not be had is kept, with its
//! reason, so commands say once what was not checked and why ([`JudgeSetup::unchecked_key`]).

use std::time::Duration;

use super::{Judge, KeyStamp, VerifyKey, VerifyKeyError, VerifyKeys};
use crate::connection::Connection;
use crate::discovery::{DiscoverMode, DiscoveryCache, DiscoveryError, IssuerSource, KeyOverrides, KeySource, discover};

/// A judge and what it rests on.
#[derive(Debug)]
pub struct JudgeSetup {
    pub judge: Judge,
    /// Where the key discovery settled on came from (not set for public key files, which the
    /// caller names itself).
    pub key_source: Option<KeySource>,
    pub issuer_source: Option<IssuerSource>,
    /// Why the key discovery looked for could not be had (it may not be read, or is not
    /// there). Signatures are then unchecked unless public keys were given.
    pub unchecked_key: Option<DiscoveryError>,
    /// Why no issuer is checked: nothing says which one the nodes trust.
    pub unchecked_issuer: Option<DiscoveryError>,
}

/// Why no judge could be set up at all.
#[derive(Debug, thiserror::Error)]
pub enum JudgeSetupError {
    #[error("{0}")]
    Discovery(#[from] DiscoveryError),
    #[error("cannot verify with the signing key from {source_name}")]
    Key {
        source_name: String,
        #[source]
        source: VerifyKeyError,
    },
}

/// Sets up a judge. With `public_keys`, those are the keys and only the issuer is looked for;
/// otherwise the key comes from the overrides, else the cluster (when `conn` is set). A key
/// the user may not read, or that is nowhere to be found, leaves signatures unchecked; what
/// stops discovery outright (an unreadable key file, two installs, an unreachable server) is an
/// error.
pub async fn judge_setup(
    conn: Option<&Connection>,
    overrides: &KeyOverrides,
    public_keys: VerifyKeys,
    cache: Option<&DiscoveryCache>,
    expiring_within: Duration,
) -> Result<JudgeSetup, JudgeSetupError> {
    let given = !public_keys.is_empty();
    let key_named = overrides.has_local_key() || overrides.shared_secret_ref.is_some();
    let mode = DiscoverMode { cache, key_from_cluster: !given || key_named, keep_going: false };
    let findings = discover(conn, overrides, mode).await?;
    let unchecked_issuer = findings.issuer_problem(conn.is_none());
    let (issuers, issuer_source) = match findings.issuer {
        Some((issuer, source)) => (vec![issuer], Some(source)),
        None => (Vec::new(), None),
    };
    let mut keys = public_keys;
    let (mut key_source, mut unchecked_key) = (None, None);
    match findings.key {
        Some(Ok((signing, source))) => {
            let key = VerifyKey::from_signing_key(&signing)
                .map_err(|err| JudgeSetupError::Key { source_name: source.to_string(), source: err })?;
            keys = keys.with(key);
            key_source = Some(source);
        }
        Some(Err(err)) if leaves_key_unread(&err) => unchecked_key = Some(err),
        Some(Err(err)) => return Err(err.into()),
        None => {}
    }
    let mut judge = Judge::new(keys, issuers);
    judge.current_key = key_source.as_ref().map(KeyStamp::of);
    judge.expiring_within = expiring_within;
    Ok(JudgeSetup { judge, key_source, issuer_source, unchecked_key, unchecked_issuer })
}

/// A key that is there but may not be read, or is not where discovery looked: the tokens can
/// still be judged by their claims.
fn leaves_key_unread(err: &DiscoveryError) -> bool {
    match err {
        DiscoveryError::Api(api) => api.is_forbidden(),
        DiscoveryError::NotFound { .. }
        | DiscoveryError::MissingSecret { .. }
        | DiscoveryError::MissingKey { .. }
        | DiscoveryError::NoKeyOffline => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::SharedSecretRef;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
    }

    #[test]
    fn without_a_cluster_a_given_key_and_issuer_make_a_full_judge() {
        let overrides = KeyOverrides {
            shared_secret: Some("s3cret".to_string().into()),
            issuer: Some("px.example".into()),
            ..KeyOverrides::default()
        };
        let setup = block_on(judge_setup(None, &overrides, VerifyKeys::new(), None, Duration::from_secs(60))).unwrap();
        assert_eq!(setup.judge.issuers, ["px.example"]);
        assert_eq!(setup.judge.keys.kinds().len(), 1);
        assert_eq!(setup.judge.expiring_within, Duration::from_secs(60));
        assert!(setup.unchecked_key.is_none() && setup.unchecked_issuer.is_none());
        assert_eq!(setup.judge.current_key, Some(KeyStamp { source: "flag".into(), version: None }));
    }

    #[test]
    fn without_a_cluster_what_is_missing_is_unchecked_with_its_reason() {
        let setup =
            block_on(judge_setup(None, &KeyOverrides::default(), VerifyKeys::new(), None, Duration::ZERO)).unwrap();
        assert!(setup.judge.keys.is_empty() && setup.judge.issuers.is_empty());
        assert!(matches!(setup.unchecked_key, Some(DiscoveryError::NoKeyOffline)), "{:?}", setup.unchecked_key);
        assert!(matches!(setup.unchecked_issuer, Some(DiscoveryError::NoIssuerOffline)));
    }

    #[test]
    fn public_keys_are_the_keys_and_need_no_other() {
        let pem = include_str!("../../tests/data/rsa-public.pem");
        let keys = VerifyKeys::from(VerifyKey::rsa_public_pem(pem.as_bytes(), "test").unwrap());
        let overrides = KeyOverrides { issuer: Some("px.example".into()), ..KeyOverrides::default() };
        let setup = block_on(judge_setup(None, &overrides, keys, None, Duration::ZERO)).unwrap();
        assert_eq!(setup.judge.keys.kinds(), [super::super::KeyKind::Rsa]);
        assert!(setup.unchecked_key.is_none(), "nothing else was looked for");
        assert_eq!(setup.judge.current_key, None);
    }

    #[test]
    fn only_a_key_that_cannot_be_read_leaves_signatures_unchecked() {
        let reference = SharedSecretRef::new("ns", "keys", "k");
        assert!(leaves_key_unread(&DiscoveryError::MissingSecret { reference }));
        assert!(leaves_key_unread(&DiscoveryError::NotFound { looked_at: vec![] }));
        assert!(!leaves_key_unread(&DiscoveryError::Ambiguous { installs: vec![] }));
        assert!(!leaves_key_unread(&DiscoveryError::NoIssuerOffline));
    }
}
