//! Who is signed in: users by sign-in name, the emulator's session cookie,
//! and the accounts the sign-in page offers.

use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use super::{form::random_token, pages::Account};
use crate::{Tenant, roles_of, seed::GLOBAL_ADMIN_ROLE};
pub(crate) fn user_by_login(tenant: &Tenant, login: &str) -> Option<Value> {
    tenant.find_user(login)
}

pub(crate) fn is_admin(user: &Value) -> bool {
    roles_of(user).iter().any(|r| r == GLOBAL_ADMIN_ROLE)
}

pub(crate) fn accounts(tenant: &Tenant) -> Vec<Account> {
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

pub(crate) fn session_user(tenant: &Tenant, headers: &HeaderMap) -> Option<String> {
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

pub(crate) fn new_session(tenant: &Tenant, user_id: &str) -> HeaderValue {
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
