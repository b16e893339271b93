//! What a run produced: its status, its trigger, and a record for every
//! action (and every `Foreach`/`Until` iteration), with each attempt of an
//! HTTP or connector action — the shape Logic Apps' run history shows.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;
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
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

// The documents are serialized straight from the records (the run history
// writes a 10,000-iteration run without building a `Value` tree first),
// with the keys in the order a `serde_json::Map` keeps them (sorted), so
// that `to_json` and the stored text agree.

impl Serialize for ActionRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        if !self.actions.is_empty() {
            o.serialize_entry("actions", &self.actions)?;
        }
        if !self.attempts.is_empty() {
            o.serialize_entry("attempts", &self.attempts)?;
        }
        if let Some(code) = &self.code {
            o.serialize_entry("code", code)?;
        }
        o.serialize_entry("endTime", &timestamp(self.end))?;
        for (key, value) in
            [("error", &self.error), ("inputs", &self.inputs), ("outputs", &self.outputs)]
        {
            if let Some(v) = value {
                o.serialize_entry(key, v)?;
            }
        }
        if !self.repetitions.is_empty() {
            o.serialize_entry("repetitions", &self.repetitions)?;
        }
        o.serialize_entry("startTime", &timestamp(self.start))?;
        o.serialize_entry("status", self.status.as_str())?;
        o.serialize_entry("type", &self.type_name)?;
        o.end()
    }
}

impl Serialize for Attempt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(Some(4))?;
        o.serialize_entry("endTime", &timestamp(self.end))?;
        o.serialize_entry("error", &self.error)?;
        o.serialize_entry("startTime", &timestamp(self.start))?;
        o.serialize_entry("statusCode", &self.status_code)?;
        o.end()
    }
}

impl Serialize for Repetition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("actions", &self.actions)?;
        o.serialize_entry("index", &self.index)?;
        if let Some(item) = &self.item {
            o.serialize_entry("item", item)?;
        }
        o.serialize_entry("status", self.status.as_str())?;
        o.end()
    }
}

impl Serialize for Run {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(Some(9))?;
        o.serialize_entry("actions", &self.actions)?;
        o.serialize_entry("endTime", &timestamp(self.end))?;
        o.serialize_entry("error", &self.error)?;
        o.serialize_entry("id", &self.id)?;
        o.serialize_entry("outputs", &self.outputs)?;
        o.serialize_entry("startTime", &timestamp(self.start))?;
        o.serialize_entry("status", self.status.as_str())?;
        o.serialize_entry("trigger", &self.trigger)?;
        o.serialize_entry("workflow", &self.workflow)?;
        o.end()
    }
}

/// `{NAME: record}`.
pub fn actions_json(actions: &BTreeMap<String, ActionRecord>) -> Value {
    serde_json::to_value(actions).unwrap_or(Value::Null)
}

