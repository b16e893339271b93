//! App registrations, their secrets, service principals and delegated grants.

use axum::{Json, extract::Path, http::StatusCode, response::Response};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Listing, created, entity, must_get, now_iso, object_id};
use crate::{
    auth::Ctx,
    body::{JsonObject, Kind, check_props, invalid_value, required_str},
    error::GraphError,
    perms,
    seed::TENANT_DOMAIN,
    store::Col,
};

const APP_PROPS: &[(&str, Kind)] = &[
    ("displayName", Kind::Str),
    ("description", Kind::OptStr),
    ("notes", Kind::OptStr),
    ("signInAudience", Kind::Str),
    ("requiredResourceAccess", Kind::Array),
    ("web", Kind::Object),
    ("publicClient", Kind::Object),
    ("spa", Kind::Object),
    ("isFallbackPublicClient", Kind::Bool),
    ("tags", Kind::StrArray),
    ("identifierUris", Kind::StrArray),
];

const AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];

/// Checks the shape of the properties an application may be given.
fn check_app(body: &Map<String, Value>) -> Result<(), GraphError> {
    check_props(body, "application", "Application", APP_PROPS)?;
    if let Some(aud) = body.get("signInAudience").and_then(Value::as_str)
        && !AUDIENCES.contains(&aud)
    {
        return Err(invalid_value("signInAudience", "Application"));
    }
    if let Some(rra) = body.get("requiredResourceAccess").and_then(Value::as_array) {
        for entry in rra {
            let ok = entry["resourceAppId"]
                .as_str()
                .is_some_and(|a| uuid::Uuid::parse_str(a).is_ok())
                && entry["resourceAccess"].as_array().is_some_and(|access| {
                    access.iter().all(|a| {
                        a["id"]
                            .as_str()
                            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
                            && matches!(a["type"].as_str(), Some("Scope" | "Role"))
                    })
                });
            if !ok {
                return Err(invalid_value("requiredResourceAccess", "Application"));
            }
        }
    }
    for (platform, https_only) in [("web", true), ("publicClient", false), ("spa", true)]
    {
        let Some(settings) = body.get(platform) else { continue };
        let Some(uris) = settings.get("redirectUris") else { continue };
        let valid = uris.as_array().is_some_and(|uris| {
            uris.len() <= 256
                && uris
                    .iter()
                    .all(|u| u.as_str().is_some_and(|u| redirect_uri_ok(u, https_only)))
        });
        if !valid {
            return Err(invalid_value(
                &format!("{platform}.redirectUris"),
                "Application",
            ));
        }
    }
    Ok(())
}

/// Web redirect URIs must be https, or http on localhost; no fragments.
fn redirect_uri_ok(uri: &str, https_only: bool) -> bool {
    let lower = uri.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://")
        || lower.starts_with("http://localhost")
        || lower.starts_with("http://127.0.0.1")
        || (!https_only && lower.contains("://"));
    scheme_ok
        && !uri.contains('#')
        && uri.len() <= 256
        && !uri.contains(char::is_whitespace)
}

pub async fn list(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::APPS_READ)?;
    Listing {
        col: Col::Applications,
        entity: "application",
        fragment: "applications",
        page: 100,
        directory: true,
        defaults: None,
    }
    .run(&ctx, |_| true)
}

pub async fn get(ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::APPS_READ)?;
    let app = must_get(&ctx.tenant.0.store, Col::Applications, object_id(&id)?)?;
    entity(&ctx, &app, "applications", "application", None)
}

pub async fn create(
    ctx: Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::APPS_WRITE)?;
    check_app(&body)?;
    let display = required_str(&body, "displayName", "Application")?;
    let id = uuid::Uuid::new_v4().to_string();
    let mut app = json!({
        "id": id,
        "appId": uuid::Uuid::new_v4().to_string(),
        "createdDateTime": now_iso(),
        "displayName": display,
        "description": null,
        "notes": null,
        "publisherDomain": TENANT_DOMAIN,
        "signInAudience": "AzureADMyOrg",
        "identifierUris": [],
        "tags": [],
        "isFallbackPublicClient": null,
        "requiredResourceAccess": [],
        "web": {"redirectUris": [], "homePageUrl": null, "logoutUrl": null,
                "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
        "publicClient": {"redirectUris": []},
        "spa": {"redirectUris": []},
        "passwordCredentials": [],
        "keyCredentials": [],
        "_ownerId": ctx.principal.claims.oid,
    });
    merge(&mut app, &body);
    ctx.tenant.0.store.write(|tx| {
        tx.put(Col::Applications, &id, app.clone());
        Ok::<_, GraphError>(())
    })?;
    Ok(created(&ctx, &app, "applications", "application"))
}

