//! The Microsoft identity platform, emulated: OpenID Connect discovery, JWKS,
//! the authorization endpoint with its sign-in and consent pages, the token
//! endpoint (authorization code with PKCE, refresh token, device code, client
//! credentials), the device-code endpoints and admin consent, in v2.0 and the
//! v1.0 flavour custom connectors use (`resource` instead of scopes).
//!
//! Every check is made against the directory the Graph side serves: the
//! client must be registered, the redirect URI must be on the app, secrets are
//! compared with their stored hashes, and consent is read from and written to
//! `oauth2PermissionGrants`.

mod admin_consent;
mod authorize;
mod consent;
mod device_code;
mod directory;
pub(crate) mod error;
mod form;
mod grants;
mod pages;
mod session;
mod spa;
mod token;

use std::{collections::HashMap, sync::Mutex, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{Tenant, seed};

pub use directory::RedirectKind;
use error::AadError;
pub use spa::SPA_REFRESH_LIFETIME_SECS;
use token::form_endpoint;

/// How long an authorization code may wait to be redeemed.
pub const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// How long a device code stays valid.
pub const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);
/// Refresh tokens' lifetime (Entra's default inactivity window is 90 days).
pub const REFRESH_LIFETIME_SECS: u64 = 90 * 24 * 3600;

/// Which protocol version a grant was made through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Flavor {
    /// v2.0: scopes.
    V2,
    /// v1.0: a `resource`.
    V1 {
        /// The resource URI asked for.
        resource: String,
    },
}

/// An authorization code waiting to be redeemed.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_kind: RedirectKind,
    pub user_id: String,
    pub graph_scopes: Vec<String>,
    pub oidc: Vec<String>,
    pub nonce: Option<String>,
    pub challenge: Option<(String, String)>,
    /// When it was issued, on the tenant's clock (ms since the epoch).
    pub issued_ms: u64,
    pub redeemed: bool,
    pub flavor: Flavor,
}

/// Where a device code stands.
#[derive(Debug, Clone)]
pub(crate) enum DeviceState {
    Pending,
    Approved { user_id: String, graph_scopes: Vec<String> },
    Declined(String),
    Redeemed,
}

/// A device authorization in progress.
#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub client_id: String,
    pub user_code: String,
    pub scope: String,
    pub oidc: Vec<String>,
    /// When it was issued, on the tenant's clock (ms since the epoch).
    pub issued_ms: u64,
    /// The last poll, on the tenant's clock (ms since the epoch).
    pub last_poll_ms: Option<u64>,
    pub state: DeviceState,
    pub flavor: Flavor,
}

/// The identity platform's in-memory state (codes live minutes; refresh
/// tokens and consent are in the store).
#[derive(Debug, Default)]
pub(crate) struct Identity {
    pub codes: Mutex<HashMap<String, CodeGrant>>,
    pub devices: Mutex<HashMap<String, DeviceGrant>>,
    pub sessions: Mutex<HashMap<String, String>>,
    /// Signs in and consents without pages, as this user (a testing aid).
    pub unattended: Option<String>,
    /// Seconds clients must wait between device-code polls.
    pub device_interval: u64,
}

/// How long ago `since_ms` was on the tenant's clock (zero if in the future).
pub(crate) fn age(tenant: &Tenant, since_ms: u64) -> Duration {
    tenant.0.now.since(since_ms)
}

/// Resolves a tenant path segment: `common`, `organizations`, the id or domain.
pub(crate) fn resolve_tenant(segment: &str) -> Result<(), AadError> {
    let known = ["common", "organizations", seed::TENANT_ID, seed::TENANT_DOMAIN];
    if known.iter().any(|k| k.eq_ignore_ascii_case(segment)) {
        Ok(())
    } else {
        Err(AadError::bad(
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are \
                 signing into the correct cloud."
            ),
        ))
    }
}

/// The form decoder, for the fuzz targets: the number of parameters.
pub(crate) fn parse_form_for_fuzz(bytes: &[u8]) -> usize {
    form::parse_form(bytes).len()
}

/// The identity routes (mounted at the root, beside `/v1.0` and `/beta`).
pub fn routes(tenant: Tenant) -> Router {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::<false>))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery::<true>))
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/{tenant}/discovery/keys", get(keys))
        .route("/common/discovery/instance", get(instance_discovery))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::authorize_get::<false>).post(authorize::authorize_post),
        )
        .route(
            "/{tenant}/oauth2/authorize",
            get(authorize::authorize_get::<true>).post(authorize::authorize_post),
        )
        .route("/{tenant}/oauth2/v2.0/token", form_endpoint(token::token, false))
        .route("/{tenant}/oauth2/token", form_endpoint(token::token, true))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            form_endpoint(device_code::devicecode, false),
        )
        .route(
            "/{tenant}/oauth2/devicecode",
            form_endpoint(device_code::devicecode, true),
        )
        .route(
            "/devicelogin",
            get(device_code::devicelogin_page).post(device_code::devicelogin_post),
        )
        .route(
            "/{tenant}/v2.0/adminconsent",
            get(admin_consent::adminconsent).post(admin_consent::adminconsent_post),
        )
        .with_state(tenant)
}

/// `scheme://host` as the caller sees the emulator.
pub(crate) fn issuer_base(tenant: &Tenant, headers: &HeaderMap) -> String {
    crate::auth::base_url(tenant, headers)
}

/// OpenID Connect discovery, v2.0 or (`V1`) v1.0.
async fn discovery<const V1: bool>(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = resolve_tenant(&segment) {
        return e.into_response();
    }
    let base = issuer_base(&tenant, &headers);
    Json(if V1 { discovery_v1(&base, &segment) } else { discovery_v2(&base, &segment) })
        .into_response()
}

fn discovery_v2(base: &str, segment: &str) -> Value {
    let specific =
        !matches!(segment.to_ascii_lowercase().as_str(), "common" | "organizations");
    let issuer_tenant = if specific { seed::TENANT_ID } else { "{tenantid}" };
    json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

fn discovery_v1(base: &str, segment: &str) -> Value {
    json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/token"),
        "authorization_endpoint": format!("{base}/{segment}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/{segment}/oauth2/devicecode"),
        "jwks_uri": format!("{base}/{segment}/discovery/keys"),
        "issuer": format!("https://sts.windows.net/{}/", seed::TENANT_ID),
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "scopes_supported": ["openid"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    })
}

async fn keys(State(tenant): State<Tenant>, Path(segment): Path<String>) -> Response {
    if let Err(e) = resolve_tenant(&segment) {
        return e.into_response();
    }
    let mut jwk = tenant.signing_key().jwk();
    jwk["issuer"] = Value::String(format!(
        "https://login.microsoftonline.com/{}/v2.0",
        seed::TENANT_ID
    ));
    Json(json!({ "keys": [jwk] })).into_response()
}

/// MSAL asks this before trusting an authority it does not know.
async fn instance_discovery(
    State(tenant): State<Tenant>,
    headers: HeaderMap,
) -> Json<Value> {
    let base = issuer_base(&tenant, &headers);
    let host = base.split("://").nth(1).unwrap_or("localhost").to_owned();
    Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{}/v2.0/.well-known/openid-configuration", seed::TENANT_ID),
        "api-version": "1.1",
        "metadata": [{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }],
    }))
}
