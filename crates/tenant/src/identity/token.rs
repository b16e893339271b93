//! The token endpoint (v2.0 and v1.0): client authentication, the grant
//! dispatch, and the one token-response builder every grant uses.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{MethodRouter, post},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    Flavor, REFRESH_LIFETIME_SECS, SPA_REFRESH_LIFETIME_SECS,
    directory::{ClientApp, RedirectKind, find_client, secret_matches},
    error::AadError,
    form::{Params, hash, param, parse_form, random_token},
    grants::{
        client_credentials::client_credentials,
        code::redeem_code,
        device::redeem_device_code,
        refresh::{RefreshRecord, record_value, refresh},
    },
    issuer_base, resolve_tenant,
};
use crate::{
    ACCESS_TOKEN_LIFETIME, GRAPH_RESOURCE, Tenant, TokenSpec, seed::TENANT_ID, store::Col,
};

/// The client secret from the body or HTTP Basic authentication.
pub(crate) fn presented_secret(p: &Params, headers: &HeaderMap) -> Option<String> {
    if let Some(secret) = param(p, "client_secret") {
        return Some(secret.to_owned());
    }
    let basic =
        headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
    let (_, secret) = decoded.split_once(':')?;
    Some(percent_decode_str(secret).decode_utf8_lossy().into_owned())
}

pub(crate) fn check_secret(
    tenant: &Tenant,
    client: &ClientApp,
    secret: Option<&str>,
    required: bool,
) -> Result<(), AadError> {
    match secret {
        Some(_) if !required && !client.has_secrets => Err(AadError::bad(
            "invalid_request",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )),
        Some(secret) => {
            if secret_matches(
                &tenant.0.store,
                &client.app_id,
                secret,
                tenant.0.now.date_time(),
            ) {
                Ok(())
            } else {
                Err(AadError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client \
                     secret value, not the client secret ID, for a secret added to app '"
                        .to_owned()
                        + &client.app_id
                        + "'.",
                ))
            }
        }
        None if required => Err(AadError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
        None => Ok(()),
    }
}

/// A token request as every grant reads it: the tenant, the issuer the
/// caller sees (`scheme://host`), the client it named, its form, the client
/// secret it presented, a browser's `Origin`, and whether it came to the
/// v1.0 endpoint.
pub(crate) struct TokenRequest<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) base: String,
    pub(crate) client: ClientApp,
    pub(crate) form: &'a Params,
    pub(crate) secret: Option<String>,
    pub(crate) origin: Option<&'a str>,
    pub(crate) v1: bool,
}

impl TokenRequest<'_> {
    /// A parameter of the form.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        param(self.form, name)
    }

    /// Checks the presented client secret (see [`check_secret`]).
    pub(crate) fn check_secret(&self, required: bool) -> Result<(), AadError> {
        check_secret(self.tenant, &self.client, self.secret.as_deref(), required)
    }

    /// The token response for the user whose id is `user_id` (a grant for a
    /// user who has gone is an expired grant), to this request's client.
    pub(crate) fn answer(&self, user_id: &str, issue: Issue) -> Result<Value, AadError> {
        let user = self.tenant.find_user(user_id).ok_or_else(expired_grant)?;
        token_response(self.tenant, &self.base, &self.client, &user, issue)
    }
}

/// What a grant gives the user: Graph scopes, OpenID Connect scopes, and
/// what the refresh token it may carry remembers.
pub(crate) struct Issue {
    pub(crate) graph_scopes: Vec<String>,
    pub(crate) oidc: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) flavor: Flavor,
    pub(crate) redirect_kind: RedirectKind,
    /// The refresh-token family a rotation continues; `None`: a new one.
    pub(crate) family: Option<String>,
    /// When the refresh token to issue expires (a SPA's family keeps the
    /// 24 hours of its sign-in); `None`: the platform's default from now.
    pub(crate) refresh_expires_at: Option<u64>,
}