impl Run {
    /// The run as one JSON document: `{"id", "workflow", "status",
    /// "startTime", "endTime", "trigger", "actions", "error", "outputs"}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The same document as JSON text, written without building the
    /// [`Value`] first (what the run history stores).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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
                if is_secret_key(key) {
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

/// A key whose value is hidden, whatever its case (compared in place: the
/// run history redacts every key of every value it keeps).
fn is_secret_key(key: &str) -> bool {
    SECRET_HEADERS
        .iter()
        .chain(&["authentication", "access_token", "refresh_token", "client_secret"])
        .any(|k| k.eq_ignore_ascii_case(key))
}

/// `Bearer ...`, or a JWT (three base64url parts, the first a JSON header).
fn looks_like_token(s: &str) -> bool {
    let t = s.trim();
    if t.len() > 7 && t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
        return true;
    }
    if !t.starts_with("eyJ") {
        return false;
    }
    let mut parts = 0;
    for p in t.split('.') {
        parts += 1;
        let base64url =
            p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if parts > 3 || p.len() < 8 || !base64url {
            return false;
        }
    }
    parts == 3
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The document the run history stores is the one `to_json` gives,
    /// byte for byte, with every part of a record in place.
    #[test]
    fn the_stored_text_is_the_json_document() {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1_500);
        let leaf = ActionRecord {
            type_name: "Compose".into(),
            status: Status::Succeeded,
            start: t,
            end: t,
            inputs: Some(json!({"b": 1, "a": [true]})),
            outputs: Some(json!("x")),
            error: None,
            code: Some("OK".into()),
            attempts: Vec::new(),
            actions: BTreeMap::new(),
            repetitions: Vec::new(),
        };
        let call = ActionRecord {
            type_name: "Http".into(),
            status: Status::Failed,
            error: Some(json!({"code": "Oops", "message": "m"})),
            attempts: vec![Attempt {
                start: t,
                end: t,
                status_code: Some(429),
                error: None,
            }],
            actions: BTreeMap::from([("Inner".to_owned(), leaf.clone())]),
            repetitions: vec![
                Repetition {
                    index: 0,
                    status: Status::Succeeded,
                    item: Some(json!({"id": 1})),
                    actions: BTreeMap::from([("Leaf".to_owned(), leaf.clone())]),
                },
                Repetition {
                    index: 1,
                    status: Status::Skipped,
                    item: None,
                    actions: BTreeMap::new(),
                },
            ],
            ..leaf.clone()
        };
        let run = Run {
            id: "08585X".into(),
            workflow: "w".into(),
            status: Status::Failed,
            start: t,
            end: t,
            trigger: json!({"name": "manual"}),
            actions: BTreeMap::from([("B".to_owned(), call), ("A".to_owned(), leaf)]),
            error: None,
            outputs: json!({}),
        };
        let stamp = "1970-01-01T00:00:01.5Z";
        let leaf_json = json!({"type": "Compose", "status": "Succeeded", "startTime": stamp,
            "endTime": stamp, "code": "OK", "inputs": {"a": [true], "b": 1}, "outputs": "x"});
        let expected = json!({
            "id": "08585X", "workflow": "w", "status": "Failed", "startTime": stamp,
            "endTime": stamp, "trigger": {"name": "manual"}, "error": null, "outputs": {},
            "actions": {
                "A": leaf_json,
                "B": {"type": "Http", "status": "Failed", "startTime": stamp,
                    "endTime": stamp, "code": "OK", "inputs": {"a": [true], "b": 1},
                    "outputs": "x", "error": {"code": "Oops", "message": "m"},
                    "attempts": [{"startTime": stamp, "endTime": stamp,
                        "statusCode": 429, "error": null}],
                    "actions": {"Inner": leaf_json},
                    "repetitions": [
                        {"index": 0, "status": "Succeeded", "item": {"id": 1},
                         "actions": {"Leaf": leaf_json}},
                        {"index": 1, "status": "Skipped", "actions": {}}]}
            }
        });
        assert_eq!(run.to_json(), expected);
        assert_eq!(run.to_json_string(), expected.to_string());
    }

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

    /// Keys in any case; no panic on text whose 7th byte is inside a
    /// character; a JWT needs exactly three parts.
    #[test]
    fn redaction_ignores_case_and_reads_any_text() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2ln";
        let mut v = json!({
            "ACCESS_TOKEN": "a", "Set-Cookie": "b", "Client_Secret": "c",
            "text": ["abcdef\u{65e5}\u{672c}", "BEARER xyz", format!("{jwt}.more"),
                "eyJ.short.x"],
        });
        redact(&mut v);
        assert_eq!(v["ACCESS_TOKEN"], HIDDEN);
        assert_eq!(v["Set-Cookie"], HIDDEN);
        assert_eq!(v["Client_Secret"], HIDDEN);
        assert_eq!(v["text"][0], "abcdef\u{65e5}\u{672c}");
        assert_eq!(v["text"][1], HIDDEN);
        assert_eq!(v["text"][2], format!("{jwt}.more"));
        assert_eq!(v["text"][3], "eyJ.short.x");
    }
}
