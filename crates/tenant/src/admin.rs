//! The emulator's own routes under `/_graphlab` (not part of Graph):
//!
//! | route | what |
//! |---|---|
//! | `GET /_graphlab/health` | `{"status":"ok","tenantId":...,"unattended":USER or null}` |
//! | `GET /_graphlab/stats`, `DELETE /_graphlab/stats` | counters; reset |
//! | `GET /_graphlab/chaos`, `PUT /_graphlab/chaos`, `DELETE /_graphlab/chaos` | fault injection |
//! | `GET /_graphlab/keys` | the token-signing key as a JWKS |
//!
//! All but `health` need the admin secret, `Authorization: Bearer SECRET`: a
//! random value the emulator makes on first start and keeps, owner-only, in
//! `STATE/admin-secret` ([`crate::ADMIN_SECRET_FILE`]), or in memory for an
//! in-memory tenant ([`Tenant::admin_secret`]). Without it they answer 401,
//! over loopback too: any local user or any page a browser opens could
//! otherwise change the fault injection or read the counters.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{Tenant, chaos::ChaosConfig, error::GraphError, seed};

pub fn routes(tenant: Tenant) -> Router {
    let guarded = Router::new()
        .route("/stats", get(stats).delete(reset_stats))
        .route("/chaos", get(get_chaos).put(put_chaos).delete(clear_chaos))
        .route("/keys", get(keys))
        .route_layer(middleware::from_fn_with_state(tenant.clone(), require_secret));
    Router::new()
        .route("/health", get(health))
        .merge(guarded)
        .fallback(|| async {
            GraphError::new(StatusCode::NOT_FOUND, "NotFound", "No such emulator route.")
        })
        .layer(middleware::from_fn(crate::error::request_context))
        .with_state(tenant)
}

/// Lets a request through only with `Authorization: Bearer <admin secret>`.
async fn require_secret(
    State(tenant): State<Tenant>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim());
    match given {
        Some(secret) if same(secret.as_bytes(), tenant.admin_secret().as_bytes()) => {
            next.run(request).await
        }
        _ => GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The emulator's admin routes need its admin secret: send \
             'Authorization: Bearer' followed by the contents of the file \
             admin-secret in the emulator's state directory.",
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"graphlab-admin\"")
        .into_response(),
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
