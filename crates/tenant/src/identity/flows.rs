//! The protocol flows: authorize (with its pages), token, device code, admin consent.

use std::{
    collections::{BTreeSet, HashMap},
    time::Instant,
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    CODE_LIFETIME, CodeGrant, DEVICE_CODE_LIFETIME, DeviceGrant, DeviceState, Flavor,
    REFRESH_LIFETIME_SECS,
    directory::{
        ClientApp, RedirectKind, Requested, ensure_service_principal, find_client,
        granted, parse_scopes, record_grant, redirect_kind, scope_admin_only,
        secret_matches, service_principal,
    },
    error::AadError,
    issuer_base,
    pages::{self, Account, SignIn},
    resolve_tenant,
};
use crate::{
    GRAPH_APP_ID, GRAPH_RESOURCE, Tenant, TokenSpec, roles_of,
    seed::{GLOBAL_ADMIN_ROLE, TENANT_ID},
    store::Col,
    token::now_secs,
};

type Params = HashMap<String, String>;

fn param<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Parses `application/x-www-form-urlencoded`.
pub(crate) fn parse_form(bytes: &[u8]) -> Params {
    let text = String::from_utf8_lossy(bytes);
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn encode_pairs(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

fn random_token(bytes: usize) -> String {
    let mut raw = Vec::with_capacity(bytes + 16);
    while raw.len() < bytes {
        raw.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    raw.truncate(bytes);
    URL_SAFE_NO_PAD.encode(raw)
}

fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

fn user_by_login(tenant: &Tenant, login: &str) -> Option<Value> {
    tenant.find_user(login)
}

fn is_admin(user: &Value) -> bool {
    roles_of(user).iter().any(|r| r == GLOBAL_ADMIN_ROLE)
}

fn accounts(tenant: &Tenant) -> Vec<Account> {
    tenant
        .objects("users")
        .iter()
        .map(|u| Account {
            upn: u["userPrincipalName"].as_str().unwrap_or("").to_owned(),
            name: u["displayName"].as_str().unwrap_or("").to_owned(),
            admin: is_admin(u),
        })
        .collect()
}

fn session_user(tenant: &Tenant, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let session =
        cookies.split(';').find_map(|c| c.trim().strip_prefix("graphlab_session="))?;
    tenant
        .0
        .identity
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(session)
        .cloned()
}

fn new_session(tenant: &Tenant, user_id: &str) -> HeaderValue {
    let id = random_token(24);
    tenant
        .0
        .identity
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), user_id.to_owned());
    HeaderValue::from_str(&format!(
        "graphlab_session={id}; Path=/; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("graphlab_session=; Path=/"))
}

// ---------------------------------------------------------------------------
// Authorization endpoint
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    FormPost,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
struct AuthRequest {
    client: ClientApp,
    redirect_uri: String,
    kind: RedirectKind,
    state: Option<String>,
    nonce: Option<String>,
    challenge: Option<(String, String)>,
    mode: ResponseMode,
    prompt: Option<String>,
    login_hint: Option<String>,
    requested: Requested,
    flavor: Flavor,
}

impl AuthRequest {
    /// Sends the browser back to the client with `pairs` (plus `state`).
    fn respond(
        &self,
        mut pairs: Vec<(&'static str, String)>,
        cookie: Option<HeaderValue>,
    ) -> Response {
        if let Some(state) = &self.state {
            pairs.push(("state", state.clone()));
        }
        let mut response = match self.mode {
            ResponseMode::FormPost => pages::form_post(&self.redirect_uri, &pairs),
            ResponseMode::Query => {
                let sep = if self.redirect_uri.contains('?') { '&' } else { '?' };
                Redirect::to(&format!(
                    "{}{sep}{}",
                    self.redirect_uri,
                    encode_pairs(&pairs)
                ))
                .into_response()
            }
        };
        if let Some(cookie) = cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    fn error(&self, error: &AadError) -> Response {
        self.respond(
            vec![("error", error.error.to_owned()), ("error_description", error.short())],
            None,
        )
    }
}

/// Checks an authorization request. `Err` is the response to send: an error
/// page before the redirect URI is trusted, a redirect with an error after.
// The error is the HTTP answer itself, built once and sent at once.
#[allow(clippy::result_large_err)]
fn check_authorize(
    tenant: &Tenant,
    segment: &str,
    p: &Params,
    v1: bool,
) -> Result<AuthRequest, Response> {
    let page = |e: AadError| pages::error_page(e.status, e.code, &e.message);
    resolve_tenant(segment).map_err(page)?;
    let client_id =
        param(p, "client_id").ok_or_else(|| page(AadError::missing("client_id")))?;
    let client = find_client(&tenant.0.store, client_id)
        .ok_or_else(|| page(AadError::unknown_client(client_id, TENANT_ID)))?;
    let redirect_uri = param(p, "redirect_uri")
        .ok_or_else(|| page(AadError::missing("redirect_uri")))?;
    let kind = redirect_kind(&client, redirect_uri).ok_or_else(|| {
        page(AadError::bad(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs \
                 configured for the application '{client_id}'. Make sure the redirect URI sent in the request \
                 matches one added to your application in the Azure portal."
            ),
        ))
    })?;
    let mode = match param(p, "response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return Err(page(AadError::bad(
                "invalid_request",
                900144,
                format!(
                    "The response_mode '{other}' is not supported for the code flow; use query or form_post."
                ),
            )));
        }
    };
    let mut request = AuthRequest {
        client: client.clone(),
        redirect_uri: redirect_uri.to_owned(),
        kind,
        state: param(p, "state").map(str::to_owned),
        nonce: param(p, "nonce").map(str::to_owned),
        challenge: None,
        mode,
        prompt: param(p, "prompt").map(str::to_ascii_lowercase),
        login_hint: param(p, "login_hint").map(str::to_owned),
        requested: Requested::default(),
        flavor: Flavor::V2,
    };
    if param(p, "response_type") != Some("code") {
        return Err(request.error(&AadError::bad(
            "unsupported_response_type",
            700054,
            "The response_type must be 'code' for this emulator's authorization code flow.",
        )));
    }
    if let Some(challenge) = param(p, "code_challenge") {
        let method = param(p, "code_challenge_method").unwrap_or("plain");
        if method != "S256" && method != "plain" {
            return Err(request.error(&AadError::bad(
                "invalid_request",
                501491,
                format!("Invalid code_challenge_method '{method}': use S256 or plain."),
            )));
        }
        request.challenge = Some((challenge.to_owned(), method.to_owned()));
    }
    if let Some(prompt) = &request.prompt
        && !["none", "login", "select_account", "consent", "admin_consent"]
            .contains(&prompt.as_str())
    {
        return Err(request.error(&AadError::bad(
            "invalid_request",
            90023,
            format!("Invalid prompt '{prompt}'."),
        )));
    }
    if v1 {
        let resource = param(p, "resource").unwrap_or(GRAPH_RESOURCE);
        if !is_graph(resource) {
            return Err(request.error(&unknown_resource(resource)));
        }
        request.flavor = Flavor::V1 { resource: resource.to_owned() };
        request.requested.graph = client.static_scopes.iter().cloned().collect();
        request.requested.oidc.insert("offline_access".into());
        if param(p, "scope").is_some_and(|s| s.split_whitespace().any(|s| s == "openid"))
        {
            request.requested.oidc.insert("openid".into());
        }
    } else {
        let scope = param(p, "scope")
            .ok_or_else(|| request.error(&AadError::missing("scope")))?;
        request.requested =
            parse_scopes(scope, &client).map_err(|e| request.error(&e))?;
    }
    Ok(request)
}