impl Issue {
    /// A first issue (no nonce, a new refresh-token family).
    pub(crate) fn new(
        graph_scopes: Vec<String>,
        oidc: Vec<String>,
        flavor: Flavor,
        redirect_kind: RedirectKind,
    ) -> Issue {
        Issue {
            graph_scopes,
            oidc,
            nonce: None,
            flavor,
            redirect_kind,
            family: None,
            refresh_expires_at: None,
        }
    }
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> AadError {
    AadError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        90033,
        e.to_string(),
    )
}

/// The one token response: an access token, and a refresh token and an ID
/// token when the grant's OpenID Connect scopes ask for them.
pub(crate) fn token_response(
    tenant: &Tenant,
    base: &str,
    client: &ClientApp,
    user: &Value,
    issue: Issue,
) -> Result<Value, AadError> {
    let user_id = user["id"].as_str().unwrap_or_default().to_owned();
    let lifetime = ACCESS_TOKEN_LIFETIME.as_secs();
    let audience = match &issue.flavor {
        Flavor::V1 { resource } => resource.trim_end_matches('/').to_owned(),
        Flavor::V2 => GRAPH_RESOURCE.to_owned(),
    };
    let graph_scopes: Vec<String> =
        issue.graph_scopes.iter().filter(|s| *s != "offline_access").cloned().collect();
    let access = tenant
        .issue_token_with(&TokenSpec {
            user: Some(user_id.clone()),
            client_id: client.app_id.clone(),
            scopes: graph_scopes.clone(),
            roles: Vec::new(),
            lifetime: ACCESS_TOKEN_LIFETIME,
            expired: None,
            audience: audience.clone(),
        })
        .map_err(unavailable)?;
    let v1 = matches!(issue.flavor, Flavor::V1 { .. });
    let now = tenant.now_secs();
    let mut scope: Vec<String> = graph_scopes.clone();
    scope.retain(|s| !issue.oidc.contains(s));
    scope.extend(issue.oidc.iter().filter(|s| *s != "offline_access").cloned());
    let mut body = bearer_body(access, now, v1.then_some(audience.as_str()));
    body["scope"] = json!(scope.join(" "));
    if issue.oidc.iter().any(|s| s == "offline_access") {
        let token = format!("1.A{}", random_token(96));
        let record = RefreshRecord {
            family: issue
                .family
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            client_id: client.app_id.clone(),
            user_id: user_id.clone(),
            redirect_kind: issue.redirect_kind,
            oidc: issue.oidc.clone(),
            flavor: issue.flavor.clone(),
            expires_at: issue.refresh_expires_at.unwrap_or(
                now + if issue.redirect_kind == RedirectKind::Spa {
                    SPA_REFRESH_LIFETIME_SECS
                } else {
                    REFRESH_LIFETIME_SECS
                },
            ),
            used: false,
            revoked: false,
        };
        let key = hash(&token);
        let value = record_value(&record, &key);
        tenant
            .0
            .store
            .write(|tx| {
                tx.put(Col::RefreshTokens, &key, value);
                Ok::<_, crate::store::StoreError>(())
            })
            .map_err(unavailable)?;
        body["refresh_token"] = json!(token);
    }
    if issue.oidc.iter().any(|s| s == "openid") {
        let text = |k: &str| user[k].clone();
        let subject = URL_SAFE_NO_PAD
            .encode(&Sha256::digest(format!("{user_id}|{}", client.app_id))[..24]);
        let mut claims = json!({
            "aud": client.app_id, "iat": now, "nbf": now, "exp": now + lifetime,
            "name": text("displayName"), "oid": user_id, "sub": subject, "tid": TENANT_ID,
            "preferred_username": text("userPrincipalName"),
        });
        if v1 {
            claims["iss"] = json!(format!("https://sts.windows.net/{TENANT_ID}/"));
            claims["upn"] = text("userPrincipalName");
            claims["unique_name"] = text("userPrincipalName");
            claims["ver"] = json!("1.0");
        } else {
            claims["iss"] = json!(format!("{base}/{TENANT_ID}/v2.0"));
            claims["ver"] = json!("2.0");
            if issue.oidc.iter().any(|s| s == "email") {
                claims["email"] = text("mail");
            }
        }
        if let Some(nonce) = &issue.nonce {
            claims["nonce"] = json!(nonce);
        }
        body["id_token"] =
            json!(tenant.signing_key().sign(&claims).map_err(unavailable)?);
    }
    Ok(body)
}

