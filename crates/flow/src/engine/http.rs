//! `Http` and connector actions: one request, sent again under the action's
//! retry policy.
//!
//! "Handle errors and exceptions in Azure Logic Apps": a request that times
//! out or is answered 408, 429 or 5xx is retried — the default policy up to
//! 4 times at exponentially growing random intervals scaled by 7.5 s and
//! bounded by 5 and 45 s — and a `Retry-After` answer is honoured. An
//! answer of 400 or more that is not retried fails the action; its outputs
//! are still the answer's `statusCode`, `headers` and `body`.
//!
//! A connector action's request goes to the engine's Graph URL: the
//! operation's path from the connector's swagger, its `body` parameter as
//! the body, signed with the connection's token.

use std::time::Duration;

use reqwest::{Method, header::HeaderMap};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{RunCtx, error, now, schedule::Outcome};
use crate::{
    definition::{Action, ConnectorStyle, RetryPolicy, Status},
    run::Attempt,
};

/// A request ready to send.
struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    /// Sign with the connection's token.
    signed: bool,
}

/// Runs an `Http` action.
pub(crate) async fn run_http(
    ctx: &RunCtx<'_>,
    action: &Action,
    inputs: Value,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let shown = Some(inputs.clone());
    let method = inputs.get("method").and_then(Value::as_str).unwrap_or("GET");
    let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
        return Outcome::failed(
            shown,
            "InvalidTemplate",
            format!("'{method}' is not an HTTP method"),
        );
    };
    let Some(uri) = inputs.get("uri").and_then(Value::as_str) else {
        return Outcome::failed(
            shown,
            "InvalidTemplate",
            "an Http action needs inputs.uri",
        );
    };
    if inputs.get("authentication").is_some_and(|a| !a.is_null()) {
        let kind =
            inputs.pointer("/authentication/type").and_then(Value::as_str).unwrap_or("");
        if !kind.eq_ignore_ascii_case("Raw") {
            return Outcome::failed(
                shown,
                "InvalidTemplate",
                format!(
                    "authentication type '{kind}' is not available locally (Raw is: its \
                     'value' becomes the Authorization header)"
                ),
            );
        }
    }
    let mut headers = string_map(inputs.get("headers"));
    if let Some(raw) = inputs.pointer("/authentication/value").and_then(Value::as_str) {
        headers.push(("Authorization".into(), raw.to_owned()));
    }
    let url = with_queries(uri, inputs.get("queries"));
    let request = Request {
        method,
        url,
        headers,
        body: inputs.get("body").cloned(),
        signed: false,
    };
    send(ctx, action, request, shown, deadline).await
}

