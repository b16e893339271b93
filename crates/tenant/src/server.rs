//! The router (`fn app`) and a server bound to a socket (`serve`).

use std::{net::SocketAddr, time::Duration};

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::Uri,
    middleware::{self, Next},
    response::Response,
    routing::post,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    Stats, Tenant, admin,
    auth::{self, ApiVersion},
    batch::{self, BatchState},
    chaos,
    error::{self, GraphError},
    identity, routes,
};

/// The largest request body accepted (Graph's limit for a batch is 4 MB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

fn version_router(tenant: &Tenant, version: ApiVersion) -> Router {
    let resources: Router = routes::routes()
        .layer(middleware::from_fn_with_state(tenant.clone(), chaos::middleware))
        .layer(middleware::from_fn_with_state(tenant.clone(), auth::authenticate))
        .layer(Extension(version))
        .layer(middleware::from_fn(error::request_context))
        .with_state(tenant.clone());
    let batch: Router = Router::new()
        .route(
            "/$batch",
            post(batch::handle).get(batch::next_page).fallback(batch::method_not_allowed),
        )
        .layer(middleware::from_fn_with_state(tenant.clone(), chaos::middleware))
        .layer(middleware::from_fn_with_state(tenant.clone(), auth::authenticate))
        .layer(Extension(version))
        .layer(middleware::from_fn(error::request_context))
        .with_state(BatchState {
            tenant: tenant.clone(),
            dispatch: resources.clone(),
            pages: Default::default(),
        });
    batch.merge(resources)
}

/// Counts Graph requests, and gives HTTP/2 requests (which carry the host in
/// `:authority`) a `Host` header, which links in bodies are built from.
async fn count_requests(
    State(tenant): State<Tenant>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.headers().contains_key(axum::http::header::HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(value) = axum::http::HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(axum::http::header::HOST, value);
    }
    if !request.uri().path().starts_with("/_graphlab") {
        Stats::bump(&tenant.0.stats.requests);
    }
    next.run(request).await
}

async fn unknown_version(uri: Uri) -> GraphError {
    let segment = uri.path().trim_start_matches('/').split('/').next().unwrap_or("");
    if segment.is_empty() {
        GraphError::bad_request(
            "Invalid version: the URL must start with /v1.0 or /beta.",
        )
    } else {
        GraphError::bad_request(format!("Invalid version: {segment}"))
    }
}

/// The emulator's router: Graph under `/v1.0` and `/beta`, the emulator's own
/// routes under `/_graphlab`. Tests may call it in-process without a socket.
pub fn app(tenant: Tenant) -> Router {
    let unknown = Router::new()
        .fallback(unknown_version)
        .layer(middleware::from_fn(error::request_context));
    Router::new()
        .nest("/v1.0", version_router(&tenant, ApiVersion::V1))
        .nest("/beta", version_router(&tenant, ApiVersion::Beta))
        .nest("/_graphlab", admin::routes(tenant.clone()))
        .merge(identity::routes(tenant.clone()))
        .fallback_service(unknown)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(tenant, count_requests))
}

/// A tenant served on a socket.
#[derive(Debug)]
pub struct RunningTenant {
    base_url: String,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningTenant {
    pub(crate) fn new(
        base_url: String,
        local_addr: SocketAddr,
        shutdown: oneshot::Sender<()>,
        task: JoinHandle<std::io::Result<()>>,
    ) -> RunningTenant {
        RunningTenant { base_url, local_addr, shutdown: Some(shutdown), task: Some(task) }
    }

    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT` with TLS), for
    /// both identity and Graph.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and waits (up to 5 s) for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Waits until the server stops (after [`RunningTenant::shutdown`] from
    /// another handle, or an I/O failure).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }

    /// Splits off the shutdown trigger (e.g. for a Ctrl-C handler).
    pub fn take_shutdown(&mut self) -> Option<oneshot::Sender<()>> {
        self.shutdown.take()
    }
}

impl Drop for RunningTenant {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` and serves the tenant in a background task.
pub async fn serve(tenant: Tenant, addr: SocketAddr) -> std::io::Result<RunningTenant> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let router = app(tenant);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningTenant {
        base_url: format!("http://{local_addr}"),
        local_addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}
