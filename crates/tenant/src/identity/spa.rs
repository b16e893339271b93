//! Single-page applications: the rules for redeeming codes and refresh
//! tokens issued to a `spa` redirect URI, as the identity platform applies
//! them (Microsoft Learn, "Microsoft identity platform and OAuth 2.0
//! authorization code flow": a SPA redeems its code cross-origin, from the
//! browser, with PKCE; its refresh tokens last 24 hours).

use super::{
    directory::{ClientApp, RedirectKind, spa_origin_allowed},
    error::AadError,
};

/// How long a refresh token issued to a SPA through cross-origin redemption
/// lives: 24 hours, not extended by rotation ("Refresh tokens ... issued to
/// SPAs ... are valid for 24 hours", Microsoft Learn, refresh tokens).
pub const SPA_REFRESH_LIFETIME_SECS: u64 = 24 * 3600;

/// Checks a redemption of a grant made to a `kind` redirect URI, from a
/// browser at `origin` (the request's `Origin` header), with or without PKCE.
pub(crate) fn check_redemption(
    client: &ClientApp,
    kind: RedirectKind,
    origin: Option<&str>,
    pkce: bool,
) -> Result<(), AadError> {
    match (kind, origin) {
        (RedirectKind::Spa, None) => Err(AadError::bad(
            "invalid_request",
            9002327,
            "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via \
             cross-origin requests.",
        )),
        (RedirectKind::Spa, Some(origin)) if !spa_origin_allowed(client, origin) => {
            // Entra names no separate code for an origin the app did not
            // register: it answers as for a non-SPA redemption.
            Err(cross_origin_refused(origin))
        }
        (RedirectKind::Spa, Some(_)) if !pkce => Err(AadError::bad(
            "invalid_request",
            9002325,
            "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
        )),
        (RedirectKind::Spa, Some(_)) => Ok(()),
        (_, Some(origin)) => Err(cross_origin_refused(origin)),
        (_, None) => Ok(()),
    }
}

fn cross_origin_refused(origin: &str) -> AadError {
    AadError::bad(
        "invalid_request",
        9002326,
        format!(
            "Cross-origin token redemption is permitted only for the 'Single-Page Application' \
             client-type. Request origin: '{origin}'."
        ),
    )
}
