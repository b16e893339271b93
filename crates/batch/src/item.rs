//! [`BatchItem`]: one request of a batch, with a builder, and how items are
//! read from the lab's `{"requests":[...]}` format or from JSON lines.

use std::time::Duration;

use serde_json::Value;

use crate::BatchError;

/// The HTTP methods Graph accepts in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn parse(text: &str) -> Option<Method> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// A request body: JSON, or bytes sent base64-encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A JSON value (`Content-Type: application/json`).
    Json(Value),
    /// Raw bytes with their content type, sent base64-encoded.
    Bytes(Vec<u8>),
}

/// One request.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// The id, unique in the job without regard to case.
    pub id: String,
    /// The method.
    pub method: Method,
    /// The URL, relative to the version root (`/users`); may hold references.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Body>,
    /// Ids of items that must succeed first.
    pub depends_on: Vec<String>,
    /// Statuses retried until `retry_for` has passed (e.g. 404 while a new
    /// group replicates), besides 429, 503 and 504.
    pub retry_statuses: Vec<u16>,
    /// How long `retry_statuses` are retried.
    pub retry_for: Duration,
}

impl BatchItem {
    /// A new item.
    pub fn new(
        id: impl Into<String>,
        method: Method,
        url: impl Into<String>,
    ) -> BatchItem {
        BatchItem {
            id: id.into(),
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            depends_on: Vec::new(),
            retry_statuses: Vec::new(),
            retry_for: Duration::ZERO,
        }
    }

    /// `GET url`.
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> BatchItem {
        BatchItem::new(id, Method::Get, url)
    }

    /// `POST url` with a JSON body.
    pub fn post(id: impl Into<String>, url: impl Into<String>, body: Value) -> BatchItem {
        BatchItem::new(id, Method::Post, url).json(body)
    }

    /// `PUT url` with a JSON body.
    pub fn put(id: impl Into<String>, url: impl Into<String>, body: Value) -> BatchItem {
        BatchItem::new(id, Method::Put, url).json(body)
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json(mut self, body: Value) -> BatchItem {
        self.body = Some(Body::Json(body));
        self.set_header("Content-Type", "application/json")
    }

    /// Sets a binary body and its content type.
    pub fn bytes(mut self, content_type: &str, data: Vec<u8>) -> BatchItem {
        self.body = Some(Body::Bytes(data));
        self.set_header("Content-Type", content_type)
    }

    /// Adds or replaces a header.
    pub fn set_header(mut self, name: &str, value: &str) -> BatchItem {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a dependency.
    pub fn depends_on(mut self, id: impl Into<String>) -> BatchItem {
        self.depends_on.push(id.into());
        self
    }

    /// Retries `statuses` until `within` has passed since the first attempt.
    pub fn retry_while(mut self, statuses: &[u16], within: Duration) -> BatchItem {
        self.retry_statuses = statuses.to_vec();
        self.retry_for = within;
        self
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str())
    }

    /// Reads one item in the lab's JSON shape; `at` names it in errors.
    pub fn from_json(value: &Value, at: &str) -> Result<BatchItem, BatchError> {
        let bad = |what: String| BatchError::Input { at: at.to_owned(), message: what };
        let obj = value
            .as_object()
            .ok_or_else(|| bad("an item must be a JSON object".into()))?;
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(bad("'id' is missing or not a non-empty string".into())),
        };
        let at_id = |what: String| BatchError::Input {
            at: format!("{at} (id '{id}')"),
            message: what,
        };
        let method = obj
            .get("method")
            .and_then(Value::as_str)
            .and_then(Method::parse)
            .ok_or_else(|| {
                at_id("'method' must be GET, POST, PUT, PATCH or DELETE".into())
            })?;
        let url = obj
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| at_id("'url' is missing".into()))?;
        let mut item = BatchItem::new(id.clone(), method, url);
        if let Some(headers) = obj.get("headers") {
            let map = headers
                .as_object()
                .ok_or_else(|| at_id("'headers' must be an object".into()))?;
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| at_id(format!("header '{k}' must be a string")))?;
                item.headers.push((k.clone(), v.to_owned()));
            }
        }
        match obj.get("body") {
            None | Some(Value::Null) => {}
            Some(body) => {
                let json = item
                    .content_type()
                    .is_none_or(|ct| ct.to_ascii_lowercase().contains("json"));
                item.body = Some(match body {
                    Value::String(text) if !json => {
                        use base64::Engine;
                        Body::Bytes(
                            base64::engine::general_purpose::STANDARD
                                .decode(text.trim())
                                .map_err(|_| {
                                    at_id("a non-JSON body must be base64".into())
                                })?,
                        )
                    }
                    other => Body::Json(other.clone()),
                });
            }
        }
        if let Some(deps) = obj.get("dependsOn") {
            let list = deps
                .as_array()
                .ok_or_else(|| at_id("'dependsOn' must be an array".into()))?;
            for d in list {
                match d {
                    Value::String(s) => item.depends_on.push(s.clone()),
                    Value::Number(n) => item.depends_on.push(n.to_string()),
                    _ => return Err(at_id("'dependsOn' entries must be ids".into())),
                }
            }
        }
        Ok(item)
    }
}

/// Reads the lab's format (`{"requests":[...]}`) or JSON lines (one item per
/// line). Errors name the file, the line and the item.
pub fn parse_items(text: &str, file: &str) -> Result<Vec<BatchItem>, BatchError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') && !looks_like_lines(text) {
        let value: Value = serde_json::from_str(text).map_err(|e| BatchError::Input {
            at: format!("{file}:{}:{}", e.line(), e.column()),
            message: format!("not valid JSON: {e}"),
        })?;
        let requests =
            value.get("requests").and_then(Value::as_array).ok_or_else(|| {
                BatchError::Input {
                    at: file.to_owned(),
                    message: "expected {\"requests\":[...]}".into(),
                }
            })?;
        return requests
            .iter()
            .enumerate()
            .map(|(i, v)| BatchItem::from_json(v, &format!("{file}: requests[{i}]")))
            .collect();
    }
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(item) = parse_line(line, file, n + 1)? {
            items.push(item);
        }
    }
    Ok(items)
}

/// One JSON line (blank lines are skipped).
pub fn parse_line(
    line: &str,
    file: &str,
    number: usize,
) -> Result<Option<BatchItem>, BatchError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(line).map_err(|e| BatchError::Input {
        at: format!("{file}:{number}:{}", e.column()),
        message: format!("not valid JSON: {e}"),
    })?;
    BatchItem::from_json(&value, &format!("{file}:{number}")).map(Some)
}

fn looks_like_lines(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    lines.next().is_some()
        && serde_json::from_str::<Value>(first).is_ok_and(|v| v.get("requests").is_none())
}
