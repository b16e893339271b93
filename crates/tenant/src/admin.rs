//! The emulator's own routes under `/_graphlab` (not part of Graph):
//!
//! | route | what |
//! |---|---|
//! | `GET /_graphlab/health` | `{"status":"ok","tenantId":...,"unattended":USER or null}` |
//! | `GET /_graphlab/stats`, `DELETE /_graphlab/stats` | counters; reset |
//! | `GET /_graphlab/chaos`, `PUT /_graphlab/chaos`, `DELETE /_graphlab/chaos` | fault injection |
//! | `GET /_graphlab/keys` | the token-signing key as a JWKS |
//!
//! They need no token: the emulator listens on loopback only unless told otherwise.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{Tenant, chaos::ChaosConfig, error::GraphError, seed};

pub fn routes(tenant: Tenant) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/stats", get(stats).delete(reset_stats))
        .route("/chaos", get(get_chaos).put(put_chaos).delete(clear_chaos))
        .route("/keys", get(keys))
        .fallback(|| async {
            GraphError::new(StatusCode::NOT_FOUND, "NotFound", "No such emulator route.")
        })
        .layer(middleware::from_fn(crate::error::request_context))
        .with_state(tenant)
}

async fn health(State(tenant): State<Tenant>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "tenantId": tenant.tenant_id(),
        "domain": seed::TENANT_DOMAIN,
        "version": env!("CARGO_PKG_VERSION"),
        // Who signs in with no page (`--unattended`), or null when the
        // sign-in and consent pages wait for someone: tools that sign in on
        // their own (`cargo xtask setup-lab`) check it instead of waiting.
        "unattended": tenant.0.identity.unattended,
    }))
}

async fn stats(State(tenant): State<Tenant>) -> Json<Value> {
    Json(json!(tenant.stats()))
}

async fn reset_stats(State(tenant): State<Tenant>) -> StatusCode {
    tenant.reset_stats();
    StatusCode::NO_CONTENT
}

async fn get_chaos(State(tenant): State<Tenant>) -> Json<Value> {
    Json(json!(tenant.chaos()))
}

async fn put_chaos(State(tenant): State<Tenant>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match ChaosConfig::from_json(&text) {
        Ok(config) => {
            tenant.set_chaos(config.clone());
            Json(json!(config)).into_response()
        }
        Err(e) => GraphError::bad_request(format!("Invalid chaos configuration: {e}"))
            .into_response(),
    }
}

async fn clear_chaos(State(tenant): State<Tenant>) -> StatusCode {
    tenant.set_chaos(ChaosConfig::default());
    StatusCode::NO_CONTENT
}

async fn keys(State(tenant): State<Tenant>) -> Json<Value> {
    Json(json!({ "keys": [tenant.signing_key().jwk()] }))
}
