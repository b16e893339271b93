//! Admin consent (`/{tenant}/v2.0/adminconsent`): an admin grants an app its
//! static delegated and application permissions for the whole organisation.

use std::collections::BTreeSet;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use serde_json::{Value, json};

use super::{
    Flavor,
    authorize::{AuthRequest, ResponseMode, check_client},
    consent::{admin_required, directory_strings},
    directory::{
        ClientApp, Requested, ensure_service_principal, record_grant, scope_admin_only,
    },
    error::AadError,
    form::{Params, encode_pairs, page_answer, param},
    pages::{self, SignIn},
    session::{accounts, is_admin, user_by_login},
    token::unavailable,
};
use crate::{Tenant, seed::TENANT_ID, store::Col};

// The error is the HTTP answer itself, built once and sent at once.
#[allow(clippy::result_large_err)]
pub(crate) fn check_adminconsent(
    tenant: &Tenant,
    segment: &str,
    p: &Params,
) -> Result<(ClientApp, AuthRequest), Response> {
    let page = |e: AadError| pages::error_page(e.status, e.code, &e.message);
    let (client, redirect_uri, kind) = check_client(tenant, segment, p).map_err(page)?;
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

pub(crate) fn admin_grant(
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

pub(crate) async fn adminconsent(
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

pub(crate) async fn adminconsent_post(
    State(tenant): State<Tenant>,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let (form, original) = page_answer(&body);
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
