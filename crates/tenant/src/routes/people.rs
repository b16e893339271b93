//! `/me`, `/users`, and the signed-in user's messages and events.

use axum::{Json, extract::Path};
use serde_json::Value;

use super::{Listing, entity};
use crate::{
    auth::{ApiVersion, Ctx},
    error::GraphError,
    perms,
    store::{Col, Store},
};

/// The properties v1.0 returns for a user when `$select` is absent; beta
/// returns every property (the lab's "spot the difference" exercise).
pub const USER_V1_DEFAULTS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

fn defaults(ctx: &Ctx) -> Option<&'static [&'static str]> {
    (ctx.version == ApiVersion::V1).then_some(USER_V1_DEFAULTS)
}

/// Finds a user by object id or user principal name (case-insensitive).
pub(crate) fn find_user(store: &Store, id_or_upn: &str) -> Option<Value> {
    if let Some(user) = store.get(Col::Users, id_or_upn) {
        return Some(user);
    }
    store.scan(Col::Users, |users| {
        users
            .values()
            .find(|u| {
                u["userPrincipalName"]
                    .as_str()
                    .is_some_and(|upn| upn.eq_ignore_ascii_case(id_or_upn))
            })
            .cloned()
    })
}

pub async fn get_me(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    let me = ctx.me()?;
    ctx.require(&perms::ME)?;
    let user = find_user(&ctx.tenant.0.store, me)
        .ok_or_else(|| GraphError::resource_not_found(me))?;
    entity(&ctx, &user, "users", "user", defaults(&ctx))
}

pub async fn list_users(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::USERS_READ)?;
    Listing {
        col: Col::Users,
        entity: "user",
        fragment: "users",
        page: 100,
        directory: true,
        defaults: defaults(&ctx),
    }
    .run(&ctx, |_| true)
}

pub async fn get_user(
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::USERS_READ)?;
    let user = find_user(&ctx.tenant.0.store, &id)
        .ok_or_else(|| GraphError::resource_not_found(&id))?;
    entity(&ctx, &user, "users", "user", defaults(&ctx))
}

pub async fn my_messages(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    let me = ctx.me()?.to_owned();
    ctx.require(&perms::MAIL_READ)?;
    let fragment = format!("users('{me}')/messages");
    Listing {
        col: Col::Messages,
        entity: "message",
        fragment: &fragment,
        page: 10,
        directory: false,
        defaults: None,
    }
    .run(&ctx, |m| m["_ownerId"] == me.as_str())
}

pub async fn my_events(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    let me = ctx.me()?.to_owned();
    ctx.require(&perms::CALENDARS_READ)?;
    let fragment = format!("users('{me}')/events");
    Listing {
        col: Col::Events,
        entity: "event",
        fragment: &fragment,
        page: 10,
        directory: false,
        defaults: None,
    }
    .run(&ctx, |m| m["_ownerId"] == me.as_str())
}