fn is_graph(resource: &str) -> bool {
    let r = resource.trim_end_matches('/');
    r.eq_ignore_ascii_case(GRAPH_RESOURCE) || r.eq_ignore_ascii_case(GRAPH_APP_ID)
}

fn unknown_resource(resource: &str) -> AadError {
    AadError::bad(
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {resource} was not found in the tenant named {TENANT_ID}."
        ),
    )
}

/// The Graph scopes `user` would still have to consent to.
fn missing_consent(
    tenant: &Tenant,
    client: &ClientApp,
    user_id: &str,
    requested: &BTreeSet<String>,
) -> BTreeSet<String> {
    let sp = service_principal(&tenant.0.store, &client.app_id);
    let have = granted(&tenant.0.store, sp.as_deref(), user_id);
    requested.difference(&have).cloned().collect()
}

fn admin_required(client: &ClientApp) -> AadError {
    AadError::bad(
        "access_denied",
        90094,
        format!(
            "The grant requires admin permission. '{}' needs permission to access resources in your \
             organization that only an admin can grant. Ask an admin to grant permission to this app \
             before you can use it.",
            client.name
        ),
    )
}

/// Consents `missing` for `user` (organisation-wide when `for_org` and the
/// user is an admin). Fails with AADSTS90094 when a non-admin needs an
/// admin-only permission.
fn consent(
    tenant: &Tenant,
    client: &ClientApp,
    user: &Value,
    missing: &BTreeSet<String>,
    for_org: bool,
) -> Result<(), AadError> {
    let admin = is_admin(user);
    if !admin && missing.iter().any(|s| scope_admin_only(s) == Some(true)) {
        return Err(admin_required(client));
    }
    let user_id = user["id"].as_str().unwrap_or_default().to_owned();
    tenant
        .0
        .store
        .write(|tx| {
            let sp = ensure_service_principal(tx, client);
            let principal = if for_org && admin { None } else { Some(user_id.as_str()) };
            record_grant(tx, &sp, principal, missing);
            Ok::<_, crate::store::StoreError>(())
        })
        .map_err(|e| {
            AadError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                90033,
                e.to_string(),
            )
        })
}

/// Issues a code for `user` and sends the browser back.
fn grant_code(
    tenant: &Tenant,
    request: &AuthRequest,
    user: &Value,
    cookie: Option<HeaderValue>,
) -> Response {
    let user_id = user["id"].as_str().unwrap_or_default().to_owned();
    let sp = service_principal(&tenant.0.store, &request.client.app_id);
    let scopes: Vec<String> = match request.flavor {
        Flavor::V1 { .. } => request.requested.graph.iter().cloned().collect(),
        Flavor::V2 => {
            granted(&tenant.0.store, sp.as_deref(), &user_id).into_iter().collect()
        }
    };
    let code = format!("1.A{}", random_token(48));
    tenant.0.identity.codes.lock().unwrap_or_else(|e| e.into_inner()).insert(
        hash(&code),
        CodeGrant {
            client_id: request.client.app_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_kind: request.kind,
            user_id,
            graph_scopes: scopes,
            oidc: request.requested.oidc.iter().cloned().collect(),
            nonce: request.nonce.clone(),
            challenge: request.challenge.clone(),
            issued: Instant::now(),
            redeemed: false,
            flavor: request.flavor.clone(),
        },
    );
    tracing::debug!(client = %request.client.app_id, "authorization code issued");
    request.respond(
        vec![("code", code), ("session_state", uuid::Uuid::new_v4().to_string())],
        cookie,
    )
}

