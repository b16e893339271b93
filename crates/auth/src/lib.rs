//! Delegated sign-in for Microsoft Graph, the way MSAL does it.
//!
//! - [`AuthClient::acquire_token_interactive`]: authorization code + PKCE
//!   (S256) with a loopback redirect listener on 127.0.0.1;
//! - [`AuthClient::acquire_token_device_code`]: the device code flow;
//! - [`AuthClient::acquire_token_for_client`]: client credentials;
//! - [`AuthClient::acquire_token_silent`]: from the [`TokenCache`] when an
//!   access token with the scopes asked and more than 5 minutes left is
//!   there, else by refreshing (keeping the rotated refresh token), else
//!   [`AuthError::InteractionRequired`].
//!
//! The authority is an instance URL (the emulator, or
//! `https://login.microsoftonline.com`) plus a tenant; v2.0 takes scopes,
//! v1.0 a resource ([`Protocol`]). This crate knows nothing of the emulator.
//! Secrets, codes and tokens are [`Secret`]s: never in `Debug`, logs or errors.
#![deny(missing_docs)]

mod cache;
mod client;
#[doc(hidden)]
pub mod fuzz;
mod loopback;
pub mod microsoft;
mod response;
mod secret;
pub mod trust;

use std::{future::Future, pin::Pin};

pub use cache::{Account, CacheData, CacheGuard, Credential, TokenCache, TokenQuery};
pub use client::{
    AuthClient, AuthResult, Authority, DevicePrompt, Interactive, Protocol,
};
/// Writes a file that holds a secret: owner-only (0600), replaced
/// atomically. The workspace's one atomic writer, `graphlab-fs`'s,
/// re-exported for the auth crate's users (the token cache, `lab.toml`).
pub use graphlab_fs::write_private;
pub use response::{MsErrorResponse, MsTokenResponse};
pub use secret::Secret;
pub use trust::Trust;

/// What can go wrong signing in. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No cached token will do and no refresh is possible: sign in again.
    #[error("interaction required: {0}")]
    InteractionRequired(String),
    /// The identity platform refused the request.
    #[error("the identity platform answered {status}: {error}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The error with Microsoft's fields.
        error: Box<MsErrorResponse>,
    },
    /// The user (or the platform on their behalf) declined.
    #[error("sign-in declined: {0}")]
    Declined(String),
    /// The device code expired before anyone signed in.
    #[error("the device code expired before sign-in completed")]
    Expired,
    /// Waited too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The redirect's `state` did not match: possibly a forged redirect.
    #[error("the sign-in redirect's state did not match the request; ignoring it")]
    StateMismatch,
    /// Transport failure talking to the authority.
    #[error("cannot reach {url}: {message}")]
    Http {
        /// The endpoint.
        url: String,
        /// What failed.
        message: String,
    },
    /// The token cache file could not be used.
    #[error("token cache {path}: {message}")]
    Cache {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Bad settings (authority URL, scopes, ...).
    #[error("{0}")]
    Config(String),
}

impl AuthError {
    /// The AADSTS codes, for server errors.
    pub fn aadsts(&self) -> &[u32] {
        match self {
            AuthError::Server { error, .. } => &error.error_codes,
            _ => &[],
        }
    }
}

/// A boxed future, for [`TokenProvider`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Gives access tokens to a client such as the batch client, which asks again
/// with `force_refresh` once after a 401.
pub trait TokenProvider: Send + Sync {
    /// An access token; `force_refresh` skips the cached one.
    fn access_token(
        &self,
        force_refresh: bool,
    ) -> BoxFuture<'_, Result<Secret, AuthError>>;
}

/// A fixed token (e.g. from `GRAPHLAB_ACCESS_TOKEN`); cannot refresh.
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

impl TokenProvider for StaticToken {
    fn access_token(
        &self,
        force_refresh: bool,
    ) -> BoxFuture<'_, Result<Secret, AuthError>> {
        Box::pin(async move {
            if force_refresh {
                Err(AuthError::InteractionRequired(
                    "a fixed access token cannot be refreshed".into(),
                ))
            } else {
                Ok(self.0.clone())
            }
        })
    }
}

/// Silent acquisition for one account and scopes.
#[derive(Debug, Clone)]
pub struct SilentTokenProvider {
    /// The client.
    pub client: AuthClient,
    /// The account.
    pub account: Account,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
}

impl TokenProvider for SilentTokenProvider {
    fn access_token(
        &self,
        force_refresh: bool,
    ) -> BoxFuture<'_, Result<Secret, AuthError>> {
        Box::pin(async move {
            let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
            let result = self
                .client
                .acquire_token_silent(&self.account, &scopes, force_refresh)
                .await?;
            Ok(result.access_token)
        })
    }
}