/// Runs an `OpenApiConnection` or `ApiConnection` action.
pub(crate) async fn run_connector(
    ctx: &RunCtx<'_>,
    action: &Action,
    style: ConnectorStyle,
    host: &Value,
    inputs: Value,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let shown = Some(inputs.clone());
    let connector = match ctx.engine.connectors.for_host(host) {
        Ok(c) => c,
        Err(m) => return Outcome::failed(shown, "ConnectorNotFound", m),
    };
    let base = ctx.engine.graph_url.trim_end_matches('/');
    let request = match style {
        ConnectorStyle::OpenApi => {
            let id = host.get("operationId").and_then(Value::as_str).unwrap_or("");
            let Some(op) = connector.by_id(id) else {
                return Outcome::failed(
                    shown,
                    "OperationNotFound",
                    format!("the connector '{}' has no operation '{id}'", connector.name),
                );
            };
            let params = inputs
                .get("parameters")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut path = op.path.clone();
            let mut queries = Map::new();
            let mut headers = Vec::new();
            let mut body = None;
            for (name, at) in &op.parameters {
                let Some(value) = params.get(name) else { continue };
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match at.as_str() {
                    "path" => {
                        let encoded = percent_encoding::utf8_percent_encode(
                            &text,
                            percent_encoding::NON_ALPHANUMERIC,
                        )
                        .to_string();
                        path = path.replace(&format!("{{{name}}}"), &encoded);
                    }
                    "query" => {
                        queries.insert(name.clone(), value.clone());
                    }
                    "header" => headers.push((name.clone(), text)),
                    "body" => body = Some(value.clone()),
                    _ => {}
                }
            }
            if body.is_some() {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            let method = Method::from_bytes(op.method.as_bytes()).unwrap_or(Method::POST);
            let url =
                with_queries(&format!("{base}{path}"), Some(&Value::Object(queries)));
            Request { method, url, headers, body, signed: true }
        }
        ConnectorStyle::ApiConnection => {
            let method = inputs.get("method").and_then(Value::as_str).unwrap_or("get");
            let path = inputs.get("path").and_then(Value::as_str).unwrap_or("");
            if connector.by_route(method, path).is_none() {
                return Outcome::failed(
                    shown,
                    "OperationNotFound",
                    format!(
                        "the connector '{}' has no operation {} {path}",
                        connector.name,
                        method.to_ascii_uppercase()
                    ),
                );
            }
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            else {
                return Outcome::failed(
                    shown,
                    "InvalidTemplate",
                    format!("'{method}' is not an HTTP method"),
                );
            };
            let mut headers = string_map(inputs.get("headers"));
            let body = inputs.get("body").cloned();
            if body.is_some()
                && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            let url = with_queries(&format!("{base}{path}"), inputs.get("queries"));
            Request { method, url, headers, body, signed: true }
        }
    };
    send(ctx, action, request, shown, deadline).await
}

fn string_map(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn with_queries(url: &str, queries: Option<&Value>) -> String {
    let Some(map) = queries.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return url.to_owned();
    };
    let mut out = url.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in map {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        out.push(sep);
        out.push_str(&enc(k));
        out.push('=');
        out.push_str(&enc(&v));
        sep = '&';
    }
    out
}

/// What came back from one attempt.
enum Answer {
    Response { status: u16, headers: HeaderMap, body: Value },
    Transport(String),
}

/// 408, 429 and 5xx are retried, and a request that got no answer.
fn retryable(answer: &Answer) -> bool {
    match answer {
        Answer::Response { status, .. } => {
            *status == 408 || *status == 429 || *status >= 500
        }
        Answer::Transport(_) => true,
    }
}

async fn send(
    ctx: &RunCtx<'_>,
    action: &Action,
    request: Request,
    shown: Option<Value>,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let policy = &action.retry;
    let mut attempts = Vec::new();
    let mut refreshed = false;
    let mut retry = 0u32;
    loop {
        let start = now(ctx);
        let answer = attempt(ctx, &request, refreshed, deadline).await;
        let end = now(ctx);
        let status_code = match &answer {
            Answer::Response { status, .. } => Some(*status),
            Answer::Transport(_) => None,
        };
        let transport = match &answer {
            Answer::Transport(m) => Some(m.clone()),
            _ => None,
        };
        attempts.push(Attempt { start, end, status_code, error: transport });
        // The platform refreshes a connection's token once on 401.
        if status_code == Some(401)
            && request.signed
            && !refreshed
            && ctx.engine.token.is_some()
        {
            refreshed = true;
            continue;
        }
        if retryable(&answer) && retry < policy.count() {
            retry += 1;
            let wait = match &answer {
                Answer::Response { headers, .. } if *policy != RetryPolicy::None => {
                    retry_after(headers, now(ctx))
                }
                _ => None,
            }
            .unwrap_or_else(|| jitter(ctx, policy.wait_range(retry)));
            if let Some(deadline) = deadline
                && now(ctx) + wait > deadline
            {
                let left = deadline - now(ctx);
                if left.is_positive() {
                    ctx.engine.clock.sleep(left.unsigned_abs()).await;
                }
                let mut o = finish(answer, shown, attempts);
                o.status = Status::TimedOut;
                o.error = Some(error(
                    "ActionTimedOut",
                    "The action ran past its timeout while retrying.",
                ));
                return o;
            }
            ctx.engine.clock.sleep(wait).await;
            continue;
        }
        return finish(answer, shown, attempts);
    }
}

async fn attempt(
    ctx: &RunCtx<'_>,
    request: &Request,
    force_refresh: bool,
    deadline: Option<OffsetDateTime>,
) -> Answer {
    let mut builder = ctx.engine.http.request(request.method.clone(), &request.url);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    if request.signed {
        let Some(provider) = &ctx.engine.token else {
            return Answer::Transport(
                "no connection: give a token (GRAPHLAB_ACCESS_TOKEN), or authorize the \
                 connector (step 4) or sign in (graphlab login)"
                    .into(),
            );
        };
        match provider.access_token(force_refresh).await {
            Ok(token) => builder = builder.bearer_auth(token.expose()),
            Err(e) => {
                return Answer::Transport(format!("the connection has no token: {e}"));
            }
        }
    }
    if let Some(body) = &request.body {
        builder = match body {
            Value::String(s) => builder.body(s.clone()),
            other => builder.body(other.to_string()),
        };
    }
    if let Some(deadline) = deadline {
        let left = deadline - now(ctx);
        if left.is_positive() {
            builder = builder.timeout(left.unsigned_abs());
        }
    }
    match builder.send().await {
        Err(e) => Answer::Transport(describe(&e, &request.url)),
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let json = headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("json"));
            match response.bytes().await {
                Err(e) => Answer::Transport(describe(&e, &request.url)),
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let body = if bytes.is_empty() {
                        Value::Null
                    } else if json {
                        serde_json::from_str(&text)
                            .unwrap_or_else(|_| Value::String(text.into_owned()))
                    } else {
                        Value::String(text.into_owned())
                    };
                    Answer::Response { status, headers, body }
                }
            }
        }
    }
}

