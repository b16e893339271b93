//! `POST /$batch`: Microsoft Graph's JSON batching.
//!
//! The payload is checked first, with the rules Graph applies (at most 20
//! requests; `id`, `method` and a relative `url` required; ids unique without
//! regard to case; `Content-Type` with a body; `dependsOn` parallel, serial or
//! all naming the same request, wherever it stands). A payload that breaks one is refused
//! whole with 400 and a message naming the item. Otherwise every item is
//! dispatched through the same router, authentication, permissions, throttling
//! and faults as a direct call; independent items run concurrently; an item
//! whose dependency failed gets 424; responses come back in completion order.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Extension, Json,
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use futures::{StreamExt, stream::FuturesUnordered};
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::{
    Stats, Tenant,
    auth::{ApiVersion, Principal},
    body::kind_name,
    chaos::BatchItem,
    error::GraphError,
};

/// Graph's limit on requests in one batch.
pub const MAX_REQUESTS: usize = 20;

/// What the `$batch` handler needs: the tenant and the version's resource router.
#[derive(Debug, Clone)]
pub struct BatchState {
    pub tenant: Tenant,
    pub dispatch: axum::Router,
    /// Responses still to be served, by `$skiptoken` (see [`next_page`]).
    pub pages: Arc<Mutex<HashMap<String, Pending>>>,
}

/// The rest of a paged `$batch` answer.
#[derive(Debug)]
pub struct Pending {
    owner: String,
    responses: Vec<Value>,
    /// When the batch was answered, on the tenant's clock (ms since the
    /// epoch).
    created_ms: u64,
}

/// How long the rest of a paged answer is kept.
const PAGE_TTL: Duration = Duration::from_secs(300);

/// One checked item.
#[derive(Debug)]
struct Item {
    id: String,
    method: Method,
    url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    depends_on: Option<usize>,
}

fn invalid(detail: impl std::fmt::Display) -> GraphError {
    GraphError::bad_request(format!("Invalid batch payload format. {detail}"))
}

/// Characters that may not appear raw in a URI; Graph accepts item URLs with
/// spaces and quotes (`$filter=importance eq 'high'`), so they are encoded here.
const URL_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

fn id_of(value: Option<&Value>, index: usize) -> Result<String, GraphError> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(_)) => {
            Err(invalid(format!("requests[{index}]: the id is empty.")))
        }
        Some(other) => Err(invalid(format!(
            "requests[{index}]: the id must be a string, found {}.",
            kind_name(other)
        ))),
        None => Err(invalid(format!(
            "requests[{index}]: the required property 'id' is missing."
        ))),
    }
}

