//! Token and error responses as the Microsoft identity platform sends them.
//!
//! `oauth2`'s standard types cannot read v1.0 responses (`expires_in` is a
//! string there) and drop Microsoft's error fields (`error_codes`,
//! `trace_id`, `correlation_id`, `timestamp`). These types keep both, and plug
//! into `oauth2::Client` as its token and error response types.

use std::time::Duration;

use oauth2::{AccessToken, RefreshToken, Scope, TokenResponse, basic::BasicTokenType};
use serde::{Deserialize, Deserializer, Serialize};

/// A number that v1.0 endpoints send as a string.
fn flexible_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Num(u64),
        Text(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::Num(n)) => Ok(Some(n)),
        Some(N::Text(t)) => t.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn space_separated<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<Scope>>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text.map(|t| t.split_whitespace().map(|s| Scope::new(s.to_owned())).collect()))
}

/// A token response (v2.0 or v1.0).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MsTokenResponse {
    /// The access token (redacted in `Debug` by `oauth2`).
    pub access_token: AccessToken,
    /// `Bearer`.
    pub token_type: BasicTokenType,
    /// Seconds of validity; a number in v2.0, a string in v1.0.
    #[serde(
        default,
        deserialize_with = "flexible_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_in: Option<u64>,
    /// Extended lifetime, for outages.
    #[serde(
        default,
        deserialize_with = "flexible_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub ext_expires_in: Option<u64>,
    /// v1.0: the expiry as seconds since the epoch.
    #[serde(
        default,
        deserialize_with = "flexible_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_on: Option<u64>,
    /// The refresh token, when `offline_access` was granted (always in v1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// The ID token, when `openid` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<crate::Secret>,
    /// Granted scopes.
    #[serde(
        default,
        deserialize_with = "space_separated",
        skip_serializing_if = "Option::is_none"
    )]
    #[serde(serialize_with = "serialize_scopes")]
    pub scope: Option<Vec<Scope>>,
    /// v1.0: the resource the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

fn serialize_scopes<S: serde::Serializer>(
    scopes: &Option<Vec<Scope>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match scopes {
        Some(list) => s.serialize_str(
            &list.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        ),
        None => s.serialize_none(),
    }
}

impl TokenResponse for MsTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

/// An error from the identity platform, with Microsoft's extra fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MsErrorResponse {
    /// The OAuth error (`invalid_grant`, `authorization_pending`, ...).
    pub error: String,
    /// `AADSTS...: what happened`, with trace lines.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// When.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Trace id, for support.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Correlation id, for support.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Finer cause (`consent_required`, ...).
    #[serde(default)]
    pub suberror: Option<String>,
}

impl MsErrorResponse {
    /// The first line of the description (`AADSTS...: ...`), without trace lines.
    pub fn summary(&self) -> String {
        self.error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| self.error.clone())
    }
}

impl std::fmt::Display for MsErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.summary())
    }
}

impl oauth2::ErrorResponse for MsErrorResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v1_string_lifetimes_and_v2_numbers() {
        let v1: MsTokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","scope":"Group.ReadWrite.All","expires_in":"3599","ext_expires_in":"3599",
                "expires_on":"1700000000","resource":"https://graph.microsoft.com","access_token":"a","refresh_token":"r"}"#,
        )
        .unwrap();
        assert_eq!(v1.expires_in, Some(3599));
        assert_eq!(v1.expires_on, Some(1_700_000_000));
        let v2: MsTokenResponse =
            serde_json::from_str(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"a","scope":"User.Read openid"}"#)
                .unwrap();
        assert_eq!(v2.scopes().unwrap().len(), 2);
        assert!(!format!("{v2:?}").contains("\"a\""));
    }

    #[test]
    fn keeps_microsoft_error_fields() {
        let e: MsErrorResponse = serde_json::from_str(
            r#"{"error":"invalid_grant","error_description":"AADSTS54005: OAuth2 Authorization code was already redeemed.\r\nTrace ID: t","error_codes":[54005],"trace_id":"t","correlation_id":"c","timestamp":"2026-01-01 00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(e.error_codes, vec![54005]);
        assert_eq!(
            e.summary(),
            "AADSTS54005: OAuth2 Authorization code was already redeemed."
        );
    }
}