fn sign_in_page(
    tenant: &Tenant,
    segment: &str,
    request: &AuthRequest,
    raw: &Params,
    v1: bool,
) -> Response {
    let hint_user = request.login_hint.as_deref().and_then(|h| user_by_login(tenant, h));
    let user_id =
        hint_user.as_ref().and_then(|u| u["id"].as_str()).unwrap_or("").to_owned();
    let forced = matches!(request.prompt.as_deref(), Some("consent" | "admin_consent"));
    let needed: BTreeSet<String> = if forced {
        request.requested.graph.clone()
    } else {
        missing_consent(tenant, &request.client, &user_id, &request.requested.graph)
    };
    let consent: Vec<(String, bool)> =
        needed.iter().map(|s| (s.clone(), scope_admin_only(s) == Some(true))).collect();
    let mut pairs: Vec<(&str, String)> =
        raw.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.sort();
    let hidden = vec![
        ("request", encode_pairs(&pairs)),
        ("v", if v1 { "1" } else { "2" }.to_owned()),
    ];
    let path = if v1 { "oauth2/authorize" } else { "oauth2/v2.0/authorize" };
    let action = format!("/{segment}/{path}");
    pages::sign_in(&SignIn {
        action: &action,
        hidden,
        app_name: &request.client.name,
        accounts: &accounts(tenant),
        hint: request.login_hint.as_deref(),
        consent: &consent,
        org_default: request.prompt.as_deref() == Some("admin_consent"),
    })
}

async fn authorize(
    tenant: Tenant,
    segment: String,
    p: Params,
    headers: HeaderMap,
    v1: bool,
) -> Response {
    let request = match check_authorize(&tenant, &segment, &p, v1) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if let Some(login) = tenant.0.identity.unattended.clone() {
        let Some(user) = user_by_login(&tenant, &login) else {
            return request.error(&AadError::bad(
                "invalid_request",
                50034,
                format!("The user account {login} does not exist."),
            ));
        };
        let missing = missing_consent(
            &tenant,
            &request.client,
            user["id"].as_str().unwrap_or(""),
            &request.requested.graph,
        );
        if let Err(e) = consent(&tenant, &request.client, &user, &missing, true) {
            return request.error(&e);
        }
        return grant_code(&tenant, &request, &user, None);
    }
    if request.prompt.as_deref() == Some("none") {
        let Some(user_id) = session_user(&tenant, &headers) else {
            return request.error(&AadError::bad(
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            ));
        };
        let Some(user) = user_by_login(&tenant, &user_id) else {
            return request.error(&AadError::bad(
                "login_required",
                50058,
                "The signed-in user no longer exists.",
            ));
        };
        if !missing_consent(&tenant, &request.client, &user_id, &request.requested.graph)
            .is_empty()
        {
            return request.error(&AadError::bad(
                "consent_required",
                65001,
                format!(
                    "The user or administrator has not consented to use the application with ID '{}' named '{}'. \
                     Send an interactive authorization request for this user and resource.",
                    request.client.app_id, request.client.name
                ),
            ));
        }
        return grant_code(&tenant, &request, &user, None);
    }
    sign_in_page(&tenant, &segment, &request, &p, v1)
}

pub(super) async fn authorize_v2(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    authorize(tenant, segment, p, headers, false).await
}

pub(super) async fn authorize_v1(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    authorize(tenant, segment, p, headers, true).await
}

/// The sign-in page's answer.
pub(super) async fn authorize_post(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let original =
        parse_form(form.get("request").map(String::as_bytes).unwrap_or_default());
    let v1 = param(&form, "v") == Some("1");
    let request = match check_authorize(&tenant, &segment, &original, v1) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if param(&form, "action") != Some("accept") {
        return request.error(&AadError::bad(
            "access_denied",
            65004,
            "User declined to consent to access the app.",
        ));
    }
    let Some(user) = param(&form, "login").and_then(|l| user_by_login(&tenant, l)) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            50034,
            "Pick an account that exists in the tenant.",
        );
    };
    let user_id = user["id"].as_str().unwrap_or_default().to_owned();
    let for_org = param(&form, "consent_org") == Some("true");
    let mut needed =
        missing_consent(&tenant, &request.client, &user_id, &request.requested.graph);
    if for_org && is_admin(&user) {
        // "Consent on behalf of your organization" covers everything asked for.
        needed = request.requested.graph.clone();
    }
    if let Err(e) = consent(&tenant, &request.client, &user, &needed, for_org) {
        return pages::error_page(StatusCode::FORBIDDEN, e.code, &e.message);
    }
    let cookie = new_session(&tenant, &user_id);
    grant_code(&tenant, &request, &user, Some(cookie))
}

// ---------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------