fn parse_item(index: usize, raw: &Value) -> Result<(Item, Vec<String>), GraphError> {
    let Some(obj) = raw.as_object() else {
        return Err(invalid(format!(
            "requests[{index}] must be an object, found {}.",
            kind_name(raw)
        )));
    };
    let id = id_of(obj.get("id"), index)?;
    let at = |what: &str| format!("Request id '{id}' (requests[{index}]): {what}");

    let method = match obj.get("method") {
        Some(Value::String(m)) => m.to_ascii_uppercase(),
        Some(other) => {
            return Err(invalid(at(&format!(
                "the method must be a string, found {}.",
                kind_name(other)
            ))));
        }
        None => return Err(invalid(at("the required property 'method' is missing."))),
    };
    let method = match method.as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        other => {
            return Err(invalid(at(&format!("the method '{other}' is not supported."))));
        }
    };

    let url = match obj.get("url") {
        Some(Value::String(u)) if !u.trim().is_empty() => u.trim().to_owned(),
        Some(Value::String(_)) => return Err(invalid(at("the url is empty."))),
        Some(other) => {
            return Err(invalid(at(&format!(
                "the url must be a string, found {}.",
                kind_name(other)
            ))));
        }
        None => return Err(invalid(at("the required property 'url' is missing."))),
    };
    if url.len() > crate::limits::MAX_URL_BYTES {
        return Err(invalid(at(&format!(
            "the url is {} bytes long; at most {} are accepted.",
            url.len(),
            crate::limits::MAX_URL_BYTES
        ))));
    }
    let lower = url.to_ascii_lowercase();
    if lower.contains("://") || lower.starts_with("//") {
        return Err(invalid(at(&format!(
            "the url '{url}' is absolute; batch request URLs must be relative to the version root, e.g. /users."
        ))));
    }
    let path = format!("/{}", url.trim_start_matches('/'));
    if path.split(['?', '/']).any(|s| s.eq_ignore_ascii_case("$batch")) {
        return Err(invalid(at("a batch cannot contain another $batch request.")));
    }

    let mut headers = Vec::new();
    let mut content_type = None;
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let Some(text) = value.as_str() else {
                    return Err(invalid(at(&format!(
                        "header '{name}' must be a string, found {}.",
                        kind_name(value)
                    ))));
                };
                let name_ok = HeaderName::from_bytes(name.as_bytes());
                let value_ok = HeaderValue::from_str(text);
                let (Ok(n), Ok(v)) = (name_ok, value_ok) else {
                    return Err(invalid(at(&format!(
                        "header '{name}' is not a valid HTTP header."
                    ))));
                };
                if n == header::AUTHORIZATION
                    || n == header::HOST
                    || n == header::CONTENT_LENGTH
                {
                    continue;
                }
                if n == header::CONTENT_TYPE {
                    content_type = Some(text.to_ascii_lowercase());
                }
                headers.push((n, v));
            }
        }
        Some(other) => {
            return Err(invalid(at(&format!(
                "headers must be an object, found {}.",
                kind_name(other)
            ))));
        }
    }

    let body = match obj.get("body") {
        None | Some(Value::Null) => None,
        Some(body) => {
            let Some(ct) = &content_type else {
                return Err(GraphError::bad_request(format!(
                    "Write request id : {id} does not contain Content-Type header or body."
                )));
            };
            let json_like = ct.starts_with("application/json") || ct.contains("+json");
            Some(match body {
                Value::String(text) if !json_like => {
                    Bytes::from(STANDARD.decode(text.trim()).map_err(|_| {
                        invalid(at("the body is not valid base64, as a non-JSON Content-Type requires."))
                    })?)
                }
                other => Bytes::from(other.to_string()),
            })
        }
    };

    let depends = match obj.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|d| match d {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(invalid(at(&format!(
                    "dependsOn entries must be request ids, found {}.",
                    kind_name(other)
                )))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(at(&format!(
                "dependsOn must be an array, found {}.",
                kind_name(other)
            ))));
        }
    };

    let url = utf8_percent_encode(&path, URL_UNSAFE).to_string();
    Ok((Item { id, method, url, headers, body, depends_on: None }, depends))
}

