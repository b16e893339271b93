//! What became of each item: exactly one [`Outcome`].
//!
//! An answer's body and headers are kept as slices of the `$batch` answer's
//! text, shared by every item of the page: a job of many items costs no copy
//! and no JSON tree for what nobody reads, and the headers are parsed the
//! first time they are asked for.

use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::{Value, json, value::RawValue};

/// A part of an answer's text, shared with the rest of the answer.
#[derive(Clone)]
pub(crate) struct Shared {
    text: Arc<String>,
    start: usize,
    end: usize,
}

impl Shared {
    /// `part`, which should be a slice of `text` (it is copied otherwise).
    pub(crate) fn within(text: &Arc<String>, part: &str) -> Shared {
        // A `str` whose bytes lie inside `text`'s is a slice of it (two
        // allocations do not overlap), on character boundaries: comparing
        // addresses is enough, no need to compare the bytes.
        let base = text.as_ptr() as usize;
        match (part.as_ptr() as usize).checked_sub(base) {
            Some(start) if start + part.len() <= text.len() => {
                Shared { text: Arc::clone(text), start, end: start + part.len() }
            }
            _ => Shared::copy(part),
        }
    }

    /// A text of its own.
    pub(crate) fn copy(part: &str) -> Shared {
        Shared { text: Arc::new(part.to_owned()), start: 0, end: part.len() }
    }

    pub(crate) fn as_str(&self) -> &str {
        // `start..end` was checked to be a slice of `text` when made.
        &self.text[self.start..self.end]
    }
}

/// A JSON body kept as its text (a slice of the `$batch` answer, shared)
/// until asked for, so that a job of many items costs no JSON trees and no
/// copies for bodies nobody reads. The answer's text lives as long as any
/// body or headers read from it (about 12 KB for 20 answers of a user).
#[derive(Clone)]
pub struct JsonText(Shared);

impl JsonText {
    /// Copies raw JSON text.
    pub fn new(raw: &RawValue) -> JsonText {
        JsonText(Shared::copy(raw.get()))
    }

    /// A slice of a page's text.
    pub(crate) fn shared(part: Shared) -> JsonText {
        JsonText(part)
    }

    /// Serializes a value.
    pub fn from_value(value: &Value) -> JsonText {
        JsonText(Shared::copy(&value.to_string()))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.as_str()
    }

    /// Parses it.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.get()).unwrap_or(Value::Null)
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.get() == other.get()
    }
}

/// An answer's headers: names and values, looked up without regard to case.
/// Read from the answer's text the first time they are asked for.
#[derive(Clone, Default)]
pub struct Headers {
    raw: Option<Shared>,
    pairs: OnceLock<Vec<(String, String)>>,
}

impl Headers {
    /// Headers from name/value pairs.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Headers {
        Headers { raw: None, pairs: OnceLock::from(pairs) }
    }

    /// The `headers` object of an answer, read when first asked for.
    pub(crate) fn raw(raw: Shared) -> Headers {
        Headers { raw: Some(raw), pairs: OnceLock::new() }
    }

    /// Every header, in the order Graph sent them.
    pub fn pairs(&self) -> &[(String, String)] {
        self.pairs.get_or_init(|| match &self.raw {
            Some(raw) => read_pairs(raw.as_str()),
            None => Vec::new(),
        })
    }

    /// A header's value, by name without regard to case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Names and values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs().iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }
}

/// The pairs of a `headers` object, in order (a value that is not a string,
/// which Graph does not send, keeps its JSON text; anything but an object
/// is no headers).
fn read_pairs(text: &str) -> Vec<(String, String)> {
    struct Pairs;
    impl<'de> serde::de::Visitor<'de> for Pairs {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of headers")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some(name) = map.next_key::<String>()? {
                let value = match map.next_value::<Value>()? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                pairs.push((name, value));
            }
            Ok(pairs)
        }
    }
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Pairs).unwrap_or_default()
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.pairs() == other.pairs()
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(pairs: Vec<(String, String)>) -> Headers {
        Headers::from_pairs(pairs)
    }
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(JsonText),
    /// Bytes (sent base64 by Graph), decoded.
    Bytes(Vec<u8>),
}

/// An item's response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Headers,
    /// Body.
    pub body: ResponseBody,
    /// How many times the item was sent.
    pub attempts: u32,
}