fn describe(e: &reqwest::Error, url: &str) -> String {
    let mut message = format!("no answer from {url}");
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() {
        message.push_str(": ");
        message.push_str(&last);
    }
    message
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = OffsetDateTime::from(at);
    Some((at - now).max(time::Duration::ZERO).unsigned_abs())
}

fn jitter(ctx: &RunCtx<'_>, (low, high): (Duration, Duration)) -> Duration {
    if high <= low {
        return low;
    }
    let span = (high - low).as_millis() as u64;
    let pick = ctx.rng.lock().map(|mut r| r.u64(0..=span)).unwrap_or(span / 2);
    low + Duration::from_millis(pick)
}

fn finish(answer: Answer, shown: Option<Value>, attempts: Vec<Attempt>) -> Outcome {
    match answer {
        Answer::Transport(message) => {
            let mut o = Outcome::failed(shown, "ServiceRequestFailed", message);
            o.attempts = attempts;
            o
        }
        Answer::Response { status, headers, body } => {
            let mut header_map = Map::new();
            for (k, v) in &headers {
                if let Ok(v) = v.to_str() {
                    header_map.insert(k.as_str().to_owned(), json!(v));
                }
            }
            let outputs =
                json!({"statusCode": status, "headers": header_map, "body": body});
            let code = status_name(status);
            let mut o = Outcome::succeeded(shown, Some(outputs));
            o.code = Some(code.clone());
            o.attempts = attempts;
            if status >= 400 {
                o.status = Status::Failed;
                let message = body
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        format!("The request failed with status {status} ({code}).")
                    });
                o.error = Some(error(&code, message));
            }
            o
        }
    }
}

/// `NotFound` for 404, as the run history shows a status code.
pub(crate) fn status_name(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| r.split([' ', '-']).collect::<String>())
        .unwrap_or_else(|| format!("Status{status}"))
}
