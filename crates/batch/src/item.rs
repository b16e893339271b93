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

/// How long an item's `retryWhile` statuses are retried when its
/// `retryFor` does not say.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(60);
/// The longest `retryFor` accepted.
pub const MAX_RETRY_FOR: Duration = Duration::from_secs(3600);

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
    /// Besides Graph's properties, `retryWhile` (statuses, e.g. `[404]`) and
    /// `retryFor` (seconds, default 60) map to [`BatchItem::retry_while`];
    /// they stay on this side and are not sent.
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
        let statuses = match obj.get("retryWhile") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => Some(
                list.iter()
                    .map(|v| {
                        v.as_u64()
                            .filter(|s| (400..=599).contains(s))
                            .map(|s| s as u16)
                            .ok_or_else(|| {
                                at_id(format!(
                                    "'retryWhile' entries must be HTTP error statuses (400-599), found {v}"
                                ))
                            })
                    })
                    .collect::<Result<Vec<u16>, _>>()?,
            ),
            Some(_) => {
                return Err(at_id(
                    "'retryWhile' must be an array of statuses, such as [404]".into(),
                ));
            }
        };
        let within = match obj.get("retryFor") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_f64()
                    .filter(|s| *s > 0.0 && *s <= MAX_RETRY_FOR.as_secs_f64())
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        at_id(format!(
                            "'retryFor' must be a number of seconds, more than 0 and at most {}, found {v}",
                            MAX_RETRY_FOR.as_secs()
                        ))
                    })?,
            ),
        };
        match (statuses, within) {
            (Some(statuses), within) => {
                item = item.retry_while(&statuses, within.unwrap_or(DEFAULT_RETRY_FOR));
            }
            (None, Some(_)) => {
                return Err(at_id(
                    "'retryFor' without 'retryWhile': say which statuses to retry, such as [404]"
                        .into(),
                ));
            }
            (None, None) => {}
        }
        Ok(item)
    }
}

/// Reads the lab's format (`{"requests":[...]}`) or JSON lines (one item per
/// line). Errors name the file, the line and the item.
pub fn parse_items(text: &str, file: &str) -> Result<Vec<BatchItem>, BatchError> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !starts_json_lines(first) {
        return parse_document(text, file);
    }
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(item) = parse_line(line, file, n + 1)? {
            items.push(item);
        }
    }
    Ok(items)
}

/// Whether input whose first non-blank line is `line` is JSON lines: the
/// line is a whole JSON object with an item's properties. Anything else is
/// read as one document, `{"requests":[...]}`.
pub fn starts_json_lines(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|v| {
        v.as_object().is_some_and(|o| {
            ["id", "method", "url"].iter().any(|k| o.contains_key(*k))
                && !o.contains_key("requests")
        })
    })
}

/// Reads `{"requests":[...]}`, the body of a `$batch` call.
pub fn parse_document(text: &str, file: &str) -> Result<Vec<BatchItem>, BatchError> {
    let value: Value = serde_json::from_str(text).map_err(|e| BatchError::Input {
        at: format!("{file}:{}:{}", e.line(), e.column()),
        message: format!("not valid JSON: {}", json_reason(&e)),
    })?;
    let bad = |message: String| BatchError::Input { at: file.to_owned(), message };
    let Some(object) = value.as_object() else {
        return Err(bad(format!(
            "expected a JSON object {{\"requests\":[...]}}, found {}",
            kind(&value)
        )));
    };
    // Graph's own words for a body without it (400 BadRequest).
    let Some(requests) = object.get("requests") else {
        let near = object.keys().find(|k| {
            k.eq_ignore_ascii_case("request") || k.eq_ignore_ascii_case("requests")
        });
        return Err(bad(match near {
            Some(key) => format!(
                "the required property 'requests' is missing (found '{key}': the name is 'requests', in lower case)"
            ),
            None => "the required property 'requests' is missing: a batch is {\"requests\":[...]}"
                .into(),
        }));
    };
    let Some(requests) = requests.as_array() else {
        return Err(bad(format!(
            "'requests' must be an array, found {}",
            kind(requests)
        )));
    };
    requests
        .iter()
        .enumerate()
        .map(|(i, v)| BatchItem::from_json(v, &format!("{file}: requests[{i}]")))
        .collect()
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
        message: format!("not valid JSON: {}", json_reason(&e)),
    })?;
    if value.get("requests").is_some() {
        return Err(BatchError::Input {
            at: format!("{file}:{number}"),
            message: "a {\"requests\":[...]} document in JSON lines: give it alone, or one item per line".into(),
        });
    }
    BatchItem::from_json(&value, &format!("{file}:{number}")).map(Some)
}

/// serde_json's message without its ` at line L column C`: the error's
/// place is said once, as `file:line:column`.
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_without_requests_is_reported_in_graphs_words() {
        let err = parse_items(
            r#"{"request": [{"id":"1","method":"GET","url":"/me"}]}"#,
            "b.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("b.json: the required property 'requests' is missing"),
            "{err}"
        );
        assert!(err.contains("'request'"), "{err}");
        let err =
            parse_items("{\n \"request\": [\n]}\n", "b.json").unwrap_err().to_string();
        assert!(err.contains("'requests' is missing"), "{err}");
    }

    #[test]
    fn a_json_lines_error_says_its_place_once() {
        let err = parse_items("{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}\n{\"id\": \"2\" \"url\"}\n", "bad.jsonl")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bad.jsonl:2:"), "{err}");
        assert!(!err.contains("line 1") && !err.contains("column"), "{err}");
    }

    #[test]
    fn retry_while_and_retry_for_map_to_the_item() {
        let item = parse_line(
            r#"{"id":"t","method":"PUT","url":"/groups/x/team","retryWhile":[404],"retryFor":90}"#,
            "j",
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(item.retry_statuses, [404]);
        assert_eq!(item.retry_for, Duration::from_secs(90));
        let item = parse_line(
            r#"{"id":"t","method":"GET","url":"/x","retryWhile":[404]}"#,
            "j",
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(item.retry_for, DEFAULT_RETRY_FOR);
        for bad in [
            r#"{"id":"t","method":"GET","url":"/x","retryWhile":404}"#,
            r#"{"id":"t","method":"GET","url":"/x","retryWhile":[200]}"#,
            r#"{"id":"t","method":"GET","url":"/x","retryWhile":[404],"retryFor":-1}"#,
            r#"{"id":"t","method":"GET","url":"/x","retryFor":5}"#,
        ] {
            let err = parse_line(bad, "j", 3).unwrap_err().to_string();
            assert!(err.starts_with("j:3 (id 't'): 'retry"), "{err}");
        }
    }
}