/// Checks the whole payload; `Err` is the 400 for the batch.
fn parse(bytes: &[u8]) -> Result<Vec<Item>, GraphError> {
    let payload: Value = serde_json::from_slice(bytes).map_err(|e| {
        invalid(format!("The body is not valid JSON ({}).", crate::body::json_error(&e)))
    })?;
    let Some(requests) = payload.get("requests") else {
        return Err(invalid("The required property 'requests' is missing."));
    };
    let Some(requests) = requests.as_array() else {
        return Err(invalid(format!(
            "'requests' must be an array, found {}.",
            kind_name(requests)
        )));
    };
    if requests.is_empty() {
        return Err(invalid("The batch contains no requests."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(invalid(format!(
            "The batch contains {} requests; at most {MAX_REQUESTS} are allowed.",
            requests.len()
        )));
    }

    let mut items = Vec::with_capacity(requests.len());
    let mut deps = Vec::with_capacity(requests.len());
    let mut index_of: HashMap<String, usize> = HashMap::new();
    for (i, raw) in requests.iter().enumerate() {
        let (item, depends) = parse_item(i, raw)?;
        if index_of.insert(item.id.to_lowercase(), i).is_some() {
            return Err(GraphError::bad_request(format!(
                "Request Id {} has to be unique in a batch.",
                item.id
            )));
        }
        items.push(item);
        deps.push(depends);
    }

    for (i, depends) in deps.iter().enumerate() {
        let id = &items[i].id;
        if depends.len() > 1 {
            return Err(invalid(format!(
                "Request id '{id}' depends on {} requests; a request can depend on only one other request.",
                depends.len()
            )));
        }
        if let Some(target) = depends.first() {
            let Some(&j) = index_of.get(&target.to_lowercase()) else {
                return Err(invalid(format!(
                    "Request id '{id}' depends on '{target}', which is not a request of this batch."
                )));
            };
            if j == i {
                return Err(invalid(format!("Request id '{id}' depends on itself.")));
            }
            items[i].depends_on = Some(j);
        }
    }
    check_shape(&items)?;
    Ok(items)
}

/// [`parse`] for the fuzz targets: the number of items, or the message.
pub(crate) fn parse_for_fuzz(bytes: &[u8]) -> Result<usize, String> {
    parse(bytes).map(|items| items.len()).map_err(|e| e.to_string())
}

/// Graph accepts three dependency shapes: parallel (none), serial (each on
/// the one before), or "same": every request that names a dependency names
/// the same one, which names none and may stand anywhere in the batch (the
/// rule of Graph's known issues for JSON batching, as Microsoft's Graph SDKs
/// check it: `BatchRequestContent.validateDependencies`). The shared table
/// in `crates/batch/tests/it/shapes.rs` holds the client to the same rule.
fn check_shape(items: &[Item]) -> Result<(), GraphError> {
    let parallel = items.iter().all(|i| i.depends_on.is_none());
    let serial = items.iter().enumerate().all(|(n, i)| i.depends_on == n.checked_sub(1));
    let same = {
        let root = items.iter().find_map(|i| i.depends_on);
        root.is_some_and(|root| {
            items.iter().enumerate().all(|(n, i)| {
                if n == root {
                    i.depends_on.is_none()
                } else {
                    i.depends_on == Some(root)
                }
            })
        })
    };
    if parallel || serial || same {
        Ok(())
    } else {
        Err(invalid(
            "The dependsOn shape is not supported: requests may run in parallel (no dependsOn), \
             in series (each request depends on the one before it), or all depend on the same \
             request.",
        ))
    }
}

/// The `$batch` handler.
pub async fn handle(
    State(state): State<BatchState>,
    principal: Option<Extension<Principal>>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && !ct.to_ascii_lowercase().starts_with("application/json")
    {
        return GraphError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "Content-Type '{ct}' is not supported for $batch; send application/json."
            ),
        )
        .into_response();
    }
    let items = match parse(&body) {
        Ok(items) => items,
        Err(e) => return e.into_response(),
    };
    Stats::bump(&state.tenant.0.stats.batch_calls);
    let responses = execute(&state, &headers, items).await;
    match state.tenant.0.chaos.batch_page_size() {
        Some(size) if responses.len() > size => {
            let owner = principal.map(|Extension(p)| p.claims.oid).unwrap_or_default();
            let created_ms = state.tenant.0.now.millis();
            let pending = Pending { owner, responses, created_ms };
            page(&state, &root_of(&state, &headers, version), pending, size)
        }
        _ => Json(json!({ "responses": responses })).into_response(),
    }
}

fn root_of(state: &BatchState, headers: &HeaderMap, version: ApiVersion) -> String {
    format!("{}/{}", crate::auth::base_url(&state.tenant, headers), version.segment())
}

/// Serves `size` responses of `pending`, keeping the rest behind a next link.
fn page(state: &BatchState, root: &str, mut pending: Pending, size: usize) -> Response {
    let rest = pending.responses.split_off(size.min(pending.responses.len()));
    let served = std::mem::replace(&mut pending.responses, rest);
    if pending.responses.is_empty() {
        return Json(json!({ "responses": served })).into_response();
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let link = format!("{root}/$batch?$skiptoken={token}");
    let mut pages = state.pages.lock().unwrap_or_else(|e| e.into_inner());
    let now = &state.tenant.0.now;
    pages.retain(|_, p| now.since(p.created_ms) < PAGE_TTL);
    pages.insert(token, pending);
    Json(json!({ "responses": served, "@odata.nextLink": link })).into_response()
}

/// `GET $batch?$skiptoken=...`: the next page of a paged answer, for the
/// caller that sent the batch; any other `GET` is refused as before.
pub async fn next_page(
    State(state): State<BatchState>,
    principal: Option<Extension<Principal>>,
    Extension(version): Extension<ApiVersion>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = query.get("$skiptoken") else {
        return method_not_allowed(Method::GET).await.into_response();
    };
    let owner = principal.map(|Extension(p)| p.claims.oid).unwrap_or_default();
    let pending = {
        let mut pages = state.pages.lock().unwrap_or_else(|e| e.into_inner());
        match pages.remove(token) {
            Some(p)
                if p.owner == owner
                    && state.tenant.0.now.since(p.created_ms) < PAGE_TTL =>
            {
                Some(p)
            }
            Some(p) if p.owner != owner => {
                pages.insert(token.clone(), p);
                None
            }
            _ => None,
        }
    };
    let Some(pending) = pending else {
        return GraphError::bad_request("The $skiptoken is not valid or has expired.")
            .into_response();
    };
    let size = state.tenant.0.chaos.batch_page_size().unwrap_or(20);
    page(&state, &root_of(&state, &headers, version), pending, size)
}

/// Answer for a method other than POST on `$batch`.
pub async fn method_not_allowed(method: Method) -> GraphError {
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        format!(
            "Specified HTTP method '{method}' is not allowed for the request uri '$batch'."
        ),
    )
}