/// The client secret from the body or HTTP Basic authentication.
fn presented_secret(p: &Params, headers: &HeaderMap) -> Option<String> {
    if let Some(secret) = param(p, "client_secret") {
        return Some(secret.to_owned());
    }
    let basic =
        headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
    let (_, secret) = decoded.split_once(':')?;
    Some(percent_decode_str(secret).decode_utf8_lossy().into_owned())
}

fn check_secret(
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
            if secret_matches(&tenant.0.store, &client.app_id, secret) {
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

fn pkce_ok(challenge: &Option<(String, String)>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((c, m)), Some(v)) if m == "S256" => {
            URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *c
        }
        (Some((c, _)), Some(v)) => c == v,
    }
}

/// A refresh token's record (stored under the hash of the token).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRecord {
    family: String,
    client_id: String,
    user_id: String,
    redirect_kind: RedirectKind,
    oidc: Vec<String>,
    flavor: Flavor,
    expires_at: u64,
    used: bool,
    revoked: bool,
}

struct Issue<'a> {
    client: &'a ClientApp,
    user: &'a Value,
    graph_scopes: Vec<String>,
    oidc: Vec<String>,
    nonce: Option<String>,
    flavor: Flavor,
    redirect_kind: RedirectKind,
    family: Option<String>,
}

fn unavailable(e: impl std::fmt::Display) -> AadError {
    AadError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        90033,
        e.to_string(),
    )
}

