//! What a run produced: its status, its trigger, and a record for every
//! action (and every `Foreach`/`Until` iteration), with each attempt of an
//! HTTP or connector action — the shape Logic Apps' run history shows.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::definition::Status;

/// One run of a workflow.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run id (Logic Apps' form: 29 digits and letters).
    pub id: String,
    /// The workflow's name.
    pub workflow: String,
    /// The run's status.
    pub status: Status,
    /// When it started.
    pub start: OffsetDateTime,
    /// When it ended.
    pub end: OffsetDateTime,
    /// The trigger's record.
    pub trigger: Value,
    /// The top-level actions, by name.
    pub actions: BTreeMap<String, ActionRecord>,
    /// The run's error: a `Terminate`'s `runError`, or the first unhandled
    /// failure.
    pub error: Option<Value>,
    /// The definition's `outputs`, evaluated.
    pub outputs: Value,
}

/// One action's record.
#[derive(Debug, Clone)]
pub struct ActionRecord {
    /// `Compose`, `OpenApiConnection`, ...
    pub type_name: String,
    /// Its status.
    pub status: Status,
    /// When it started (its skip time, for a skipped action).
    pub start: OffsetDateTime,
    /// When it ended.
    pub end: OffsetDateTime,
    /// Evaluated inputs (redacted: no `Authorization`, no secure data).
    pub inputs: Option<Value>,
    /// Outputs (redacted likewise).
    pub outputs: Option<Value>,
    /// `{"code", "message"}` when it failed or was skipped.
    pub error: Option<Value>,
    /// The status code's name for HTTP-like actions (`OK`, `NotFound`), or
    /// `ActionFailed`, `ActionSkipped`, ...
    pub code: Option<String>,
    /// Each attempt of an HTTP or connector action.
    pub attempts: Vec<Attempt>,
    /// Nested actions (`Scope`, `If`, `Switch`), by name.
    pub actions: BTreeMap<String, ActionRecord>,
    /// Iterations (`Foreach`, `Until`).
    pub repetitions: Vec<Repetition>,
}

/// One attempt of a request.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it was sent.
    pub start: OffsetDateTime,
    /// When its answer (or failure) came.
    pub end: OffsetDateTime,
    /// The answer's status, if one came.
    pub status_code: Option<u16>,
    /// Why no answer came, or why it is retried.
    pub error: Option<String>,
}

/// One iteration of a loop.
#[derive(Debug, Clone)]
pub struct Repetition {
    /// Its index.
    pub index: usize,
    /// Its status (the status its actions give, as for a scope).
    pub status: Status,
    /// The item (`Foreach`).
    pub item: Option<Value>,
    /// The iteration's actions.
    pub actions: BTreeMap<String, ActionRecord>,
}

/// RFC 3339 with the precision Logic Apps prints.
pub fn timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl ActionRecord {
    /// The record as JSON: `{"type", "status", "startTime", "endTime",
    /// "inputs", "outputs", "error", "code", "attempts", "actions",
    /// "repetitions"}` (empty parts left out).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!(self.type_name));
        o.insert("status".into(), json!(self.status.as_str()));
        o.insert("startTime".into(), json!(timestamp(self.start)));
        o.insert("endTime".into(), json!(timestamp(self.end)));
        if let Some(code) = &self.code {
            o.insert("code".into(), json!(code));
        }
        for (key, value) in
            [("inputs", &self.inputs), ("outputs", &self.outputs), ("error", &self.error)]
        {
            if let Some(v) = value {
                o.insert(key.into(), v.clone());
            }
        }
        if !self.attempts.is_empty() {
            let attempts: Vec<Value> = self
                .attempts
                .iter()
                .map(|a| {
                    json!({
                        "startTime": timestamp(a.start),
                        "endTime": timestamp(a.end),
                        "statusCode": a.status_code,
                        "error": a.error,
                    })
                })
                .collect();
            o.insert("attempts".into(), Value::Array(attempts));
        }
        if !self.actions.is_empty() {
            o.insert("actions".into(), actions_json(&self.actions));
        }
        if !self.repetitions.is_empty() {
            let reps: Vec<Value> = self
                .repetitions
                .iter()
                .map(|r| {
                    let mut rep = json!({
                        "index": r.index,
                        "status": r.status.as_str(),
                        "actions": actions_json(&r.actions),
                    });
                    if let Some(item) = &r.item {
                        rep["item"] = item.clone();
                    }
                    rep
                })
                .collect();
            o.insert("repetitions".into(), Value::Array(reps));
        }
        Value::Object(o)
    }
}

/// `{NAME: record}`.
pub fn actions_json(actions: &BTreeMap<String, ActionRecord>) -> Value {
    Value::Object(actions.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

impl Run {
    /// The run as one JSON document: `{"id", "workflow", "status",
    /// "startTime", "endTime", "trigger", "actions", "error", "outputs"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "workflow": self.workflow,
            "status": self.status.as_str(),
            "startTime": timestamp(self.start),
            "endTime": timestamp(self.end),
            "trigger": self.trigger,
            "actions": actions_json(&self.actions),
            "error": self.error,
            "outputs": self.outputs,
        })
    }
}

/// Header names whose values never leave the engine.
const SECRET_HEADERS: &[&str] =
    &["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// What is shown instead of secured or secret content (Logic Apps' words).
pub const HIDDEN: &str = "Content not shown due to security configuration.";

/// Removes what must never be stored or printed: `Authorization`-like
/// headers anywhere in the value, `authentication` objects, and any string
/// that carries a bearer token.
pub fn redact(value: &mut Value) {
    redact_at(value, 0);
}

fn redact_at(value: &mut Value, depth: usize) {
    if depth > 256 {
        *value = Value::String(HIDDEN.to_owned());
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                if SECRET_HEADERS.contains(&lower.as_str())
                    || lower == "authentication"
                    || lower == "access_token"
                    || lower == "refresh_token"
                    || lower == "client_secret"
                {
                    *v = Value::String(HIDDEN.to_owned());
                } else {
                    redact_at(v, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_at(v, depth + 1)),
        Value::String(s) if looks_like_token(s) => *s = HIDDEN.to_owned(),
        _ => {}
    }
}

/// `Bearer ...`, or a JWT (three base64url parts, the first a JSON header).
fn looks_like_token(s: &str) -> bool {
    let t = s.trim();
    if t.len() > 7 && t[..7].eq_ignore_ascii_case("bearer ") {
        return true;
    }
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| {
            p.len() >= 8
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_headers_authentication_and_tokens() {
        let mut v = json!({
            "headers": {"Authorization": "Bearer abc", "Content-Type": "application/json"},
            "authentication": {"type": "Raw", "value": "xyz"},
            "body": ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2ln", "plain"],
        });
        redact(&mut v);
        assert_eq!(v["headers"]["Authorization"], HIDDEN);
        assert_eq!(v["headers"]["Content-Type"], "application/json");
        assert_eq!(v["authentication"], HIDDEN);
        assert_eq!(v["body"][0], HIDDEN);
        assert_eq!(v["body"][1], "plain");
    }
}