/// The part of every token response that describes the access token:
/// `token_type`, `access_token`, `expires_in` and `ext_expires_in` (numbers
/// in v2.0; strings in v1.0, with `expires_on`, `not_before` and
/// `resource`), on the tenant's clock and [`ACCESS_TOKEN_LIFETIME`].
pub(crate) fn bearer_body(access: String, now: u64, v1_resource: Option<&str>) -> Value {
    let lifetime = ACCESS_TOKEN_LIFETIME.as_secs();
    match v1_resource {
        Some(resource) => json!({
            "token_type": "Bearer", "access_token": access,
            "expires_in": lifetime.to_string(), "ext_expires_in": lifetime.to_string(),
            "expires_on": (now + lifetime).to_string(), "not_before": now.to_string(),
            "resource": resource,
        }),
        None => json!({
            "token_type": "Bearer", "access_token": access,
            "expires_in": lifetime, "ext_expires_in": lifetime,
        }),
    }
}

pub(crate) fn token_answer(result: Result<Value, AadError>) -> Response {
    match result {
        Ok(body) => {
            let mut response = axum::Json(body).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache"),
            );
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// What a form-posted endpoint answers, from the tenant, its path's tenant
/// segment, the request's headers, its form, and whether it is v1.0.
pub(crate) type FormAnswer =
    fn(&Tenant, &str, &HeaderMap, &Params, bool) -> Result<Value, AadError>;

/// The route of an endpoint that takes a form and answers as the token
/// endpoint does ([`token_answer`]): the token and the device authorization
/// endpoints, in v2.0 or (`v1`) v1.0.
pub(crate) fn form_endpoint(answer: FormAnswer, v1: bool) -> MethodRouter<Tenant> {
    post(
        move |State(t): State<Tenant>,
              Path(segment): Path<String>,
              headers: HeaderMap,
              body: Bytes| async move {
            token_answer(answer(&t, &segment, &headers, &parse_form(&body), v1))
        },
    )
}

/// The token endpoint.
pub(crate) fn token(
    tenant: &Tenant,
    segment: &str,
    headers: &HeaderMap,
    p: &Params,
    v1: bool,
) -> Result<Value, AadError> {
    crate::Stats::bump(&tenant.0.stats.token_requests);
    resolve_tenant(segment)?;
    let base = issuer_base(tenant, headers);
    let grant_type =
        param(p, "grant_type").ok_or_else(|| AadError::missing("grant_type"))?;
    let client_id = param(p, "client_id")
        .map(str::to_owned)
        .or_else(|| basic_client_id(headers))
        .ok_or_else(|| AadError::missing("client_id"))?;
    let client = find_client(&tenant.0.store, &client_id)
        .ok_or_else(|| AadError::unknown_client(&client_id, TENANT_ID))?;
    let request = TokenRequest {
        tenant,
        base,
        client,
        form: p,
        secret: presented_secret(p, headers),
        // A browser's cross-origin request says where it comes from.
        origin: headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
        v1,
    };
    match grant_type {
        "authorization_code" => redeem_code(&request),
        "refresh_token" => refresh(&request),
        "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => {
            redeem_device_code(&request)
        }
        "client_credentials" => client_credentials(&request),
        other => Err(AadError::bad(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

pub(crate) fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let basic =
        headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
    let (id, _) = decoded.split_once(':')?;
    Some(percent_decode_str(id).decode_utf8_lossy().into_owned())
}

/// AADSTS70008: a code or refresh token that expired (or never existed).
pub(crate) fn expired_grant() -> AadError {
    AadError::bad(
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new \
         interactive authorization request for this user and resource.",
    )
}
