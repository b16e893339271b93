//! The refresh token grant: tokens stored by hash in the `refreshTokens`
//! collection, claimed atomically, rotated on every use; a reuse revokes the
//! whole family.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::identity::{
    Flavor,
    directory::{RedirectKind, granted, parse_scopes, service_principal},
    error::AadError,
    form::hash,
    spa::check_redemption,
    token::{Issue, TokenRequest},
};
use crate::store::Col;

/// A refresh token's record (stored under the hash of the token).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshRecord {
    pub(crate) family: String,
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) redirect_kind: RedirectKind,
    pub(crate) oidc: Vec<String>,
    pub(crate) flavor: Flavor,
    pub(crate) expires_at: u64,
    pub(crate) used: bool,
    pub(crate) revoked: bool,
}

pub(crate) fn refresh(request: &TokenRequest<'_>) -> Result<Value, AadError> {
    let (tenant, client) = (request.tenant, &request.client);
    let token = request
        .param("refresh_token")
        .ok_or_else(|| AadError::missing("refresh_token"))?;
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
        if record.expires_at <= tenant.now_secs() {
            return Err(AadError::bad("invalid_grant", 700082, "The refresh token has expired due to inactivity. Sign in again."));
        }
        if record.client_id != client.app_id {
            return Err(AadError::bad("invalid_grant", 70000, "The refresh token was issued to another client."));
        }
        // Before the claim: a refused redemption leaves the token usable.
        check_redemption(client, record.redirect_kind, request.origin, true)?;
        record.used = true;
        tx.put(Col::RefreshTokens, &key, record_value(&record, &key));
        Ok(Ok(record))
    })?;
    let record = claimed?;
    request.check_secret(record.redirect_kind == RedirectKind::Web)?;
    if tenant.find_user(&record.user_id).is_none() {
        return Err(invalid());
    }
    let sp = service_principal(&tenant.0.store, &client.app_id);
    let consented = granted(&tenant.0.store, sp.as_deref(), &record.user_id);
    let (graph_scopes, oidc) = match (&record.flavor, request.param("scope")) {
        (Flavor::V2, Some(scope)) if !request.v1 => {
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
    let issue =
        Issue::new(graph_scopes, oidc, record.flavor.clone(), record.redirect_kind);
    request.answer(
        &record.user_id,
        Issue {
            family: Some(record.family.clone()),
            // A SPA's tokens keep the 24 hours of the sign-in.
            refresh_expires_at: (record.redirect_kind == RedirectKind::Spa)
                .then_some(record.expires_at),
            ..issue
        },
    )
}

/// The stored form of a refresh record: the record plus its own key, so a
/// family can be found and revoked.
pub(crate) fn record_value(record: &RefreshRecord, key: &str) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    value["key"] = json!(key);
    value
}
