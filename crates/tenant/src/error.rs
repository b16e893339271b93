//! Graph's error shape, and the middleware that stamps every response with
//! `request-id`, echoes `client-request-id` and renders error bodies.
//!
//! Handlers return [`GraphError`]. Its `IntoResponse` only records the code and
//! message; [`request_context`] (which knows the request id) renders the body
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
//! Batch items go through the same middleware, so their bodies have the same shape.

use std::borrow::Cow;

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An error answered the way Microsoft Graph answers it.
#[derive(Debug, Clone)]
pub struct GraphError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// What [`GraphError::into_response`] leaves for the middleware to render.
#[derive(Debug, Clone)]
struct ErrorParts {
    code: Cow<'static, str>,
    message: String,
}

impl GraphError {
    /// An error with a status, a Graph error code and a message.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self { status, code: code.into(), message: message.into(), headers: Vec::new() }
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 `Request_BadRequest`, the directory's flavour of a bad request.
    pub fn directory_bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// 404 `Request_ResourceNotFound` for a directory object.
    pub fn resource_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property \
                 objects are not present."
            ),
        )
    }

    /// 400 for an id that is not a GUID where the directory wants one.
    pub fn invalid_object_id(id: &str) -> Self {
        Self::directory_bad_request(format!("Invalid object identifier '{id}'."))
    }

    /// 401 `InvalidAuthenticationToken` with a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(message: impl Into<String>, authorization_uri: &str) -> Self {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{authorization_uri}\", \
             client_id=\"00000003-0000-0000-c000-000000000000\""
        );
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
            .with_header(header::WWW_AUTHENTICATE, &challenge)
    }

    /// 403 `Authorization_RequestDenied`.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 500 `generalException`: used only where a server fault is the honest
    /// answer (the state database failed), never for bad input.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", message)
    }

    /// Adds a response header (e.g. `Retry-After`, `Cache-Control`).
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The Graph error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for GraphError {}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
            .extensions_mut()
            .insert(ErrorParts { code: self.code, message: self.message });
        response
    }
}

/// Formats a timestamp the way Graph's `innerError.date` does: `2024-05-01T10:11:12`.
pub fn graph_date(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    );
    at.format(&format).unwrap_or_default()
}

/// Middleware: assigns `request-id`, echoes `client-request-id`, renders errors.
pub async fn request_context(request: Request, next: Next) -> Response {
    let client_request_id = client_request_id(request.headers());
    let response = next.run(request).await;
    finish(response, client_request_id)
}

/// `client-request-id` as sent, if it is usable.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
}

/// Renders `error` at once, for a request refused before it reaches a
/// router (the limits): the same body and headers [`request_context`] gives.
pub fn render(error: GraphError, request_headers: &HeaderMap) -> Response {
    finish(error.into_response(), client_request_id(request_headers))
}

fn finish(mut response: Response, client_request_id: Option<String>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = client_request_id.unwrap_or_else(|| request_id.clone());
    if let Some(parts) = response.extensions_mut().remove::<ErrorParts>() {
        let body = json!({
            "error": {
                "code": parts.code,
                "message": parts.message,
                "innerError": {
                    "date": graph_date(time::OffsetDateTime::now_utc()),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        response = (status, axum::Json(body)).into_response();
        merge_headers(response.headers_mut(), headers);
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&client_request_id) {
        headers.insert("client-request-id", value);
    }
    response
}

fn merge_headers(into: &mut HeaderMap, from: HeaderMap) {
    for (name, value) in from.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            into.append(name.clone(), value.clone());
        }
    }
}