/// PATCH semantics: top-level properties replace; complex ones merge one level.
fn merge(target: &mut Value, body: &Map<String, Value>) {
    for (k, v) in body {
        match (target.get_mut(k), v) {
            (Some(Value::Object(current)), Value::Object(given)) => {
                for (sk, sv) in given {
                    current.insert(sk.clone(), sv.clone());
                }
            }
            _ => target[k] = v.clone(),
        }
    }
}

pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, GraphError> {
    ctx.require(&perms::APPS_WRITE)?;
    let id = object_id(&id)?.to_owned();
    check_app(&body)?;
    ctx.tenant.0.store.write(|tx| {
        let mut app = tx
            .get(Col::Applications, &id)
            .ok_or_else(|| GraphError::resource_not_found(&id))?;
        merge(&mut app, &body);
        tx.put(Col::Applications, &id, app);
        Ok::<_, GraphError>(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new client secret, shaped like Entra's (40 characters, `~` in the 4th place).
fn new_secret() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let text = URL_SAFE_NO_PAD.encode(&bytes).replace(['-', '_'], ".");
    format!("{}8Q~{}", &text[..3], &text[3..37])
}

/// How a secret is stored: salted SHA-256, never the text.
pub(crate) fn hash_secret(salt: &str, secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{salt}:{secret}")))
}

pub async fn add_password(
    ctx: Ctx,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::APPS_WRITE)?;
    let id = object_id(&id)?.to_owned();
    // The body is optional: an empty one asks for a secret with default settings.
    let body = if raw.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        crate::body::parse_object(&raw)?
    };
    check_props(
        &body,
        "application",
        "Application",
        &[("passwordCredential", Kind::Object)],
    )?;
    let requested = body.get("passwordCredential").cloned().unwrap_or(json!({}));
    let display = match requested.get("displayName") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(_) => {
            return Err(invalid_value("passwordCredential.displayName", "Application"));
        }
    };
    let now = ctx.tenant.0.now.date_time();
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    };
    let end = match requested.get("endDateTime") {
        None | Some(Value::Null) => rfc(now + time::Duration::days(730)),
        Some(Value::String(s)) => {
            let parsed = time::OffsetDateTime::parse(
                s,
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| {
                invalid_value("passwordCredential.endDateTime", "Application")
            })?;
            if parsed <= now {
                return Err(invalid_value(
                    "passwordCredential.endDateTime",
                    "Application",
                ));
            }
            rfc(parsed)
        }
        Some(_) => {
            return Err(invalid_value("passwordCredential.endDateTime", "Application"));
        }
    };
    let secret = new_secret();
    let key_id = uuid::Uuid::new_v4().to_string();
    let salt = uuid::Uuid::new_v4().simple().to_string();
    let public = json!({
        "customKeyIdentifier": null,
        "displayName": display,
        "endDateTime": end,
        "hint": &secret[..3],
        "keyId": key_id,
        "secretText": null,
        "startDateTime": rfc(now),
    });
    ctx.tenant.0.store.write(|tx| {
        let mut app = tx.get(Col::Applications, &id).ok_or_else(|| GraphError::resource_not_found(&id))?;
        let creds = app["passwordCredentials"].as_array().cloned().unwrap_or_default();
        if creds.len() >= 30 {
            return Err(GraphError::directory_bad_request(
                "An application can have at most 30 password credentials.",
            ));
        }
        let mut creds = creds;
        creds.push(public.clone());
        app["passwordCredentials"] = Value::Array(creds);
        let mut hashes = app["_secretHashes"].as_array().cloned().unwrap_or_default();
        hashes.push(json!({"keyId": key_id, "salt": salt, "hash": hash_secret(&salt, &secret), "endDateTime": end}));
        app["_secretHashes"] = Value::Array(hashes);
        tx.put(Col::Applications, &id, app);
        Ok::<_, GraphError>(())
    })?;
    let mut answer = public;
    answer["secretText"] = json!(secret);
    answer["@odata.context"] = json!(ctx.context("microsoft.graph.passwordCredential"));
    Ok(Json(answer))
}

pub async fn list_sps(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::APPS_READ)?;
    Listing {
        col: Col::ServicePrincipals,
        entity: "servicePrincipal",
        fragment: "servicePrincipals",
        page: 100,
        directory: true,
        defaults: None,
    }
    .run(&ctx, |_| true)
}

pub async fn get_sp(ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::APPS_READ)?;
    let sp = must_get(&ctx.tenant.0.store, Col::ServicePrincipals, object_id(&id)?)?;
    entity(&ctx, &sp, "servicePrincipals", "servicePrincipal", None)
}

