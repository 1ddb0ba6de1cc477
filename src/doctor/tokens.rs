//! How healthy the stored tenant tokens are: counts per status, with the verdicts `list` gives.

use super::Advice;
use super::check::Check;
use crate::connection::Connection;
use crate::discovery::SigningSetup;

/// The `tokens` line.
// TODO(lead): judge with the `health` helper's verdicts (`crate::token_health`) over its paged
// Secret scan (`crate::token_list`) once they are in main; until then this check is skipped.
pub async fn tokens_check(
    _conn: &Connection,
    setup: Option<SigningSetup>,
    _namespace: Option<&str>,
    _advice: &dyn Advice,
) -> Check {
    drop(setup);
    Check::skip("tokens", "token health is judged once `list` exists")
}
