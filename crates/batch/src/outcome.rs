//! What became of each item: exactly one [`Outcome`].

use serde::de::DeserializeOwned;
use serde_json::{Value, value::RawValue};

/// A JSON body kept as its text until asked for, so that a job of many items
/// costs no JSON trees for bodies nobody reads.
#[derive(Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// Wraps raw JSON text read from a response.
    pub fn new(raw: Box<RawValue>) -> JsonText {
        JsonText(raw)
    }

    /// Serializes a value.
    pub fn from_value(value: &Value) -> JsonText {
        JsonText(
            serde_json::value::to_raw_value(value)
                .unwrap_or_else(|_| RawValue::NULL.to_owned()),
        )
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses it.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.get())
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.0.get() == other.0.get()
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
    pub headers: Vec<(String, String)>,
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
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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
}
