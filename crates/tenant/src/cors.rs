//! Cross-origin resource sharing, as Microsoft Graph and the identity
//! platform answer it, so that a single-page application in a browser (the
//! studio, or any SPA at another loopback origin) can call them: Graph and
//! the token, device-code and discovery endpoints accept any origin (they
//! are protected by tokens, not by cookies, so no credentials are allowed),
//! answer preflights, and expose the headers a client needs to read
//! (`request-id`, `client-request-id`, `Retry-After`, `Location`). The
//! authorization endpoint is a page the browser navigates to, not a CORS
//! endpoint; the emulator's admin routes are not open to other origins.
//!
//! Sources: Microsoft Learn, "Use the Microsoft Graph API" (CORS is supported
//! for SPAs) and "Microsoft identity platform and OAuth 2.0 authorization
//! code flow" (the SPA's token request is a cross-origin `POST`).

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Request headers a cross-origin caller may send (with the MSAL telemetry
/// headers, `x-client-*`, `x-ms-*`, `x-app-*`, echoed when asked for).
pub const ALLOWED_HEADERS: &[&str] = &[
    "Authorization",
    "Content-Type",
    "client-request-id",
    "return-client-request-id",
    "ConsistencyLevel",
    "Prefer",
    "If-Match",
    "If-None-Match",
];

/// Response headers a cross-origin caller may read.
pub const EXPOSED_HEADERS: &str = "request-id, client-request-id, x-ms-ags-diagnostic, Retry-After, Location, Content-Location, \
     Preference-Applied, ETag";

/// Methods Graph accepts cross-origin.
const GRAPH_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
/// Methods the identity endpoints accept cross-origin.
const IDENTITY_METHODS: &str = "GET, POST, OPTIONS";
/// How long a browser may cache a preflight (seconds).
pub const MAX_AGE_SECS: u32 = 3600;

/// Which endpoint family a path belongs to, if it is open to other origins.
fn methods_for(path: &str) -> Option<&'static str> {
    let graph = ["/v1.0", "/beta"]
        .iter()
        .any(|v| path == *v || path.strip_prefix(v).is_some_and(|r| r.starts_with('/')));
    if graph {
        return Some(GRAPH_METHODS);
    }
    let identity = path.ends_with("/oauth2/v2.0/token")
        || path.ends_with("/oauth2/token")
        || path.ends_with("/oauth2/v2.0/devicecode")
        || path.ends_with("/.well-known/openid-configuration")
        || path.ends_with("/discovery/v2.0/keys")
        || path.ends_with("/discovery/keys")
        || path == "/common/discovery/instance";
    identity.then_some(IDENTITY_METHODS)
}

/// A browser origin (`scheme://host[:port]`), as the `Origin` header gives it.
fn origin(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(header::ORIGIN)?;
    let text = value.to_str().ok()?;
    let (scheme, host) = text.split_once("://")?;
    let ok = matches!(scheme, "http" | "https")
        && !host.is_empty()
        && !host.contains(['/', '?', '#', ' ', ',']);
    ok.then(|| value.clone())
}

/// The headers a preflight may allow: the fixed list, and the MSAL
/// telemetry headers the browser asks for.
fn allowed_headers(headers: &HeaderMap) -> String {
    let mut allowed: Vec<String> =
        ALLOWED_HEADERS.iter().map(|h| (*h).to_owned()).collect();
    let asked = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for name in asked.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let lower = name.to_ascii_lowercase();
        let telemetry =
            ["x-client-", "x-ms-", "x-app-"].iter().any(|p| lower.starts_with(p));
        let valid = lower.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if telemetry && valid && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&lower)) {
            allowed.push(lower);
        }
    }
    allowed.join(", ")
}

/// Middleware, outermost: answers preflights and adds the CORS headers to
/// every answer (errors included, so the browser can read them).
pub(crate) async fn middleware(request: Request, next: Next) -> Response {
    let Some(methods) = methods_for(request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(origin) = origin(request.headers()) else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::OK.into_response();
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        if let Ok(v) = HeaderValue::from_str(&allowed_headers(request.headers())) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(MAX_AGE_SECS));
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}
