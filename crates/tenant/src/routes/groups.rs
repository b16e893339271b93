//! Groups, their teams and channels, and group notebooks.

use axum::{
    Json,
    extract::Path,
    http::{StatusCode, header},
    response::Response,
};
use serde_json::{Map, Value, json};

use super::{Listing, created, entity, must_get, now_iso, object_id};
use crate::{
    auth::Ctx,
    body::{JsonObject, Kind, check_props, invalid_value, required_str},
    error::GraphError,
    perms,
    seed::TENANT_DOMAIN,
    store::Col,
};

const GROUP_PROPS: &[(&str, Kind)] = &[
    ("displayName", Kind::Str),
    ("description", Kind::OptStr),
    ("mailNickname", Kind::Str),
    ("mailEnabled", Kind::Bool),
    ("securityEnabled", Kind::Bool),
    ("groupTypes", Kind::StrArray),
    ("visibility", Kind::OptStr),
];

/// A mail nickname Exchange accepts: ASCII, no spaces or reserved characters.
fn valid_nickname(nick: &str) -> bool {
    (1..=64).contains(&nick.len())
        && nick.chars().all(|c| c.is_ascii_graphic() && !"@()\\[]\";:<>,".contains(c))
}

pub async fn list(ctx: Ctx) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::GROUPS_READ)?;
    Listing {
        col: Col::Groups,
        entity: "group",
        fragment: "groups",
        page: 100,
        directory: true,
        defaults: None,
    }
    .run(&ctx, |_| true)
}

pub async fn get(ctx: Ctx, Path(id): Path<String>) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::GROUPS_READ)?;
    let group = must_get(&ctx.tenant.0.store, Col::Groups, object_id(&id)?)?;
    entity(&ctx, &group, "groups", "group", None)
}

