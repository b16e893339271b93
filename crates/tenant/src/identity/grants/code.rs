//! The authorization code grant: one redemption per code, the redirect URI
//! and client checks, and PKCE.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::identity::{
    CODE_LIFETIME, age,
    directory::RedirectKind,
    error::AadError,
    form::hash,
    spa::check_redemption,
    token::{Issue, TokenRequest, expired_grant},
};

pub(crate) fn pkce_ok(
    challenge: &Option<(String, String)>,
    verifier: Option<&str>,
) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((c, m)), Some(v)) if m == "S256" => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *c
        }
        (Some((c, _)), Some(v)) => c == v,
    }
}

pub(crate) fn redeem_code(request: &TokenRequest<'_>) -> Result<Value, AadError> {
    let (tenant, client) = (request.tenant, &request.client);
    let code = request.param("code").ok_or_else(|| AadError::missing("code"))?;
    let grant = {
        let mut codes = tenant.0.identity.codes.lock().unwrap_or_else(|e| e.into_inner());
        let grant = codes.get_mut(&hash(code)).ok_or_else(expired_grant)?;
        if grant.redeemed {
            return Err(AadError::bad(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an \
                 existing refresh token.",
            ));
        }
        if age(tenant, grant.issued_ms) > CODE_LIFETIME {
            return Err(expired_grant());
        }
        if grant.client_id != client.app_id {
            return Err(AadError::bad(
                "invalid_grant",
                70000,
                "The authorization code was issued to another client.",
            ));
        }
        grant.redeemed = true;
        grant.clone()
    };
    if request.param("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(AadError::bad(
            "invalid_grant",
            50011,
            "The redirect URI in the token request does not match the one used in the authorization request.",
        ));
    }
    check_redemption(
        client,
        grant.redirect_kind,
        request.origin,
        grant.challenge.is_some(),
    )?;
    request.check_secret(grant.redirect_kind == RedirectKind::Web)?;
    if !pkce_ok(&grant.challenge, request.param("code_verifier")) {
        return Err(AadError::bad(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    let issue =
        Issue::new(grant.graph_scopes, grant.oidc, grant.flavor, grant.redirect_kind);
    request.answer(&grant.user_id, Issue { nonce: grant.nonce, ..issue })
}
