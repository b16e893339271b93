//! The device authorization endpoint and the `/devicelogin` pages where the
//! user enters the code and approves (or declines) the device's request.

use std::collections::BTreeSet;

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde_json::{Value, json};

use super::{
    DEVICE_CODE_LIFETIME, DeviceGrant, DeviceState, Flavor, age,
    consent::{consent, missing_consent},
    directory::{
        ClientApp, find_client, granted, is_graph, parse_scopes, scope_admin_only,
        service_principal, unknown_resource,
    },
    error::AadError,
    form::{Params, param, parse_form, random_token},
    issuer_base,
    pages::{self, SignIn},
    resolve_tenant,
    session::{accounts, is_admin, user_by_login},
    token::expired_grant,
};
use crate::{GRAPH_RESOURCE, Tenant, seed::TENANT_ID};

pub(crate) fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    uuid::Uuid::new_v4().as_bytes()[..9]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

pub(crate) fn devicecode(
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
            issued_ms: tenant.0.now.millis(),
            last_poll_ms: None,
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

/// Graph scopes a device grant asked for.
pub(crate) fn device_requested(
    client: &ClientApp,
    grant: &DeviceGrant,
) -> BTreeSet<String> {
    match grant.flavor {
        Flavor::V1 { .. } => client.static_scopes.iter().cloned().collect(),
        Flavor::V2 => {
            parse_scopes(&grant.scope, client).map(|r| r.graph).unwrap_or_default()
        }
    }
}

/// Approves a pending device grant as `user` (consenting as needed).
pub(crate) fn approve_device(
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

pub(crate) fn normalise_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) async fn devicelogin_page(Query(p): Query<Params>) -> Response {
    let _ = p;
    pages::device_entry("/devicelogin", None)
}

pub(crate) async fn devicelogin_post(
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
                && age(&tenant, g.issued_ms) < DEVICE_CODE_LIFETIME
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
