//! The authorization endpoint (v2.0 and v1.0): the request's checks, the
//! sign-in and consent page and its answer, silent sign-in (`prompt=none`),
//! and issuing the authorization code.

use std::collections::BTreeSet;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde_json::Value;

use super::{
    CodeGrant, Flavor,
    consent::{consent, missing_consent},
    directory::{
        ClientApp, RedirectKind, Requested, find_client, granted, is_graph, parse_scopes,
        redirect_kind, scope_admin_only, service_principal, unknown_resource,
    },
    error::AadError,
    form::{Params, encode_pairs, hash, page_answer, param, random_token},
    pages::{self, SignIn},
    resolve_tenant,
    session::{accounts, is_admin, new_session, session_user, user_by_login},
};
use crate::{GRAPH_RESOURCE, Tenant, seed::TENANT_ID};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    Query,
    FormPost,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    pub(crate) client: ClientApp,
    pub(crate) redirect_uri: String,
    pub(crate) kind: RedirectKind,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) challenge: Option<(String, String)>,
    pub(crate) mode: ResponseMode,
    pub(crate) prompt: Option<String>,
    pub(crate) login_hint: Option<String>,
    pub(crate) requested: Requested,
    pub(crate) flavor: Flavor,
}

impl AuthRequest {
    /// Sends the browser back to the client with `pairs` (plus `state`).
    pub(crate) fn respond(
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

    pub(crate) fn error(&self, error: &AadError) -> Response {
        self.respond(
            vec![("error", error.error.to_owned()), ("error_description", error.short())],
            None,
        )
    }
}

/// The tenant, client and redirect URI of a request to the authorization or
/// the admin-consent endpoint, checked before anything is sent to the
/// redirect URI: the caller shows an error as a page, never as a redirect.
pub(crate) fn check_client<'p>(
    tenant: &Tenant,
    segment: &str,
    p: &'p Params,
) -> Result<(ClientApp, &'p str, RedirectKind), AadError> {
    resolve_tenant(segment)?;
    let client_id =
        param(p, "client_id").ok_or_else(|| AadError::missing("client_id"))?;
    let client = find_client(&tenant.0.store, client_id)
        .ok_or_else(|| AadError::unknown_client(client_id, TENANT_ID))?;
    let redirect_uri =
        param(p, "redirect_uri").ok_or_else(|| AadError::missing("redirect_uri"))?;
    let kind = redirect_kind(&client, redirect_uri).ok_or_else(|| {
        AadError::bad(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs \
                 configured for the application '{client_id}'. Make sure the redirect URI sent in the request \
                 matches one added to your application in the Azure portal."
            ),
        )
    })?;
    Ok((client, redirect_uri, kind))
}

/// Checks an authorization request. `Err` is the response to send: an error
/// page before the redirect URI is trusted, a redirect with an error after.
// The error is the HTTP answer itself, built once and sent at once.
#[allow(clippy::result_large_err)]
pub(crate) fn check_authorize(
    tenant: &Tenant,
    segment: &str,
    p: &Params,
    v1: bool,
) -> Result<AuthRequest, Response> {
    let page = |e: AadError| pages::error_page(e.status, e.code, &e.message);
    let (client, redirect_uri, kind) = check_client(tenant, segment, p).map_err(page)?;
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

/// Issues a code for `user` and sends the browser back.
pub(crate) fn grant_code(
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
            issued_ms: tenant.0.now.millis(),
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

pub(crate) fn sign_in_page(
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

pub(crate) async fn authorize(
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

/// `GET` on the authorization endpoint, v2.0 or (`V1`) v1.0.
pub(crate) async fn authorize_get<const V1: bool>(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    Query(p): Query<Params>,
    headers: HeaderMap,
) -> Response {
    authorize(tenant, segment, p, headers, V1).await
}

/// The sign-in page's answer.
pub(crate) async fn authorize_post(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let (form, original) = page_answer(&body);
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
