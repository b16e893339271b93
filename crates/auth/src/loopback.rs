//! The loopback redirect listener for the authorization code flow: an axum
//! server on 127.0.0.1 that takes exactly one redirect, checks its `state`,
//! shows a small page and hands the code over.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{Query, State},
    response::Html,
    routing::get,
};
use tokio::sync::{Mutex, oneshot};

use crate::{AuthError, Secret};

type Reply = Result<Secret, AuthError>;

#[derive(Clone)]
struct Shared {
    state: Arc<String>,
    sender: Arc<Mutex<Option<oneshot::Sender<Reply>>>>,
}

/// A listener waiting for one redirect.
#[derive(Debug)]
pub struct Loopback {
    /// The redirect URI to register and send (`http://localhost:PORT`).
    pub redirect_uri: String,
    receiver: oneshot::Receiver<Reply>,
    stop: Option<oneshot::Sender<()>>,
}

impl Loopback {
    /// Listens on 127.0.0.1:`port` (0 for any free port) for a redirect with `state`.
    pub async fn start(port: u16, state: &str) -> Result<Loopback, AuthError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            AuthError::Config(format!(
                "cannot listen on {addr} for the sign-in redirect: {e}"
            ))
        })?;
        let port =
            listener.local_addr().map_err(|e| AuthError::Config(e.to_string()))?.port();
        let (sender, receiver) = oneshot::channel();
        let shared = Shared {
            state: Arc::new(state.to_owned()),
            sender: Arc::new(Mutex::new(Some(sender))),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let app = Router::new().fallback(get(redirected)).with_state(shared);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Loopback {
            redirect_uri: format!("http://localhost:{port}"),
            receiver,
            stop: Some(stop),
        })
    }

    /// Waits for the redirect, at most `timeout`.
    pub async fn wait(mut self, timeout: Duration) -> Result<Secret, AuthError> {
        let outcome = match tokio::time::timeout(timeout, &mut self.receiver).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(AuthError::Config("the redirect listener stopped".into())),
            Err(_) => Err(AuthError::Timeout(format!(
                "no sign-in redirect arrived within {} s",
                timeout.as_secs()
            ))),
        };
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        outcome
    }
}

async fn redirected(
    State(shared): State<Shared>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    let Some(sender) = shared.sender.lock().await.take() else {
        return page("This sign-in link was already used. You can close this window.");
    };
    let reply = if let Some(error) = query.get("error") {
        let description = query.get("error_description").cloned().unwrap_or_default();
        Err(AuthError::Declined(format!(
            "{error}: {}",
            description.lines().next().unwrap_or("")
        )))
    } else if query.get("state").map(String::as_str) != Some(shared.state.as_str()) {
        Err(AuthError::StateMismatch)
    } else if let Some(code) = query.get("code") {
        Ok(Secret::new(code.clone()))
    } else {
        Err(AuthError::Declined("the redirect carried no code".into()))
    };
    let message = match &reply {
        Ok(_) => "Signed in. You can close this window and return to graphlab.",
        Err(_) => "Sign-in did not complete. Return to graphlab for details.",
    };
    let _ = sender.send(reply);
    page(message)
}

fn page(message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><title>graphlab</title></head><body><p>{message}</p></body></html>"
    ))
}
