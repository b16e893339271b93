//! The studio's JSON API: the configuration the page signs in with, the
//! lab's flows and their drawings, the run history, and the emulator's
//! fault settings (proxied with the admin secret, which stays here).

use std::{path::Path as FsPath, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
};
use graphlab_flow::{
    Workflow,
    draw::{DrawOptions, draw},
    history::{FILE as HISTORY_FILE, History},
};
use serde_json::{Value, json};

use crate::{AppError, AppState};

type ApiResult = Result<Json<Value>, AppError>;

/// Runs listed by `/api/runs`.
const RUNS_LISTED: usize = 100;
/// Flow files read from the flows directory.
const FLOWS_LISTED: usize = 50;
/// The largest fault configuration accepted.
const MAX_FAULTS_BODY: usize = 64 * 1024;

pub(crate) async fn config(State(state): State<Arc<AppState>>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "graphUrl": c.graph_url,
        "authorityUrl": c.authority_url,
        "tenant": c.tenant,
        "clientId": c.client_id,
        "targetKind": if c.emulated { "emulator" } else { "microsoft" },
        "faults": c.emulated && c.admin_secret.is_some(),
    }))
}

/// A flow file's name and its workflow, or why it could not be read.
type FlowFile = (String, Result<Workflow, String>);

/// The flow files of the flows directory, sorted by file name, each loaded.
fn flow_files(dir: &FsPath) -> Result<Vec<FlowFile>, AppError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AppError::upstream(format!("{}: {e}", dir.display()))),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names.truncate(FLOWS_LISTED);
    Ok(names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let loaded = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|text| {
                    graphlab_flow::load(&text, &name).map_err(|e| format!("{name}: {e}"))
                });
            (name, loaded)
        })
        .collect())
}

/// An `id` for a picture's elements, from a file name.
fn prefix(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("flow-{cleaned}")
}

pub(crate) async fn flows(State(state): State<Arc<AppState>>) -> ApiResult {
    let dir = state.config.flows_dir.clone();
    let list = tokio::task::spawn_blocking(move || flow_files(&dir))
        .await
        .map_err(|e| AppError::upstream(e.to_string()))??;
    let flows: Vec<Value> = list
        .into_iter()
        .map(|(file, loaded)| match loaded {
            Ok(workflow) => {
                let options =
                    DrawOptions { id_prefix: prefix(&file), ..Default::default() };
                json!({
                    "file": file,
                    "name": workflow.name,
                    "actions": workflow.actions.actions.len(),
                    "svg": draw(&workflow, None, &options),
                })
            }
            Err(message) => json!({"file": file, "error": message}),
        })
        .collect();
    Ok(Json(json!({ "flows": flows })))
}

/// The history, or `None` when the lab has none yet (never created here).
fn history(lab_dir: &FsPath) -> Result<Option<History>, AppError> {
    if !lab_dir.join(HISTORY_FILE).exists() {
        return Ok(None);
    }
    Ok(Some(History::open(lab_dir)?))
}

pub(crate) async fn runs(State(state): State<Arc<AppState>>) -> ApiResult {
    let dir = state.config.lab_dir.clone();
    let list = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        match history(&dir)? {
            Some(h) => Ok(h.list(RUNS_LISTED)?),
            None => Ok(Vec::new()),
        }
    })
    .await
    .map_err(|e| AppError::upstream(e.to_string()))??;
    let runs: Vec<Value> = list
        .into_iter()
        .map(|r| {
            json!({"id": r.id, "workflow": r.workflow, "status": r.status,
                   "startTime": r.start, "endTime": r.end})
        })
        .collect();
    Ok(Json(json!({ "runs": runs })))
}

pub(crate) async fn run(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::bad_request(format!(
            "'{id}' is not a run id (letters and digits, or 'latest')"
        )));
    }
    let lab_dir = state.config.lab_dir.clone();
    let flows_dir = state.config.flows_dir.clone();
    tokio::task::spawn_blocking(move || {
        let Some(history) = history(&lab_dir)? else {
            return Err(AppError::not_found(
                "no run history yet: run a flow (graphlab flow run FILE)",
            ));
        };
        let run = history.get(&id)?;
        let workflow = run["workflow"].as_str().unwrap_or_default().to_owned();
        // The drawing of the flow file whose workflow has the run's name.
        let drawn = flow_files(&flows_dir)?.into_iter().find_map(|(file, loaded)| {
            loaded.ok().filter(|w| w.name == workflow).map(|w| (file, w))
        });
        let (file, svg) = match drawn {
            Some((file, w)) => {
                let options = DrawOptions {
                    id_prefix: format!("run-{}", prefix(&file)),
                    ..Default::default()
                };
                let svg = draw(&w, Some(&run), &options);
                (Some(file), Some(svg))
            }
            None => (None, None),
        };
        Ok(Json(json!({ "run": run, "file": file, "svg": svg })))
    })
    .await
    .map_err(|e| AppError::upstream(e.to_string()))?
}

/// The emulator's `/_graphlab/chaos` and the admin secret, or why not.
fn chaos_target(state: &AppState) -> Result<(String, &str), AppError> {
    if !state.config.emulated {
        return Err(AppError::not_found(
            "fault injection exists only on the emulated tenant; this studio talks to \
             Microsoft's cloud",
        ));
    }
    let secret = state.config.admin_secret.as_ref().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the emulator's admin secret was not found (it is kept in the emulator's state \
             directory, LAB_DIR/tenant/admin-secret; start the emulator with graphlab tenant \
             serve)",
        )
    })?;
    Ok((
        format!("{}/_graphlab/chaos", state.config.graph_url.trim_end_matches('/')),
        secret.expose(),
    ))
}

async fn relay(response: reqwest::Response) -> ApiResult {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| AppError::upstream(format!("the emulator's answer was cut: {e}")))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(Json(body));
    }
    let message = body["error"]["message"].as_str().map_or_else(
        || format!("the emulator answered {status}"),
        |m| format!("the emulator answered {status}: {m}"),
    );
    let status =
        if status == StatusCode::BAD_REQUEST { status } else { StatusCode::BAD_GATEWAY };
    Err(AppError::new(status, message))
}

pub(crate) async fn get_faults(State(state): State<Arc<AppState>>) -> ApiResult {
    let (url, secret) = chaos_target(&state)?;
    let response =
        state.http.get(&url).bearer_auth(secret).send().await.map_err(|e| {
            AppError::upstream(format!("cannot reach the emulator at {url}: {e}"))
        })?;
    relay(response).await
}

/// Replaces the fault settings. The request must say `Content-Type:
/// application/json`, which a page on another site cannot send without a
/// CORS preflight that this server never allows.
pub(crate) async fn put_faults(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the fault settings as Content-Type: application/json",
        ));
    }
    if body.len() > MAX_FAULTS_BODY {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("fault settings are at most {MAX_FAULTS_BODY} bytes"),
        ));
    }
    if let Err(e) = serde_json::from_slice::<Value>(&body) {
        return Err(AppError::bad_request(format!(
            "the fault settings are not valid JSON: line {}, column {}: {e}",
            e.line(),
            e.column()
        )));
    }
    let (url, secret) = chaos_target(&state)?;
    let response = state
        .http
        .put(&url)
        .bearer_auth(secret)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            AppError::upstream(format!("cannot reach the emulator at {url}: {e}"))
        })?;
    relay(response).await
}
