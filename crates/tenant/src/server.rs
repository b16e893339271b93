//! The router (`fn app`) and a server bound to a socket (`serve`).
//!
//! Both `serve` and `serve_tls` accept connections in one loop
//! ([`spawn_server`]) on hyper-util's connection builder, with a timer, so
//! that a client that sends its headers too slowly is cut off
//! (`header_read_timeout`); the [`limits`] middleware, outermost in
//! [`app`] but for CORS (`cors.rs`, which answers preflights and must
//! mark every answer, errors included), refuses oversized URLs, header sections and bodies in Graph's
//! error shape and reads the body under a deadline.

use std::{net::SocketAddr, time::Duration};

use axum::{
    Extension, Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{StatusCode, Uri, header},
    middleware::{self, Next},
    response::Response,
    routing::post,
};
use http_body_util::BodyExt;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tokio_rustls::TlsAcceptor;

use crate::{
    Stats, Tenant, admin,
    auth::{self, ApiVersion},
    batch::{self, BatchState},
    chaos, cors,
    error::{self, GraphError},
    identity,
    limits::{self, Timeouts},
    routes,
};

/// The largest request body accepted (Graph's write limit, 4 MB).
pub const MAX_BODY_BYTES: usize = limits::MAX_BODY_BYTES;

fn version_router(tenant: &Tenant, version: ApiVersion) -> Router {
    let resources: Router = routes::routes()
        // `$batch` items come here without the outer layers: same body limit.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
        .layer(middleware::from_fn_with_state(tenant.clone(), count_requests))
        .layer(middleware::from_fn_with_state(tenant, self::limits))
        .layer(middleware::from_fn(cors::middleware))
}

/// How much of an oversized body is read and dropped before the 413.
const DRAIN_BYTES: usize = 4 * limits::MAX_BODY_BYTES;

fn close() -> header::HeaderValue {
    header::HeaderValue::from_static("close")
}

/// Middleware, outermost: the URL, header and body limits of
/// [`crate::limits`], answered in Graph's error shape; the body is read
/// here, whole, under the body-read deadline (every handler buffers its
/// body anyway), so a client that trickles it cannot hold a worker.
async fn limits(State(tenant): State<Tenant>, request: Request, next: Next) -> Response {
    let url = request.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if url > limits::MAX_URL_BYTES {
        return error::render(
            GraphError::new(
                StatusCode::URI_TOO_LONG,
                "RequestUriTooLong",
                format!(
                    "The request URL is {url} bytes long; at most {} are accepted.",
                    limits::MAX_URL_BYTES
                ),
            ),
            request.headers(),
        );
    }
    let head: usize =
        request.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum();
    if head > limits::MAX_HEADER_BYTES {
        return error::render(
            GraphError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "RequestHeaderFieldsTooLarge",
                format!(
                    "The request's headers take {head} bytes; at most {} are accepted.",
                    limits::MAX_HEADER_BYTES
                ),
            ),
            request.headers(),
        );
    }
    let too_large = |headers: &axum::http::HeaderMap| {
        let mut response = error::render(
            GraphError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "Maximum request length exceeded: the request body is over 4 MB.",
            ),
            headers,
        );
        // What is left of the body is not a request: close after answering.
        response.headers_mut().insert(header::CONNECTION, close());
        response
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
        return too_large(request.headers());
    }
    let (parts, mut body) = request.into_parts();
    let deadline = tenant.0.timeouts.body_read;
    // Read the body whole; past the limit, keep reading (and dropping) up to
    // DRAIN_BYTES, so that a client still sending gets to read the 413.
    let mut bytes = Vec::new();
    let mut total = 0usize;
    let read = async {
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else { continue };
            total += data.len();
            if total <= limits::MAX_BODY_BYTES {
                bytes.extend_from_slice(&data);
            } else if total > DRAIN_BYTES {
                break;
            }
        }
        Ok::<(), axum::Error>(())
    };
    let outcome = tokio::time::timeout(deadline, read).await;
    match outcome {
        Ok(Ok(())) if total > limits::MAX_BODY_BYTES => return too_large(&parts.headers),
        Ok(Ok(())) => {}
        Ok(Err(_)) => {
            return error::render(
                GraphError::bad_request("The request body could not be read."),
                &parts.headers,
            );
        }
        Err(_) => {
            let mut response = error::render(
                GraphError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "RequestTimeout",
                    format!(
                        "The request body was not received within {} seconds.",
                        deadline.as_secs_f64()
                    ),
                ),
                &parts.headers,
            );
            // The rest of the body may still come: do not read it as a request.
            response.headers_mut().insert(header::CONNECTION, close());
            return response;
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
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

/// Binds `addr` and serves the tenant over HTTP in a background task.
pub async fn serve(tenant: Tenant, addr: SocketAddr) -> std::io::Result<RunningTenant> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let timeouts = tenant.0.timeouts;
    let task = spawn_server(listener, app(tenant), None, timeouts, rx);
    Ok(RunningTenant {
        base_url: format!("http://{local_addr}"),
        local_addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Opens a tenant with `config` and serves it over HTTP on `127.0.0.1`, at
/// a port the system chooses (its URL is [`RunningTenant::base_url`]): the
/// emulator a test or a benchmark starts in-process.
pub async fn serve_loopback(
    config: &crate::TenantConfig,
) -> Result<(Tenant, RunningTenant), crate::TenantError> {
    let tenant = Tenant::open(config)?;
    let running = serve(tenant.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(crate::TenantError::Serve)?;
    Ok((tenant, running))
}

/// Accepts connections until `stop` fires, each served by hyper-util with
/// the read timeouts of `timeouts` (and TLS first when `tls` is given);
/// then waits up to 5 s for requests in flight.
pub(crate) fn spawn_server(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
    mut stop: oneshot::Receiver<()>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        // One protocol per connection, chosen up front (ALPN under TLS,
        // HTTP/1.1 in clear), so that hyper reads the request head at once
        // and its header timeout runs from the first byte awaited: a
        // connection that sends nothing is closed too.
        let mut h1 = auto::Builder::new(TokioExecutor::new()).http1_only();
        h1.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read)
            .max_buf_size(limits::HYPER_MAX_BUF_BYTES);
        let mut h2 = auto::Builder::new(TokioExecutor::new()).http2_only();
        h2.http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(Duration::from_secs(30)))
            .max_header_list_size(
                (limits::MAX_URL_BYTES + limits::MAX_HEADER_BYTES) as u32,
            );
        let (h1, h2) = (std::sync::Arc::new(h1), std::sync::Arc::new(h2));
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(e) => {
                            // Out of file descriptors, say: wait, do not spin.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(router.clone());
                    let watcher = graceful.watcher();
                    let tls = tls.clone();
                    let (h1, h2) = (h1.clone(), h2.clone());
                    tokio::spawn(async move {
                        match tls {
                            None => {
                                let connection =
                                    h1.serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(connection.into_owned()).await;
                            }
                            Some(acceptor) => {
                                let handshake = tokio::time::timeout(
                                    timeouts.tls_handshake,
                                    acceptor.accept(stream),
                                );
                                let Ok(Ok(stream)) = handshake.await else { return };
                                let http2 = stream.get_ref().1.alpn_protocol() == Some(&b"h2"[..]);
                                let builder = if http2 { h2 } else { h1 };
                                let connection =
                                    builder.serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(connection.into_owned()).await;
                            }
                        }
                    });
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
        Ok(())
    })
}