pub async fn create_sp(
    ctx: Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::APPS_WRITE)?;
    check_props(
        &body,
        "servicePrincipal",
        "ServicePrincipal",
        &[("appId", Kind::Str), ("tags", Kind::StrArray), ("accountEnabled", Kind::Bool)],
    )?;
    let app_id = required_str(&body, "appId", "ServicePrincipal")?.to_owned();
    let id = uuid::Uuid::new_v4().to_string();
    let sp = ctx.tenant.0.store.write(|tx| {
        let app = tx
            .committed(Col::Applications)
            .find(|a| a["appId"] == app_id.as_str())
            .cloned()
            .ok_or_else(|| {
                GraphError::directory_bad_request(format!(
                    "The appId '{app_id}' of the service principal does not reference a valid application object."
                ))
            })?;
        if tx.committed(Col::ServicePrincipals).any(|sp| sp["appId"] == app_id.as_str()) {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                format!(
                    "The service principal cannot be created, updated, or restored because the \
                     service principal name {app_id} is already in use."
                ),
            ));
        }
        let sp = json!({
            "id": id,
            "appId": app_id,
            "appDisplayName": app["displayName"],
            "displayName": app["displayName"],
            "servicePrincipalType": "Application",
            "accountEnabled": body.get("accountEnabled").cloned().unwrap_or(json!(true)),
            "appOwnerOrganizationId": crate::seed::TENANT_ID,
            "servicePrincipalNames": [app_id],
            "replyUrls": app["web"]["redirectUris"],
            "oauth2PermissionScopes": [],
            "appRoles": [],
            "tags": body.get("tags").cloned().unwrap_or(json!([])),
        });
        tx.put(Col::ServicePrincipals, &id, sp.clone());
        Ok(sp)
    })?;
    Ok(created(&ctx, &sp, "servicePrincipals", "servicePrincipal"))
}

pub async fn list_grants(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::GRANTS_READ)?;
    Listing {
        col: Col::Grants,
        entity: "oAuth2PermissionGrant",
        fragment: "oauth2PermissionGrants",
        page: 100,
        directory: true,
        defaults: None,
    }
    .run(&ctx, |_| true)
}

pub async fn create_grant(
    ctx: Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::GRANTS_WRITE)?;
    let props = [
        ("clientId", Kind::Str),
        ("consentType", Kind::Str),
        ("principalId", Kind::OptStr),
        ("resourceId", Kind::Str),
        ("scope", Kind::Str),
    ];
    check_props(&body, "oAuth2PermissionGrant", "OAuth2PermissionGrant", &props)?;
    let resource = "OAuth2PermissionGrant";
    let client = object_id(required_str(&body, "clientId", resource)?)?.to_owned();
    let target = object_id(required_str(&body, "resourceId", resource)?)?.to_owned();
    let consent = required_str(&body, "consentType", resource)?.to_owned();
    let principal = body.get("principalId").and_then(Value::as_str).map(str::to_owned);
    match (consent.as_str(), &principal) {
        ("AllPrincipals", None) => {}
        ("Principal", Some(p)) if uuid::Uuid::parse_str(p).is_ok() => {}
        ("AllPrincipals" | "Principal", _) => {
            return Err(invalid_value("principalId", resource));
        }
        _ => return Err(invalid_value("consentType", resource)),
    }
    let scope = body.get("scope").and_then(Value::as_str).unwrap_or("").to_owned();
    let id = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    let grant = ctx.tenant.0.store.write(|tx| {
        tx.get(Col::ServicePrincipals, &client).ok_or_else(|| GraphError::resource_not_found(&client))?;
        let sp = tx.get(Col::ServicePrincipals, &target).ok_or_else(|| GraphError::resource_not_found(&target))?;
        let published: Vec<&str> = sp["oauth2PermissionScopes"]
            .as_array()
            .map(|s| s.iter().filter_map(|s| s["value"].as_str()).collect())
            .unwrap_or_default();
        if let Some(unknown) = scope.split_whitespace().find(|s| !published.contains(s)) {
            return Err(GraphError::directory_bad_request(format!(
                "Permission entry '{unknown}' does not exist on the resource service principal."
            )));
        }
        if let Some(p) = &principal {
            tx.get(Col::Users, p).ok_or_else(|| GraphError::resource_not_found(p))?;
        }
        let grant = json!({
            "id": id, "clientId": client, "consentType": consent,
            "principalId": principal, "resourceId": target, "scope": scope,
        });
        tx.put(Col::Grants, &id, grant.clone());
        Ok(grant)
    })?;
    Ok(created(&ctx, &grant, "oauth2PermissionGrants", "oAuth2PermissionGrant"))
}