fn token_response(
    tenant: &Tenant,
    base: &str,
    issue: Issue<'_>,
) -> Result<Value, AadError> {
    let user_id = issue.user["id"].as_str().unwrap_or_default().to_owned();
    let lifetime = 3599u64;
    let audience = match &issue.flavor {
        Flavor::V1 { resource } => resource.trim_end_matches('/').to_owned(),
        Flavor::V2 => GRAPH_RESOURCE.to_owned(),
    };
    let graph_scopes: Vec<String> =
        issue.graph_scopes.iter().filter(|s| *s != "offline_access").cloned().collect();
    let access = tenant
        .issue_token_with(&TokenSpec {
            user: Some(user_id.clone()),
            client_id: issue.client.app_id.clone(),
            scopes: graph_scopes.clone(),
            roles: Vec::new(),
            lifetime: std::time::Duration::from_secs(lifetime),
            expired: None,
            audience: audience.clone(),
        })
        .map_err(unavailable)?;
    let v1 = matches!(issue.flavor, Flavor::V1 { .. });
    let now = now_secs();
    let mut scope: Vec<String> = graph_scopes.clone();
    scope.retain(|s| !issue.oidc.contains(s));
    scope.extend(issue.oidc.iter().filter(|s| *s != "offline_access").cloned());
    let mut body = json!({ "token_type": "Bearer", "scope": scope.join(" "), "access_token": access });
    if v1 {
        body["expires_in"] = json!(lifetime.to_string());
        body["ext_expires_in"] = json!(lifetime.to_string());
        body["expires_on"] = json!((now + lifetime).to_string());
        body["not_before"] = json!(now.to_string());
        body["resource"] = json!(audience);
    } else {
        body["expires_in"] = json!(lifetime);
        body["ext_expires_in"] = json!(lifetime);
    }
    if issue.oidc.iter().any(|s| s == "offline_access") {
        let token = format!("1.A{}", random_token(96));
        let record = RefreshRecord {
            family: issue
                .family
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            client_id: issue.client.app_id.clone(),
            user_id: user_id.clone(),
            redirect_kind: issue.redirect_kind,
            oidc: issue.oidc.clone(),
            flavor: issue.flavor.clone(),
            expires_at: now + REFRESH_LIFETIME_SECS,
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
        let text = |k: &str| issue.user[k].clone();
        let subject = URL_SAFE_NO_PAD
            .encode(&Sha256::digest(format!("{user_id}|{}", issue.client.app_id))[..24]);
        let mut claims = json!({
            "aud": issue.client.app_id, "iat": now, "nbf": now, "exp": now + lifetime,
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

fn token_answer(result: Result<Value, AadError>) -> Response {
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

pub(super) async fn token_v2(
    State(t): State<Tenant>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_answer(token(&t, &segment, &headers, &parse_form(&body), false))
}

pub(super) async fn token_v1(
    State(t): State<Tenant>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_answer(token(&t, &segment, &headers, &parse_form(&body), true))
}

fn token(
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
    let secret = presented_secret(p, headers);
    match grant_type {
        "authorization_code" => redeem_code(tenant, &base, &client, p, secret.as_deref()),
        "refresh_token" => refresh(tenant, &base, &client, p, secret.as_deref(), v1),
        "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => {
            redeem_device_code(tenant, &base, &client, p, secret.as_deref())
        }
        "client_credentials" => {
            client_credentials(tenant, &client, p, secret.as_deref(), v1)
        }
        other => Err(AadError::bad(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let basic =
        headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
    let (id, _) = decoded.split_once(':')?;
    Some(percent_decode_str(id).decode_utf8_lossy().into_owned())
}

fn expired_grant() -> AadError {
    AadError::bad(
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new \
         interactive authorization request for this user and resource.",
    )
}

fn redeem_code(
    tenant: &Tenant,
    base: &str,
    client: &ClientApp,
    p: &Params,
    secret: Option<&str>,
) -> Result<Value, AadError> {
    let code = param(p, "code").ok_or_else(|| AadError::missing("code"))?;
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
        if grant.issued.elapsed() > CODE_LIFETIME {
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
    if param(p, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(AadError::bad(
            "invalid_grant",
            50011,
            "The redirect URI in the token request does not match the one used in the authorization request.",
        ));
    }
    check_secret(tenant, client, secret, grant.redirect_kind == RedirectKind::Web)?;
    if !pkce_ok(&grant.challenge, param(p, "code_verifier")) {
        return Err(AadError::bad(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    let user = tenant.find_user(&grant.user_id).ok_or_else(expired_grant)?;
    token_response(
        tenant,
        base,
        Issue {
            client,
            user: &user,
            graph_scopes: grant.graph_scopes,
            oidc: grant.oidc,
            nonce: grant.nonce,
            flavor: grant.flavor,
            redirect_kind: grant.redirect_kind,
            family: None,
        },
    )
}

fn refresh(
    tenant: &Tenant,
    base: &str,
    client: &ClientApp,
    p: &Params,
    secret: Option<&str>,
    v1: bool,
) -> Result<Value, AadError> {
    let token =
        param(p, "refresh_token").ok_or_else(|| AadError::missing("refresh_token"))?;
    let key = hash(token);
    let invalid = || {
        AadError::bad(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the refresh token is not valid.",
        )
    };
    // Claim the token atomically: exactly one caller may use it. A reuse
    // commits the family's revocation and then fails (the inner `Err`).
    let claimed: Result<RefreshRecord, AadError> = tenant.0.store.write(|tx| {
        let value = tx.get(Col::RefreshTokens, &key).ok_or_else(invalid)?;
        let mut record: RefreshRecord = serde_json::from_value(value).map_err(|_| invalid())?;
        if record.revoked {
            return Err(AadError::bad("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed."));
        }
        if record.used {
            // Reuse of a rotated token: revoke the whole family.
            let family: Vec<Value> = tx
                .committed(Col::RefreshTokens)
                .filter(|r| r["family"] == record.family.as_str())
                .cloned()
                .collect();
            for mut r in family {
                let Some(id) = r["key"].as_str().map(str::to_owned) else { continue };
                r["revoked"] = json!(true);
                tx.put(Col::RefreshTokens, &id, r);
            }
            return Ok(Err(AadError::bad(
                "invalid_grant",
                50173,
                "The provided grant has been revoked: a refresh token was used twice, so every token of this sign-in was revoked. Sign in again.",
            )));
        }
        if record.expires_at <= now_secs() {
            return Err(AadError::bad("invalid_grant", 700082, "The refresh token has expired due to inactivity. Sign in again."));
        }
        if record.client_id != client.app_id {
            return Err(AadError::bad("invalid_grant", 70000, "The refresh token was issued to another client."));
        }
        record.used = true;
        tx.put(Col::RefreshTokens, &key, record_value(&record, &key));
        Ok(Ok(record))
    })?;
    let record = claimed?;
    check_secret(tenant, client, secret, record.redirect_kind == RedirectKind::Web)?;
    let user = tenant.find_user(&record.user_id).ok_or_else(invalid)?;
    let sp = service_principal(&tenant.0.store, &client.app_id);
    let consented = granted(&tenant.0.store, sp.as_deref(), &record.user_id);
    let (graph_scopes, oidc) = match (&record.flavor, param(p, "scope")) {
        (Flavor::V2, Some(scope)) if !v1 => {
            let asked = parse_scopes(scope, client)?;
            if let Some(missing) = asked.graph.iter().find(|s| !consented.contains(*s)) {
                return Err(AadError::bad(
                    "invalid_grant",
                    65001,
                    format!(
                        "The user or administrator has not consented to use the application with ID '{}' for '{missing}'. Send an interactive authorization request for this user and resource.",
                        client.app_id
                    ),
                ));
            }
            let mut oidc: BTreeSet<String> = asked.oidc;
            oidc.insert("offline_access".into());
            (consented.into_iter().collect(), oidc.into_iter().collect())
        }
        (Flavor::V1 { .. }, _) => (client.static_scopes.clone(), record.oidc.clone()),
        _ => (consented.into_iter().collect(), record.oidc.clone()),
    };
    token_response(
        tenant,
        base,
        Issue {
            client,
            user: &user,
            graph_scopes,
            oidc,
            nonce: None,
            flavor: record.flavor.clone(),
            redirect_kind: record.redirect_kind,
            family: Some(record.family.clone()),
        },
    )
}

/// The stored form of a refresh record: the record plus its own key, so a
/// family can be found and revoked.
fn record_value(record: &RefreshRecord, key: &str) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    value["key"] = json!(key);
    value
}

fn client_credentials(
    tenant: &Tenant,
    client: &ClientApp,
    p: &Params,
    secret: Option<&str>,
    v1: bool,
) -> Result<Value, AadError> {
    check_secret(tenant, client, secret, true)?;
    let resource = if v1 {
        param(p, "resource").ok_or_else(|| AadError::missing("resource"))?.to_owned()
    } else {
        let scope = param(p, "scope").ok_or_else(|| AadError::missing("scope"))?;
        let Some(resource) = scope.strip_suffix("/.default") else {
            return Err(AadError::bad(
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        resource.to_owned()
    };
    if !is_graph(&resource) {
        return Err(unknown_resource(&resource));
    }
    let sp = service_principal(&tenant.0.store, &client.app_id)
        .and_then(|id| tenant.0.store.get(Col::ServicePrincipals, &id));
    let consented: Vec<String> =
        sp.map(|sp| directory_strings(&sp["_grantedRoles"])).unwrap_or_default();
    let roles: Vec<String> =
        client.static_roles.iter().filter(|r| consented.contains(r)).cloned().collect();
    let access = tenant
        .issue_token_with(&TokenSpec {
            user: None,
            client_id: client.app_id.clone(),
            scopes: Vec::new(),
            roles,
            lifetime: std::time::Duration::from_secs(3599),
            expired: None,
            audience: GRAPH_RESOURCE.to_owned(),
        })
        .map_err(unavailable)?;
    let now = now_secs();
    Ok(if v1 {
        json!({"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
               "expires_on": (now + 3599).to_string(), "not_before": now.to_string(),
               "resource": GRAPH_RESOURCE, "access_token": access})
    } else {
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access})
    })
}

fn directory_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Device code
// ---------------------------------------------------------------------------

fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    uuid::Uuid::new_v4().as_bytes()[..9]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn devicecode(
    tenant: &Tenant,
    segment: &str,
    headers: &HeaderMap,
    p: &Params,
    v1: bool,
) -> Result<Value, AadError> {
    resolve_tenant(segment)?;
    let client_id =
        param(p, "client_id").ok_or_else(|| AadError::missing("client_id"))?;
    let client = find_client(&tenant.0.store, client_id)
        .ok_or_else(|| AadError::unknown_client(client_id, TENANT_ID))?;
    let (scope, oidc, flavor) = if v1 {
        let resource = param(p, "resource").unwrap_or(GRAPH_RESOURCE);
        if !is_graph(resource) {
            return Err(unknown_resource(resource));
        }
        let oidc = vec!["offline_access".to_owned(), "openid".to_owned()];
        (String::new(), oidc, Flavor::V1 { resource: resource.to_owned() })
    } else {
        let scope = param(p, "scope").ok_or_else(|| AadError::missing("scope"))?;
        let requested = parse_scopes(scope, &client)?;
        (scope.to_owned(), requested.oidc.into_iter().collect(), Flavor::V2)
    };
    let device_code = random_token(48);
    let code = user_code();
    let interval = tenant.0.identity.device_interval;
    tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner()).insert(
        device_code.clone(),
        DeviceGrant {
            client_id: client.app_id.clone(),
            user_code: code.clone(),
            scope,
            oidc,
            issued: Instant::now(),
            last_poll: None,
            state: DeviceState::Pending,
            flavor,
        },
    );
    let uri = format!("{}/devicelogin", issuer_base(tenant, headers));
    let message = format!(
        "To sign in, use a web browser to open the page {uri} and enter the code {code} to authenticate."
    );
    let lifetime = DEVICE_CODE_LIFETIME.as_secs();
    Ok(if v1 {
        json!({"user_code": code, "device_code": device_code, "verification_url": uri,
               "expires_in": lifetime.to_string(), "interval": interval.to_string(), "message": message})
    } else {
        json!({"user_code": code, "device_code": device_code, "verification_uri": uri,
               "expires_in": lifetime, "interval": interval, "message": message})
    })
}

pub(super) async fn devicecode_v2(
    State(t): State<Tenant>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_answer(devicecode(&t, &segment, &headers, &parse_form(&body), false))
}

pub(super) async fn devicecode_v1(
    State(t): State<Tenant>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token_answer(devicecode(&t, &segment, &headers, &parse_form(&body), true))
}

/// Graph scopes a device grant asked for.
fn device_requested(client: &ClientApp, grant: &DeviceGrant) -> BTreeSet<String> {
    match grant.flavor {
        Flavor::V1 { .. } => client.static_scopes.iter().cloned().collect(),
        Flavor::V2 => {
            parse_scopes(&grant.scope, client).map(|r| r.graph).unwrap_or_default()
        }
    }
}

/// Approves a pending device grant as `user` (consenting as needed).
fn approve_device(
    tenant: &Tenant,
    client: &ClientApp,
    device_code: &str,
    user: &Value,
    for_org: bool,
) -> Result<(), AadError> {
    let grant = tenant
        .0
        .identity
        .devices
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(device_code)
        .cloned();
    let Some(grant) = grant else { return Err(expired_grant()) };
    let user_id = user["id"].as_str().unwrap_or_default().to_owned();
    let requested = device_requested(client, &grant);
    let mut missing = missing_consent(tenant, client, &user_id, &requested);
    if for_org && is_admin(user) {
        missing = requested.clone();
    }
    let outcome = consent(tenant, client, user, &missing, for_org);
    let sp = service_principal(&tenant.0.store, &client.app_id);
    let scopes: Vec<String> = match grant.flavor {
        Flavor::V1 { .. } => requested.into_iter().collect(),
        Flavor::V2 => {
            granted(&tenant.0.store, sp.as_deref(), &user_id).into_iter().collect()
        }
    };
    let mut devices = tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(g) = devices.get_mut(device_code) {
        g.state = match &outcome {
            Ok(()) => DeviceState::Approved { user_id, graph_scopes: scopes },
            Err(e) => DeviceState::Declined(e.short()),
        };
    }
    outcome
}

fn redeem_device_code(
    tenant: &Tenant,
    base: &str,
    client: &ClientApp,
    p: &Params,
    secret: Option<&str>,
) -> Result<Value, AadError> {
    let device_code = param(p, "device_code")
        .or_else(|| param(p, "code"))
        .ok_or_else(|| AadError::missing("device_code"))?;
    let public = client.fallback_public || (client.object_id.is_none());
    check_secret(tenant, client, secret, !public)?;
    let interval = tenant.0.identity.device_interval;
    let state = {
        let mut devices =
            tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
        let grant = devices.get_mut(device_code).ok_or_else(|| {
            AadError::bad(
                "bad_verification_code",
                70000,
                "The device code is not valid for this client.",
            )
        })?;
        if grant.client_id != client.app_id {
            return Err(AadError::bad(
                "invalid_grant",
                70000,
                "The device code was issued to another client.",
            ));
        }
        if grant.issued.elapsed() > DEVICE_CODE_LIFETIME {
            return Err(AadError::bad(
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        let too_soon = grant
            .last_poll
            .is_some_and(|t| t.elapsed().as_secs_f64() < interval as f64 * 0.8);
        grant.last_poll = Some(Instant::now());
        if too_soon && matches!(grant.state, DeviceState::Pending) {
            return Err(AadError::bad(
                "slow_down",
                70023,
                format!("Polling too fast: wait {interval} seconds between requests."),
            ));
        }
        grant.state.clone()
    };
    let state = match state {
        DeviceState::Pending => match tenant.0.identity.unattended.clone() {
            Some(login) => {
                let user = user_by_login(tenant, &login).ok_or_else(|| {
                    AadError::bad(
                        "invalid_grant",
                        50034,
                        format!("The user account {login} does not exist."),
                    )
                })?;
                match approve_device(tenant, client, device_code, &user, true) {
                    Ok(()) => tenant
                        .0
                        .identity
                        .devices
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(device_code)
                        .map(|g| g.state.clone())
                        .unwrap_or(DeviceState::Redeemed),
                    Err(e) => DeviceState::Declined(e.short()),
                }
            }
            None => {
                return Err(AadError::bad(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
        },
        other => other,
    };
    match state {
        DeviceState::Pending => Err(AadError::bad(
            "authorization_pending",
            70016,
            "Authorization is pending. Continue polling.",
        )),
        DeviceState::Declined(reason) => Err(AadError::bad(
            "authorization_declined",
            70020,
            format!("The end user denied the authorization request. {reason}"),
        )),
        DeviceState::Redeemed => Err(AadError::bad(
            "invalid_grant",
            54005,
            "The device code was already redeemed.",
        )),
        DeviceState::Approved { user_id, graph_scopes } => {
            let (oidc, flavor) = {
                let mut devices =
                    tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
                let grant = devices.get_mut(device_code).ok_or_else(expired_grant)?;
                grant.state = DeviceState::Redeemed;
                (grant.oidc.clone(), grant.flavor.clone())
            };
            let user = tenant.find_user(&user_id).ok_or_else(expired_grant)?;
            token_response(
                tenant,
                base,
                Issue {
                    client,
                    user: &user,
                    graph_scopes,
                    oidc,
                    nonce: None,
                    flavor,
                    redirect_kind: RedirectKind::Public,
                    family: None,
                },
            )
        }
    }
}

fn normalise_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(super) async fn devicelogin_page(Query(p): Query<Params>) -> Response {
    let _ = p;
    pages::device_entry("/devicelogin", None)
}

pub(super) async fn devicelogin_post(
    State(tenant): State<Tenant>,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let entered = normalise_user_code(param(&form, "otc").unwrap_or(""));
    let found = tenant
        .0
        .identity
        .devices
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(_, g)| {
            g.user_code == entered
                && matches!(g.state, DeviceState::Pending)
                && g.issued.elapsed() < DEVICE_CODE_LIFETIME
        })
        .map(|(k, g)| (k.clone(), g.clone()));
    let Some((device_code, grant)) = found else {
        return pages::device_entry(
            "/devicelogin",
            Some("That code didn't work. Check the code and try again."),
        );
    };
    let Some(client) = find_client(&tenant.0.store, &grant.client_id) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            700016,
            "The application is no longer registered.",
        );
    };
    match param(&form, "action") {
        None => {
            let requested = device_requested(&client, &grant);
            let have = granted(
                &tenant.0.store,
                service_principal(&tenant.0.store, &client.app_id).as_deref(),
                "",
            );
            let consent: Vec<(String, bool)> = requested
                .difference(&have)
                .map(|s| (s.clone(), scope_admin_only(s) == Some(true)))
                .collect();
            pages::sign_in(&SignIn {
                action: "/devicelogin",
                hidden: vec![("otc", entered.clone())],
                app_name: &client.name,
                accounts: &accounts(&tenant),
                hint: None,
                consent: &consent,
                org_default: false,
            })
        }
        Some("accept") => {
            let Some(user) =
                param(&form, "login").and_then(|l| user_by_login(&tenant, l))
            else {
                return pages::error_page(
                    StatusCode::BAD_REQUEST,
                    50034,
                    "Pick an account that exists in the tenant.",
                );
            };
            let for_org = param(&form, "consent_org") == Some("true");
            match approve_device(&tenant, &client, &device_code, &user, for_org) {
                Ok(()) => pages::done(
                    "You're signed in",
                    &format!(
                        "You have signed in to {} on your device. You may now close this window.",
                        client.name
                    ),
                ),
                Err(e) => pages::error_page(StatusCode::FORBIDDEN, e.code, &e.message),
            }
        }
        Some(_) => {
            let mut devices =
                tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(g) = devices.get_mut(&device_code) {
                g.state = DeviceState::Declined(
                    "AADSTS65004: User declined to consent to access the app.".into(),
                );
            }
            pages::done(
                "Request declined",
                "You declined the sign-in request. You may now close this window.",
            )
        }
    }
}

// ---------------------------------------------------------------------------
// Admin consent
// ---------------------------------------------------------------------------

// The error is the HTTP answer itself, built once and sent at once.
#[allow(clippy::result_large_err)]
fn check_adminconsent(
    tenant: &Tenant,
    segment: &str,
    p: &Params,
) -> Result<(ClientApp, AuthRequest), Response> {
    let page = |e: AadError| pages::error_page(e.status, e.code, &e.message);
    resolve_tenant(segment).map_err(page)?;
    let client_id =
        param(p, "client_id").ok_or_else(|| page(AadError::missing("client_id")))?;
    let client = find_client(&tenant.0.store, client_id)
        .ok_or_else(|| page(AadError::unknown_client(client_id, TENANT_ID)))?;
    let redirect_uri = param(p, "redirect_uri")
        .ok_or_else(|| page(AadError::missing("redirect_uri")))?;
    let kind = redirect_kind(&client, redirect_uri).ok_or_else(|| {
        page(AadError::bad("invalid_request", 50011, format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'.")))
    })?;
    let request = AuthRequest {
        client: client.clone(),
        redirect_uri: redirect_uri.to_owned(),
        kind,
        state: param(p, "state").map(str::to_owned),
        nonce: None,
        challenge: None,
        mode: ResponseMode::Query,
        prompt: Some("admin_consent".into()),
        login_hint: param(p, "login_hint").map(str::to_owned),
        requested: Requested {
            graph: client.static_scopes.iter().cloned().collect(),
            oidc: BTreeSet::new(),
        },
        flavor: Flavor::V2,
    };
    Ok((client, request))
}

fn admin_grant(
    tenant: &Tenant,
    client: &ClientApp,
    request: &AuthRequest,
    user: &Value,
) -> Response {
    if !is_admin(user) {
        return request.error(&admin_required(client));
    }
    let scopes = request.requested.graph.clone();
    let roles = client.static_roles.clone();
    let written = tenant.0.store.write(|tx| {
        let sp = ensure_service_principal(tx, client);
        record_grant(tx, &sp, None, &scopes);
        if let Some(mut sp_obj) = tx.get(Col::ServicePrincipals, &sp) {
            let mut have = directory_strings(&sp_obj["_grantedRoles"]);
            have.extend(roles.iter().cloned());
            have.sort();
            have.dedup();
            sp_obj["_grantedRoles"] = json!(have);
            tx.put(Col::ServicePrincipals, &sp, sp_obj);
        }
        Ok::<_, crate::store::StoreError>(())
    });
    if let Err(e) = written {
        return request.error(&unavailable(e));
    }
    request.respond(
        vec![("admin_consent", "True".to_owned()), ("tenant", TENANT_ID.to_owned())],
        None,
    )
}

pub(super) async fn adminconsent(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let (client, request) = match check_adminconsent(&tenant, &segment, &p) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if let Some(login) = tenant.0.identity.unattended.clone() {
        return match user_by_login(&tenant, &login) {
            Some(user) => admin_grant(&tenant, &client, &request, &user),
            None => request.error(&AadError::bad(
                "invalid_request",
                50034,
                format!("The user account {login} does not exist."),
            )),
        };
    }
    let mut pairs: Vec<(&str, String)> =
        p.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.sort();
    let consent: Vec<(String, bool)> = client
        .static_scopes
        .iter()
        .map(|s| (s.clone(), scope_admin_only(s) == Some(true)))
        .chain(client.static_roles.iter().map(|r| (format!("{r} (application)"), true)))
        .collect();
    let action = format!("/{segment}/v2.0/adminconsent");
    pages::sign_in(&SignIn {
        action: &action,
        hidden: vec![("request", encode_pairs(&pairs)), ("consent_org", "true".into())],
        app_name: &client.name,
        accounts: &accounts(&tenant),
        hint: request.login_hint.as_deref(),
        consent: &consent,
        org_default: true,
    })
}

pub(super) async fn adminconsent_post(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let original =
        parse_form(form.get("request").map(String::as_bytes).unwrap_or_default());
    let (client, request) = match check_adminconsent(&tenant, &segment, &original) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if param(&form, "action") != Some("accept") {
        return request.error(&AadError::bad(
            "access_denied",
            65004,
            "The admin declined to consent to access the app.",
        ));
    }
    match param(&form, "login").and_then(|l| user_by_login(&tenant, l)) {
        Some(user) => admin_grant(&tenant, &client, &request, &user),
        None => pages::error_page(
            StatusCode::BAD_REQUEST,
            50034,
            "Pick an account that exists in the tenant.",
        ),
    }
}