pub async fn create(
    ctx: Ctx,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::GROUPS_CREATE)?;
    check_props(&body, "group", "Group", GROUP_PROPS)?;
    let display = required_str(&body, "displayName", "Group")?;
    if display.chars().count() > 256 {
        return Err(invalid_value("displayName", "Group"));
    }
    let nick = required_str(&body, "mailNickname", "Group")?;
    if !valid_nickname(nick) {
        return Err(invalid_value("mailNickname", "Group"));
    }
    let mail_enabled = body.get("mailEnabled").and_then(Value::as_bool);
    let security_enabled = body.get("securityEnabled").and_then(Value::as_bool);
    let (Some(mail_enabled), Some(security_enabled)) = (mail_enabled, security_enabled)
    else {
        let missing =
            if mail_enabled.is_none() { "mailEnabled" } else { "securityEnabled" };
        return Err(invalid_value(missing, "Group"));
    };
    let group_types: Vec<String> = body
        .get("groupTypes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if group_types.iter().any(|t| t != "Unified" && t != "DynamicMembership") {
        return Err(invalid_value("groupTypes", "Group"));
    }
    let unified = group_types.iter().any(|t| t == "Unified");
    if mail_enabled && !unified {
        return Err(GraphError::directory_bad_request(
            "Mail-enabled security groups and distribution groups cannot be created through \
             Microsoft Graph; set groupTypes to [\"Unified\"].",
        ));
    }
    if !mail_enabled && !security_enabled {
        return Err(invalid_value("securityEnabled", "Group"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let ready_at =
        ctx.tenant.0.now.millis() + ctx.tenant.0.replication_delay.as_millis() as u64;
    let mail = format!("{nick}@{TENANT_DOMAIN}");
    let group = json!({
        "id": id,
        "createdDateTime": now_iso(),
        "renewedDateTime": now_iso(),
        "deletedDateTime": null,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "displayName": display,
        "groupTypes": group_types,
        "mail": if mail_enabled { json!(mail) } else { Value::Null },
        "mailEnabled": mail_enabled,
        "mailNickname": nick,
        "proxyAddresses": if mail_enabled { json!([format!("SMTP:{mail}")]) } else { json!([]) },
        "resourceProvisioningOptions": [],
        "securityEnabled": security_enabled,
        "securityIdentifier": format!("S-1-12-1-{}", ready_at % 4_000_000_000),
        "visibility": body.get("visibility").cloned()
            .unwrap_or(if unified { json!("Public") } else { Value::Null }),
        "_readyAtMs": ready_at,
    });
    let nick_taken = |v: &Value| {
        v["mailNickname"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(nick))
    };
    ctx.tenant.0.store.write(|tx| {
        if tx.committed(Col::Groups).any(nick_taken) || tx.committed(Col::Users).any(nick_taken) {
            return Err(GraphError::directory_bad_request(
                "Another object with the same value for property mailNickname already exists.",
            ));
        }
        tx.put(Col::Groups, &id, group.clone());
        Ok(())
    })?;
    Ok(created(&ctx, &group, "groups", "group"))
}

pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, GraphError> {
    ctx.require(&perms::GROUPS_WRITE)?;
    let id = object_id(&id)?.to_owned();
    check_props(&body, "group", "Group", GROUP_PROPS)?;
    for fixed in ["mailEnabled", "securityEnabled", "groupTypes"] {
        if body.contains_key(fixed) {
            return Err(GraphError::directory_bad_request(format!(
                "Property '{fixed}' is read-only and cannot be set on an existing group."
            )));
        }
    }
    if let Some(nick) = body.get("mailNickname").and_then(Value::as_str)
        && !valid_nickname(nick)
    {
        return Err(invalid_value("mailNickname", "Group"));
    }
    ctx.tenant.0.store.write(|tx| {
        let mut group = tx.get(Col::Groups, &id).ok_or_else(|| GraphError::resource_not_found(&id))?;
        if let Some(nick) = body.get("mailNickname").and_then(Value::as_str) {
            let clash = tx.committed(Col::Groups).any(|g| {
                g["id"] != id.as_str()
                    && g["mailNickname"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(nick))
            });
            if clash {
                return Err(GraphError::directory_bad_request(
                    "Another object with the same value for property mailNickname already exists.",
                ));
            }
        }
        for (k, v) in &body {
            group[k] = v.clone();
        }
        tx.put(Col::Groups, &id, group);
        Ok::<_, GraphError>(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, GraphError> {
    ctx.require(&perms::GROUPS_WRITE)?;
    let id = object_id(&id)?.to_owned();
    ctx.tenant.0.store.write(|tx| {
        tx.get(Col::Groups, &id).ok_or_else(|| GraphError::resource_not_found(&id))?;
        tx.delete(Col::Groups, &id);
        tx.delete(Col::Teams, &id);
        let owned = |col: Col, field: &str| -> Vec<String> {
            tx.committed(col)
                .filter(|v| v[field] == id.as_str())
                .filter_map(|v| v["id"].as_str().map(str::to_owned))
                .collect()
        };
        let channels = owned(Col::Channels, "_teamId");
        let notebooks = owned(Col::Notebooks, "_groupId");
        for c in channels {
            tx.delete(Col::Channels, &c);
        }
        for n in notebooks {
            tx.delete(Col::Notebooks, &n);
        }
        Ok::<_, GraphError>(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

const TEAM_SETTINGS: &[(&str, Kind)] = &[
    ("memberSettings", Kind::Object),
    ("messagingSettings", Kind::Object),
    ("funSettings", Kind::Object),
    ("guestSettings", Kind::Object),
    ("discoverySettings", Kind::Object),
    ("displayName", Kind::Str),
    ("description", Kind::OptStr),
    ("visibility", Kind::Str),
];

fn default_settings() -> Map<String, Value> {
    let v = json!({
        "memberSettings": {
            "allowCreateUpdateChannels": true, "allowDeleteChannels": true,
            "allowAddRemoveApps": true, "allowCreateUpdateRemoveTabs": true,
            "allowCreateUpdateRemoveConnectors": true,
        },
        "guestSettings": { "allowCreateUpdateChannels": false, "allowDeleteChannels": false },
        "messagingSettings": {
            "allowUserEditMessages": true, "allowUserDeleteMessages": true,
            "allowOwnerDeleteMessages": true, "allowTeamMentions": true, "allowChannelMentions": true,
        },
        "funSettings": {
            "allowGiphy": true, "giphyContentRating": "moderate",
            "allowStickersAndMemes": true, "allowCustomMemes": true,
        },
    });
    v.as_object().cloned().unwrap_or_default()
}

fn channel_id() -> String {
    format!("19:{}@thread.tacv2", uuid::Uuid::new_v4().simple())
}

pub async fn put_team(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::TEAM_CREATE)?;
    let id = object_id(&id)?.to_owned();
    check_props(&body, "team", "Team", TEAM_SETTINGS)?;
    if let Some(rating) =
        body.get("funSettings").and_then(|f| f.get("giphyContentRating"))
        && !matches!(rating.as_str(), Some("strict" | "moderate"))
    {
        return Err(GraphError::bad_request(format!(
            "Invalid value {rating} for funSettings.giphyContentRating; expected 'strict' or 'moderate'."
        )));
    }
    let team = ctx.tenant.0.store.write(|tx| {
        let mut group = tx.get(Col::Groups, &id).ok_or_else(|| GraphError::resource_not_found(&id))?;
        if group["_readyAtMs"].as_u64().is_some_and(|ready| ctx.tenant.0.now.millis() < ready) {
            return Err(GraphError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!(
                    "Failed to execute Templates backend request CreateTeamFromGroupWithTemplateRequest. \
                     Group {id} is not yet available to Teams: a new group takes a while to replicate. \
                     Retry the request later."
                ),
            ));
        }
        if !group["groupTypes"].as_array().is_some_and(|t| t.iter().any(|t| t == "Unified")) {
            return Err(GraphError::bad_request(format!(
                "Group {id} is not a Microsoft 365 (Unified) group; only those can have a team."
            )));
        }
        if tx.get(Col::Teams, &id).is_some() {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!("Group {id} already has a team."),
            ));
        }
        let mut team = default_settings();
        for (k, v) in &body {
            match (team.get_mut(k), v) {
                (Some(Value::Object(current)), Value::Object(given)) => {
                    for (sk, sv) in given {
                        current.insert(sk.clone(), sv.clone());
                    }
                }
                _ => {
                    team.insert(k.clone(), v.clone());
                }
            }
        }
        team.insert("id".into(), json!(id));
        team.entry("displayName").or_insert(group["displayName"].clone());
        team.entry("description").or_insert(group["description"].clone());
        team.insert("isArchived".into(), json!(false));
        team.insert("createdDateTime".into(), json!(now_iso()));
        team.insert("internalId".into(), json!(channel_id()));
        team.insert(
            "webUrl".into(),
            json!(format!("https://teams.microsoft.com/l/team/{}/conversations?groupId={id}", "19%3a0")),
        );
        let team = Value::Object(team);
        tx.put(Col::Teams, &id, team.clone());
        let general = channel_id();
        tx.put(
            Col::Channels,
            &general,
            json!({
                "id": general, "displayName": "General", "description": group["description"],
                "createdDateTime": now_iso(), "membershipType": "standard", "email": "",
                "isFavoriteByDefault": true, "_teamId": id,
            }),
        );
        group["resourceProvisioningOptions"] = json!(["Team"]);
        tx.put(Col::Groups, &id, group);
        Ok(team)
    })?;
    Ok(created(&ctx, &team, "teams", "team"))
}

fn team_not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("No team found with Group Id {id}"),
    )
}

pub async fn get_team(
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::TEAM_READ)?;
    let team =
        ctx.tenant.0.store.get(Col::Teams, &id).ok_or_else(|| team_not_found(&id))?;
    entity(&ctx, &team, "teams", "team", None)
}

pub async fn list_channels(
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    ctx.require(&perms::CHANNELS_READ)?;
    ctx.tenant.0.store.get(Col::Teams, &id).ok_or_else(|| team_not_found(&id))?;
    let fragment = format!("teams('{id}')/channels");
    Listing {
        col: Col::Channels,
        entity: "channel",
        fragment: &fragment,
        page: 100,
        directory: false,
        defaults: None,
    }
    .run(&ctx, |c| c["_teamId"] == id.as_str())
}

const CHANNEL_PROPS: &[(&str, Kind)] = &[
    ("displayName", Kind::Str),
    ("description", Kind::OptStr),
    ("membershipType", Kind::Str),
    ("isFavoriteByDefault", Kind::Bool),
    ("members", Kind::Array),
];

fn check_channel_name(name: &str) -> Result<(), GraphError> {
    let forbidden = "~#%&*{}+/\\:<>?|'\"";
    if name.trim().is_empty() || name.chars().count() > 50 {
        return Err(GraphError::bad_request(
            "Channel displayName must be between 1 and 50 characters.",
        ));
    }
    if name.chars().any(|c| forbidden.contains(c))
        || name.starts_with(['_', '.'])
        || name.ends_with('.')
    {
        return Err(GraphError::bad_request(format!(
            "Channel name '{name}' contains invalid characters: it cannot contain ~ # % & * {{ }} + / \\ : < > ? | ' \" \
             nor start with an underscore or a period."
        )));
    }
    Ok(())
}

pub async fn create_channel(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    ctx.require(&perms::CHANNELS_CREATE)?;
    check_props(&body, "channel", "Channel", CHANNEL_PROPS)?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("Channel displayName is required."))?;
    check_channel_name(name)?;
    let membership =
        body.get("membershipType").and_then(Value::as_str).unwrap_or("standard");
    if !matches!(membership, "standard" | "private" | "shared") {
        return Err(GraphError::bad_request(format!(
            "Invalid membershipType '{membership}'; expected standard, private or shared."
        )));
    }
    let channel_id = channel_id();
    let channel = json!({
        "id": channel_id,
        "createdDateTime": now_iso(),
        "displayName": name,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "membershipType": membership,
        "email": "",
        "isFavoriteByDefault": body.get("isFavoriteByDefault").cloned().unwrap_or(json!(false)),
        "webUrl": format!("https://teams.microsoft.com/l/channel/{channel_id}?groupId={id}"),
        "_teamId": id,
    });
    ctx.tenant.0.store.write(|tx| {
        tx.get(Col::Teams, &id).ok_or_else(|| team_not_found(&id))?;
        let taken = tx.committed(Col::Channels).any(|c| {
            c["_teamId"] == id.as_str()
                && c["displayName"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        if taken {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "NameAlreadyExists",
                "Channel name already existed, please use other name.",
            ));
        }
        tx.put(Col::Channels, &channel_id, channel.clone());
        Ok(())
    })?;
    let fragment = format!("teams('{id}')/channels");
    Ok(created(&ctx, &channel, &fragment, "channel"))
}

/// The OneNote error the lab shows: 403, code `40004`, `Cache-Control: no-cache`.
fn notes_scope_error(ctx: &Ctx) -> GraphError {
    let provided = if ctx.principal.scopes.is_empty() {
        ctx.principal.roles.join(",")
    } else {
        ctx.principal.scopes.join(",")
    };
    GraphError::new(
        StatusCode::FORBIDDEN,
        "40004",
        format!(
            "The OAuth token provided does not have the necessary scopes to complete the request. \
             Please make sure you are including one of the following scopes: {} \
             (you provided these scopes: {provided})",
            perms::NOTEBOOKS_CREATE.delegated.join(",")
        ),
    )
    .with_header(header::CACHE_CONTROL, "no-cache")
}

pub async fn create_notebook(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, GraphError> {
    if !ctx.principal.allows(&perms::NOTEBOOKS_CREATE) {
        return Err(notes_scope_error(&ctx));
    }
    let id = object_id(&id)?.to_owned();
    check_props(&body, "notebook", "Notebook", &[("displayName", Kind::Str)])?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty() && n.chars().count() <= 128)
        .ok_or_else(|| {
            GraphError::bad_request("The notebook displayName is missing or too long.")
        })?;
    let notebook_id = format!("1-{}", uuid::Uuid::new_v4());
    let notebook = json!({
        "id": notebook_id,
        "displayName": name,
        "createdDateTime": now_iso(),
        "lastModifiedDateTime": now_iso(),
        "isDefault": false,
        "isShared": true,
        "userRole": "Owner",
        "sectionsUrl": format!("{}/groups/{id}/onenote/notebooks/{notebook_id}/sections", ctx.root),
        "_groupId": id,
    });
    ctx.tenant.0.store.write(|tx| {
        tx.get(Col::Groups, &id).ok_or_else(|| GraphError::resource_not_found(&id))?;
        let taken = tx.committed(Col::Notebooks).any(|n| {
            n["_groupId"] == id.as_str()
                && n["displayName"].as_str().is_some_and(|d| d.eq_ignore_ascii_case(name))
        });
        if taken {
            return Err(GraphError::new(
                StatusCode::CONFLICT,
                "20117",
                "An item with this name already exists in this location.",
            ));
        }
        tx.put(Col::Notebooks, &notebook_id, notebook.clone());
        Ok(())
    })?;
    let fragment = format!("groups('{id}')/onenote/notebooks");
    Ok(created(&ctx, &notebook, &fragment, "notebook"))
}
