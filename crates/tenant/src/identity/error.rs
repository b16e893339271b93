//! The identity platform's error shape:
//! `{"error","error_description","error_codes","timestamp","trace_id","correlation_id","error_uri"}`,
//! with the `AADSTS` code at the start of the description.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An OAuth error as Microsoft Entra ID returns it.
#[derive(Debug, Clone)]
pub struct AadError {
    /// HTTP status (400 for most token-endpoint errors, 401 for bad client credentials).
    pub status: StatusCode,
    /// The OAuth `error` (e.g. `invalid_grant`).
    pub error: &'static str,
    /// The `AADSTS` number.
    pub code: u32,
    /// The description, without the `AADSTS...:` prefix or the trace lines.
    pub message: String,
}

impl AadError {
    /// A new error.
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        message: impl Into<String>,
    ) -> Self {
        AadError { status, error, code, message: message.into() }
    }

    /// 400 with `error`.
    pub fn bad(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        AadError::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    /// AADSTS900144: a required parameter is missing.
    pub fn missing(parameter: &str) -> Self {
        AadError::bad(
            "invalid_request",
            900144,
            format!(
                "The request body must contain the following parameter: '{parameter}'."
            ),
        )
    }

    /// AADSTS700016: no such application in the directory.
    pub fn unknown_client(client_id: &str, tenant: &str) -> Self {
        AadError::bad(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 '{tenant}'. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant."
            ),
        )
    }

    /// The description as Entra writes it: `AADSTS{code}: {message}` plus trace lines.
    pub fn description(
        &self,
        trace_id: &str,
        correlation_id: &str,
        timestamp: &str,
    ) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        )
    }

    /// The short form used in redirects: `AADSTS{code}: {message}`.
    pub fn short(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }
}

impl std::fmt::Display for AadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: AADSTS{}: {}", self.error, self.code, self.message)
    }
}

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let correlation_id = uuid::Uuid::new_v4().to_string();
        let timestamp = time::OffsetDateTime::now_utc();
        let stamp = crate::error::graph_date(timestamp) + "Z";
        let body = json!({
            "error": self.error,
            "error_description": self.description(&trace_id, &correlation_id, &stamp),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert("cache-control", "no-store, no-cache".parse().expect("static"));
        response
    }
}

impl From<crate::store::StoreError> for AadError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "state database write failed");
        AadError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            90033,
            "The state database could not be written.",
        )
    }
}
