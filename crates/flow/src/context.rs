//! A [`Scope`] read from a JSON document, for `graphlab flow eval`: what an
//! expression would see at some point of a run, written by hand.
//!
//! `{"trigger": {"outputs": {"body": ...}}, "actions": {NAME: {"status",
//! "outputs": {"statusCode", "headers", "body"}}}, "variables": {...},
//! "parameters": {...}, "item": ..., "now": "2026-01-01T00:00:00Z"}`;
//! every key is optional and other keys are ignored.

use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::expr::Scope;

/// A context document, as a scope.
#[derive(Debug, Clone)]
pub struct ContextScope {
    doc: Value,
    now: OffsetDateTime,
}

impl ContextScope {
    /// Reads a context document; `now` is used unless it gives its own.
    pub fn new(doc: Value, now: OffsetDateTime) -> Result<ContextScope, String> {
        if !(doc.is_object() || doc.is_null()) {
            return Err(
                "a context is a JSON object (trigger, actions, variables, parameters)"
                    .into(),
            );
        }
        let now = match doc.get("now").and_then(Value::as_str) {
            Some(t) => OffsetDateTime::parse(t, &Rfc3339)
                .map_err(|e| format!("$.now: '{t}' is not an RFC 3339 time: {e}"))?,
            None => now,
        };
        Ok(ContextScope { doc, now })
    }

    fn get(&self, section: &str, name: &str) -> Option<Value> {
        self.doc.get(section)?.get(name).cloned()
    }
}

impl Scope for ContextScope {
    fn trigger(&self) -> Option<Value> {
        let mut t = self.doc.get("trigger").cloned().unwrap_or_else(|| json!({}));
        if let Some(o) = t.as_object_mut() {
            o.entry("name").or_insert(json!("manual"));
            o.entry("status").or_insert(json!("Succeeded"));
        }
        Some(t)
    }

    fn action(&self, name: &str) -> Option<Value> {
        let mut a = self.get("actions", name)?;
        if let Some(o) = a.as_object_mut() {
            o.entry("name").or_insert(json!(name));
            o.entry("status").or_insert(json!("Succeeded"));
        }
        Some(a)
    }

    fn variable(&self, name: &str) -> Option<Value> {
        self.get("variables", name)
    }

    fn parameter(&self, name: &str) -> Option<Value> {
        self.get("parameters", name)
    }

    fn item(&self) -> Option<Value> {
        self.doc.get("item").cloned()
    }

    fn items(&self, loop_name: &str) -> Option<Value> {
        self.get("items", loop_name).or_else(|| self.item())
    }

    fn iteration_index(&self, loop_name: &str) -> Option<u64> {
        self.get("iterationIndexes", loop_name)?.as_u64()
    }

    fn result(&self, scope_name: &str) -> Option<Value> {
        self.get("results", scope_name)
    }

    fn workflow(&self) -> Value {
        self.doc.get("workflow").cloned().unwrap_or_else(|| {
            json!({"id": "/workflows/eval", "name": "eval", "type": "Microsoft.Logic/workflows",
                   "run": {"id": "/workflows/eval/runs/eval", "name": "eval"}})
        })
    }

    fn now(&self) -> OffsetDateTime {
        self.now
    }
}
