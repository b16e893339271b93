//! `graphlab studio`: the lab in a browser, served on loopback.
//!
//! A batch explorer in the manner of Graph Explorer (step 5), the tenant's
//! contents (steps 6 and 7), the lab's flows drawn with their runs, and the
//! emulator's fault settings. The page signs in as a single-page
//! application (authorization code flow with PKCE) against the target's
//! identity platform and calls Graph itself, cross-origin; this server only
//! serves the page's files (embedded: the studio works offline) and a small
//! JSON API of what the browser cannot reach by itself:
//!
//! | route | what |
//! | --- | --- |
//! | `GET /api/config` | Graph URL, authority URL, tenant, the SPA client id, target kind |
//! | `GET /api/flows` | the lab's flow files and their drawings (SVG) |
//! | `GET /api/runs` | the run history, newest first |
//! | `GET /api/runs/{id}` | one run and its drawing with the run laid over |
//! | `GET`/`PUT /api/faults` | the emulator's fault settings (its admin route, with the admin secret, which never reaches the browser) |
//!
//! Architecture invariant: the studio never imports the emulator; it talks
//! to Graph, the identity platform and the emulator's admin route over HTTP.
//! It listens on 127.0.0.1 only and answers only requests addressed to it by
//! that name or `localhost` (no DNS rebinding).
#![deny(missing_docs)]

mod api;
mod assets;
mod error;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::Response,
    routing::get,
};
use graphlab_auth::Secret;
use graphlab_lab::Resolved;

pub use error::{AppError, StudioError};

/// What the studio serves and talks to.
#[derive(Debug, Clone)]
pub struct StudioConfig {
    /// Graph's base URL (`https://graph.microsoft.com` or the emulator's).
    pub graph_url: String,
    /// The identity platform's base URL.
    pub authority_url: String,
    /// The tenant segment of the authority (`organizations`, a tenant id).
    pub tenant: String,
    /// The single-page application's client id the page signs in with.
    pub client_id: String,
    /// Whether the target is an emulator (fault settings exist only there).
    pub emulated: bool,
    /// The lab directory (the run history, `flow-runs.db`).
    pub lab_dir: PathBuf,
    /// Where the lab's flow definitions are (`lab-steps/flows`).
    pub flows_dir: PathBuf,
    /// The emulator's admin secret, for `/api/faults` (never sent to the
    /// browser).
    pub admin_secret: Option<Secret>,
}

impl StudioConfig {
    /// The configuration for a target resolved by `graphlab-lab`.
    pub fn for_target(
        resolved: &Resolved,
        client_id: &str,
        lab_dir: PathBuf,
        flows_dir: PathBuf,
    ) -> StudioConfig {
        StudioConfig {
            graph_url: resolved.target.graph.clone(),
            authority_url: resolved.target.authority.clone(),
            tenant: resolved.target.tenant.clone(),
            client_id: client_id.to_owned(),
            emulated: resolved.is_emulated(),
            lab_dir,
            flows_dir,
            admin_secret: None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: StudioConfig,
    pub(crate) http: reqwest::Client,
    /// The port it listens on (for the `Host` check); 0 in-process.
    pub(crate) port: u16,
}

/// The studio's router, for in-process use (no `Host` check).
pub fn app(config: StudioConfig) -> Result<Router, StudioError> {
    Ok(router(Arc::new(AppState { config, http: http_client()?, port: 0 })))
}

/// The client for the emulator's admin route: the process's trust
/// (`graphlab_auth::Trust`), verification always on.
fn http_client() -> Result<reqwest::Client, StudioError> {
    graphlab_auth::Trust::installed()
        .client_builder()
        .build()
        .map_err(|e| StudioError::Serve(format!("cannot build the HTTP client: {e}")))
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .route("/api/config", get(api::config))
        .route("/api/flows", get(api::flows))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/faults", get(api::get_faults).put(api::put_faults))
        .fallback(|| async { AppError::not_found("no such page or API route") })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Answers only requests addressed to this server by its loopback name
/// (a page on another site cannot reach it through DNS rebinding), and adds
/// the security headers: the page may load only its own files and talk only
/// to itself, Graph and the identity platform.
async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.port != 0 {
        let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        let allowed =
            [format!("127.0.0.1:{}", state.port), format!("localhost:{}", state.port)];
        if !host.is_some_and(|h| allowed.iter().any(|a| a == h)) {
            return AppError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "the studio answers only requests to 127.0.0.1 or localhost",
            )
            .into_response_now();
        }
    }
    let mut response = next.run(request).await;
    let origin = |url: &str| {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let scheme = url.split_once("://").map_or("https", |(s, _)| s);
        format!("{scheme}://{}", rest.split('/').next().unwrap_or_default())
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {} {}; form-action 'self' {}; frame-ancestors 'none'; \
         base-uri 'none'",
        origin(&state.config.graph_url),
        origin(&state.config.authority_url),
        origin(&state.config.authority_url),
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// A studio listening on a socket.
#[derive(Debug)]
pub struct RunningStudio {
    base_url: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningStudio {
    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until the task is stopped or fails.
    pub async fn wait(mut self) -> Result<(), StudioError> {
        match self.task.take() {
            Some(task) => task.await.map_err(|e| StudioError::Serve(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for RunningStudio {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Listens on 127.0.0.1:`port` (0: any free port) and serves the studio.
pub async fn serve(
    config: StudioConfig,
    port: u16,
) -> Result<RunningStudio, StudioError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StudioError::Bind { addr, source })?;
    let bound =
        listener.local_addr().map_err(|source| StudioError::Bind { addr, source })?;
    let state = Arc::new(AppState { config, http: http_client()?, port: bound.port() });
    let app = router(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RunningStudio {
        base_url: format!("http://127.0.0.1:{}/", bound.port()),
        task: Some(task),
    })
}