impl Response {
    /// The JSON body, parsed, if any.
    pub fn body_json(&self) -> Option<Value> {
        match &self.body {
            ResponseBody::Json(v) => Some(v.to_value()),
            _ => None,
        }
    }

    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.body {
            ResponseBody::Json(v) => serde_json::from_str(v.get()),
            ResponseBody::Bytes(b) => serde_json::from_slice(b),
            ResponseBody::Empty => serde_json::from_value(Value::Null),
        }
    }

    /// A header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Graph's error (`code`, `message`) from the body, if it is one.
    pub fn graph_error(&self) -> Option<(String, String)> {
        let body = self.body_json()?;
        let e = body.get("error")?;
        Some((
            e["code"].as_str()?.to_owned(),
            e["message"].as_str().unwrap_or("").to_owned(),
        ))
    }
}

/// The single, final outcome of an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 1xx–3xx.
    Success(Response),
    /// 4xx/5xx that is not retried (or not any more: see `GaveUp`).
    HttpError(Response),
    /// Not sent, or answered 424, because an item it depends on failed.
    FailedDependency {
        /// The id of the failed dependency.
        on: String,
    },
    /// Retried `attempts` times; the last answer is kept.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// Why the last attempt failed.
        last: String,
    },
    /// Never sent (a reference had no value, the job was cancelled, ...).
    NotSent {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Whether the item succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Success(r) | Outcome::HttpError(r) => Some(r.status),
            Outcome::FailedDependency { .. } => Some(424),
            _ => None,
        }
    }

    /// A short label: the status, or the kind of failure.
    pub fn label(&self) -> String {
        match self {
            Outcome::Success(r) | Outcome::HttpError(r) => r.status.to_string(),
            Outcome::FailedDependency { .. } => "424".into(),
            Outcome::GaveUp { .. } => "gave up".into(),
            Outcome::NotSent { .. } => "not sent".into(),
        }
    }

    /// One line describing it.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Success(r) => {
                format!("{} after {} attempt(s)", r.status, r.attempts)
            }
            Outcome::HttpError(r) => match r.graph_error() {
                Some((code, message)) => format!("{} {code}: {message}", r.status),
                None => format!("{}", r.status),
            },
            Outcome::FailedDependency { on } => format!("424: dependency '{on}' failed"),
            Outcome::GaveUp { attempts, last } => {
                format!("gave up after {attempts} attempts: {last}")
            }
            Outcome::NotSent { reason } => format!("not sent: {reason}"),
        }
    }

    /// The outcome of item `id` as one JSON object, as `graphlab batch run
    /// --json` prints it: `{"id", "status", "attempts", "ok", "body"}` when
    /// there was an answer (a binary body as `{"bytes": N}`), else `{"id",
    /// "status", "ok": false, "error"}`.
    pub fn to_json(&self, id: &str) -> Value {
        match self {
            Outcome::Success(r) | Outcome::HttpError(r) => {
                let body = match &r.body {
                    ResponseBody::Json(v) => v.to_value(),
                    ResponseBody::Bytes(b) => json!({ "bytes": b.len() }),
                    ResponseBody::Empty => Value::Null,
                };
                json!({"id": id, "status": r.status, "attempts": r.attempts,
                       "ok": self.is_success(), "body": body})
            }
            other => {
                json!({"id": id, "status": other.status(), "ok": false,
                       "error": other.describe()})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_of_the_text_is_shared_and_anything_else_copied() {
        let text = Arc::new(r#"{"id":"é1","body":{}}"#.to_owned());
        let inside = Shared::within(&text, &text[7..10]);
        assert_eq!(inside.as_str(), "é1");
        assert!(Arc::ptr_eq(&inside.text, &text), "no copy");
        let elsewhere = "é1".to_owned();
        let outside = Shared::within(&text, &elsewhere);
        assert_eq!(outside.as_str(), "é1");
        assert!(!Arc::ptr_eq(&outside.text, &text));
        // Lazily read headers, compared by what they hold.
        let raw = Arc::new(r#"{"Location":"/x","Retry-After":"2"}"#.to_owned());
        let headers = Headers::raw(Shared::within(&raw, raw.as_str()));
        assert_eq!(headers.get("retry-after"), Some("2"));
        let pairs =
            vec![("Location".into(), "/x".into()), ("Retry-After".into(), "2".into())];
        assert_eq!(headers, Headers::from_pairs(pairs));
        assert_eq!(format!("{headers:?}"), r#"{"Location": "/x", "Retry-After": "2"}"#);
    }
}
