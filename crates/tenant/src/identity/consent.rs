//! Consent: what a user still has to consent to, and recording it (for the
//! user, or for the organisation by an admin) as `oauth2PermissionGrants`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;

use super::{
    directory::{
        ClientApp, ensure_service_principal, granted, record_grant, scope_admin_only,
        service_principal,
    },
    error::AadError,
    session::is_admin,
};
use crate::Tenant;
/// The Graph scopes `user` would still have to consent to.
pub(crate) fn missing_consent(
    tenant: &Tenant,
    client: &ClientApp,
    user_id: &str,
    requested: &BTreeSet<String>,
) -> BTreeSet<String> {
    let sp = service_principal(&tenant.0.store, &client.app_id);
    let have = granted(&tenant.0.store, sp.as_deref(), user_id);
    requested.difference(&have).cloned().collect()
}

pub(crate) fn admin_required(client: &ClientApp) -> AadError {
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
pub(crate) fn consent(
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
pub(crate) fn directory_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