async fn execute(state: &BatchState, outer: &HeaderMap, items: Vec<Item>) -> Vec<Value> {
    let n = items.len();
    let mut status: Vec<Option<u16>> = vec![None; n];
    let mut started = vec![false; n];
    let mut responses = Vec::with_capacity(n);
    let mut running = FuturesUnordered::new();
    let mut items: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    let dependency: Vec<Option<usize>> =
        items.iter().map(|i| i.as_ref().and_then(|i| i.depends_on)).collect();
    let ids: Vec<String> = items
        .iter()
        .map(|i| i.as_ref().map(|i| i.id.clone()).unwrap_or_default())
        .collect();

    loop {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..n {
                if started[i] {
                    continue;
                }
                let ready = match dependency[i] {
                    None => Some(true),
                    Some(d) => status[d].map(|s| s < 400),
                };
                match ready {
                    None => {}
                    Some(true) => {
                        started[i] = true;
                        if let Some(item) = items[i].take() {
                            running.push(run_item(state, outer, item, i));
                        }
                    }
                    Some(false) => {
                        started[i] = true;
                        progressed = true;
                        let d = dependency[i].unwrap_or(i);
                        status[i] = Some(424);
                        responses.push(failed_dependency(&ids[i], &ids[d]));
                    }
                }
            }
        }
        match running.next().await {
            Some((i, code, response)) => {
                status[i] = Some(code);
                responses.push(response);
            }
            None => break,
        }
    }
    responses
}

fn failed_dependency(id: &str, on: &str) -> Value {
    let request_id = uuid::Uuid::new_v4().to_string();
    json!({
        "id": id,
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": {"error": {
            "code": "FailedDependency",
            "message": format!("The request was not run because request '{on}', on which it depends, failed."),
            "innerError": {
                "date": crate::error::graph_date(time::OffsetDateTime::now_utc()),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }}
    })
}

const HIDDEN_HEADERS: &[&str] =
    &["content-length", "transfer-encoding", "connection", "date"];

async fn run_item(
    state: &BatchState,
    outer: &HeaderMap,
    item: Item,
    index: usize,
) -> (usize, u16, Value) {
    Stats::bump(&state.tenant.0.stats.batch_items);
    let mut builder = Request::builder().method(item.method.clone()).uri(&item.url);
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(v) = outer.get(&name) {
            builder = builder.header(name, v.clone());
        }
    }
    for (name, value) in &item.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .extension(BatchItem(item.id.clone()))
        .body(item.body.clone().map_or_else(Body::empty, Body::from));
    let response = match request {
        Ok(request) => match state.dispatch.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(_) => GraphError::bad_request(format!("Invalid request URL '{}'.", item.url))
            .into_response(),
    };
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut headers = Map::new();
    let mut is_json = false;
    for (name, value) in &parts.headers {
        if HIDDEN_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let text = value.to_str().unwrap_or("").to_owned();
        if name == header::CONTENT_TYPE {
            is_json = text.starts_with("application/json");
        }
        headers.insert(canonical(name.as_str()), json!(text));
    }
    let code = parts.status.as_u16();
    let mut out = json!({ "id": item.id, "status": code, "headers": headers });
    if !bytes.is_empty() {
        out["body"] = if is_json {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!(STANDARD.encode(&bytes)))
        } else {
            json!(STANDARD.encode(&bytes))
        };
    }
    (index, code, out)
}

/// `content-type` → `Content-Type`, as Graph writes item headers.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                std::iter::once(c.to_ascii_uppercase()).chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}
