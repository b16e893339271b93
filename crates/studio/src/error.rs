//! Errors: [`StudioError`] for starting the server, [`AppError`] for the
//! JSON API's answers (`{"error": {"code", "message"}}` with a status).

use std::net::SocketAddr;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Why the studio could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("the studio stopped: {0}")]
    Serve(String),
}

/// An API error: a status and a message, rendered as JSON. Every handler
/// fails through this one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people (never a secret).
    pub message: String,
}

impl AppError {
    /// An error with a status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError { status, message: message.into() }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, message)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 502: the emulator or the run history failed.
    pub fn upstream(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_GATEWAY, message)
    }

    /// The response, now (for middleware).
    pub fn into_response_now(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.status.canonical_reason().unwrap_or("Error").replace(' ', "");
        (self.status, Json(json!({"error": {"code": code, "message": self.message}})))
            .into_response()
    }
}

impl From<graphlab_flow::history::HistoryError> for AppError {
    fn from(e: graphlab_flow::history::HistoryError) -> AppError {
        use graphlab_flow::history::HistoryError as H;
        match e {
            H::NotFound(_) => AppError::not_found(e.to_string()),
            H::Ambiguous(_) => AppError::bad_request(e.to_string()),
            other => AppError::upstream(other.to_string()),
        }
    }
}
