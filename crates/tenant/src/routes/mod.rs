//! Graph's resource routes (everything under `/v1.0` and `/beta` but `$batch`).

mod apps;
mod groups;
mod people;

use axum::{
    Json, Router,
    http::{Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Map, Value, json};

use crate::{
    Tenant,
    auth::Ctx,
    error::GraphError,
    odata,
    store::{Col, Store},
};

pub(crate) use apps::hash_secret;
pub(crate) use people::find_user;

/// The resource routes, before layers and state.
pub fn routes() -> Router<Tenant> {
    Router::new()
        .route("/me", get(people::get_me))
        .route("/me/messages", get(people::my_messages))
        .route("/me/events", get(people::my_events))
        .route("/users", get(people::list_users))
        .route("/users/{id}", get(people::get_user))
        .route("/groups", get(groups::list).post(groups::create))
        .route(
            "/groups/{id}",
            get(groups::get).patch(groups::update).delete(groups::delete),
        )
        .route("/groups/{id}/team", put(groups::put_team).get(groups::get_group_team))
        .route("/groups/{id}/team/channels", get(groups::list_group_team_channels))
        .route(
            "/groups/{id}/onenote/notebooks",
            post(groups::create_notebook).get(groups::list_notebooks),
        )
        .route("/teams/{id}", get(groups::get_team))
        .route(
            "/teams/{id}/channels",
            get(groups::list_channels).post(groups::create_channel),
        )
        .route("/teams/{id}/channels/{channel}", get(groups::get_channel))
        .route("/applications", get(apps::list).post(apps::create))
        .route("/applications/{id}", get(apps::get).patch(apps::update))
        .route("/applications/{id}/addPassword", post(apps::add_password))
        .route("/servicePrincipals", get(apps::list_sps).post(apps::create_sp))
        .route("/servicePrincipals/{id}", get(apps::get_sp))
        .route("/oauth2PermissionGrants", get(apps::list_grants).post(apps::create_grant))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_segment)
}

async fn method_not_allowed(method: Method, uri: Uri) -> GraphError {
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        format!(
            "Specified HTTP method '{method}' is not allowed for the request uri '{}'.",
            uri.path()
        ),
    )
}

/// Graph answers an unknown path with 400 naming the first unknown segment.
async fn unknown_segment(uri: Uri) -> GraphError {
    let segment = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let known = [
        "me",
        "users",
        "groups",
        "teams",
        "applications",
        "servicePrincipals",
        "oauth2PermissionGrants",
    ];
    if known.contains(&segment) {
        let last = uri.path().rsplit('/').next().unwrap_or("");
        return GraphError::bad_request(format!(
            "Resource not found for the segment '{last}'."
        ));
    }
    GraphError::bad_request(format!("Resource not found for the segment '{segment}'."))
}

/// A collection listing: `$filter`, `$select`, `$top` paging, `$count`.
pub struct Listing<'a> {
    /// The collection.
    pub col: Col,
    /// The type name in messages (`user`).
    pub entity: &'a str,
    /// The `@odata.context` fragment (`users`).
    pub fragment: &'a str,
    /// Default page size.
    pub page: usize,
    /// Directory objects need `ConsistencyLevel: eventual` for `$count` and `ne`.
    pub directory: bool,
    /// Default property set when `$select` is absent.
    pub defaults: Option<&'a [&'a str]>,
}

impl Listing<'_> {
    /// Answers the listing for objects that pass `scope`.
    pub fn run(
        &self,
        ctx: &Ctx,
        scope: impl Fn(&Value) -> bool,
    ) -> Result<Json<Value>, GraphError> {
        let q = &ctx.query;
        if self.directory && q.count && !ctx.eventual {
            return Err(GraphError::directory_bad_request(
                "$count is not currently supported.",
            ));
        }
        if let Some(filter) = &q.filter
            && self.directory
            && filter.is_advanced()
            && !(ctx.eventual && q.count)
        {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                "Operator 'ne' or 'not' is not supported because the required parameters might \
                 be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual \
                 header. Refer to https://aka.ms/graph-docs/advanced-queries for more information.",
            ));
        }
        let page = q.top.unwrap_or(self.page);
        let (total, items, more) = ctx.tenant.0.store.scan(self.col, |map| {
            let mut total = 0usize;
            let mut items = Vec::with_capacity(page.min(64));
            let mut more = false;
            for (id, value) in map {
                if !scope(value) || !q.filter.as_ref().is_none_or(|f| f.matches(value)) {
                    continue;
                }
                total += 1;
                if q.skip_after.as_ref().is_some_and(|after| id <= after) {
                    continue;
                }
                if items.len() < page {
                    items.push((id.clone(), value.clone()));
                } else {
                    more = true;
                    if !q.count {
                        break;
                    }
                }
            }
            (total, items, more)
        });
        let mut body = Map::new();
        body.insert("@odata.context".into(), json!(ctx.context(self.fragment)));
        if q.count {
            body.insert("@odata.count".into(), json!(total));
        }
        if more && let Some((last, _)) = items.last() {
            let link =
                odata::next_link(&ctx.root, &ctx.path, &q.raw, &odata::skiptoken(last));
            body.insert("@odata.nextLink".into(), json!(link));
        }
        let values = items
            .iter()
            .map(|(_, v)| {
                odata::project(v, q.select.as_deref(), self.defaults, self.entity)
            })
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("value".into(), Value::Array(values));
        Ok(Json(Value::Object(body)))
    }
}

/// One entity, projected, with its `@odata.context`.
pub fn entity(
    ctx: &Ctx,
    value: &Value,
    fragment: &str,
    entity: &str,
    defaults: Option<&[&str]>,
) -> Result<Json<Value>, GraphError> {
    let mut projected =
        odata::project(value, ctx.query.select.as_deref(), defaults, entity)?;
    let context = match &ctx.query.select {
        Some(fields) => format!("{fragment}({})/$entity", fields.join(",")),
        None => format!("{fragment}/$entity"),
    };
    if let Value::Object(map) = &mut projected {
        map.insert("@odata.context".into(), json!(ctx.context(&context)));
    }
    Ok(Json(projected))
}

/// 201 Created with a body.
pub fn created(ctx: &Ctx, value: &Value, fragment: &str, entity_name: &str) -> Response {
    match entity(ctx, value, fragment, entity_name, None) {
        Ok(body) => (StatusCode::CREATED, body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Requires `id` to be a GUID, as directory object ids are.
pub fn object_id(id: &str) -> Result<&str, GraphError> {
    uuid::Uuid::parse_str(id).map(|_| id).map_err(|_| GraphError::invalid_object_id(id))
}

/// Reads a directory object or answers 404.
pub fn must_get(store: &Store, col: Col, id: &str) -> Result<Value, GraphError> {
    store.get(col, id).ok_or_else(|| GraphError::resource_not_found(id))
}

/// Now, as Graph writes timestamps.
pub fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
