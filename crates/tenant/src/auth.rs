//! Bearer-token authentication for Graph routes, and the per-request context
//! handlers extract.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    Tenant,
    error::GraphError,
    odata::QueryOptions,
    perms::Permission,
    token::{AccessClaims, TokenError},
};

/// Who is calling, from a validated token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's claims.
    pub claims: AccessClaims,
    /// Delegated scopes.
    pub scopes: Vec<String>,
    /// Application roles.
    pub roles: Vec<String>,
}

impl Principal {
    /// The signed-in user's object id, for delegated tokens.
    pub fn user_id(&self) -> Option<&str> {
        (self.claims.idtyp == "user").then_some(self.claims.oid.as_str())
    }

    /// Whether the token carries any of `permission`'s scopes or roles.
    pub fn allows(&self, permission: &Permission) -> bool {
        if self.user_id().is_some() {
            self.scopes
                .iter()
                .any(|s| permission.delegated.iter().any(|p| p.eq_ignore_ascii_case(s)))
        } else {
            self.roles
                .iter()
                .any(|r| permission.application.iter().any(|p| p.eq_ignore_ascii_case(r)))
        }
    }

    /// Refuses with 403 unless the token allows `permission`.
    pub fn require(&self, permission: &Permission) -> Result<(), GraphError> {
        if self.allows(permission) { Ok(()) } else { Err(GraphError::forbidden()) }
    }

    /// The key the rate limiter counts under (the user, or the app).
    pub fn throttle_key(&self) -> &str {
        &self.claims.oid
    }
}

/// The authority a 401 challenge points at.
fn authorization_uri(tenant: &Tenant, headers: &HeaderMap) -> String {
    format!("{}/common/oauth2/authorize", base_url(tenant, headers))
}

/// The base URL the caller used (scheme and host), for links in bodies.
pub fn base_url(tenant: &Tenant, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    let scheme = if tenant.0.tls.load(std::sync::atomic::Ordering::Relaxed) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Middleware: validates the bearer token and records the [`Principal`].
pub async fn authenticate(
    State(tenant): State<Tenant>,
    mut request: Request,
    next: Next,
) -> Response {
    let challenge = || authorization_uri(&tenant, request.headers());
    let raw =
        request.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    let token = match raw {
        None | Some("") => {
            return GraphError::unauthorized("Access token is empty.", &challenge())
                .into_response();
        }
        Some(value) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                token.trim()
            }
            _ => {
                return GraphError::unauthorized(
                    TokenError::Malformed.to_string(),
                    &challenge(),
                )
                .into_response();
            }
        },
    };
    let claims = match tenant.0.verified.validate(
        &tenant.0.key,
        token,
        &tenant.0.tenant_id,
        tenant.now_secs(),
    ) {
        Ok(claims) => claims,
        Err(e) => {
            return GraphError::unauthorized(e.to_string(), &challenge()).into_response();
        }
    };
    let scopes = claims
        .scp
        .as_deref()
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let roles = claims.roles.clone().unwrap_or_default();
    request.extensions_mut().insert(Principal { claims, scopes, roles });
    next.run(request).await
}

/// The Graph version a route is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/v1.0`
    V1,
    /// `/beta`
    Beta,
}

impl ApiVersion {
    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// Everything a Graph handler needs about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The tenant.
    pub tenant: Tenant,
    /// The caller.
    pub principal: Principal,
    /// `/v1.0` or `/beta`.
    pub version: ApiVersion,
    /// `{scheme}://{host}/{version}`, for `@odata.context` and next links.
    pub root: String,
    /// The path under the version root, e.g. `/users`.
    pub path: String,
    /// Parsed OData query options.
    pub query: QueryOptions,
    /// Whether `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
}

impl Ctx {
    /// `{root}/$metadata#{fragment}`.
    pub fn context(&self, fragment: &str) -> String {
        format!("{}/$metadata#{fragment}", self.root)
    }

    /// Refuses with 403 unless the caller holds `permission`.
    pub fn require(&self, permission: &Permission) -> Result<(), GraphError> {
        self.principal.require(permission)
    }

    /// The signed-in user's id, or 400 for app-only tokens (like Graph's `/me`).
    pub fn me(&self) -> Result<&str, GraphError> {
        self.principal.user_id().ok_or_else(|| {
            GraphError::bad_request(
                "/me request is only valid with delegated authentication flow.",
            )
        })
    }
}

impl FromRequestParts<Tenant> for Ctx {
    type Rejection = GraphError;

    async fn from_request_parts(
        parts: &mut Parts,
        tenant: &Tenant,
    ) -> Result<Ctx, GraphError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| GraphError::unauthorized("Access token is empty.", "/"))?;
        let version =
            parts.extensions.get::<ApiVersion>().copied().unwrap_or(ApiVersion::V1);
        let query = QueryOptions::parse(parts.uri.query().unwrap_or(""))?;
        let eventual = parts
            .headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        Ok(Ctx {
            tenant: tenant.clone(),
            principal,
            version,
            root: format!("{}/{}", base_url(tenant, &parts.headers), version.segment()),
            path: parts.uri.path().to_owned(),
            query,
            eventual,
        })
    }
}
