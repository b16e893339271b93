//! What an expression sees while an action runs: the run's trigger,
//! parameters and variables, and the results of the actions of its own
//! frame and of the frames around it (a `Foreach` iteration sees its own
//! actions and the workflow's).

use std::{collections::BTreeMap, sync::Mutex};

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::RunCtx;
use crate::expr::Scope;

/// One level of results: the workflow's, or one loop iteration's.
#[derive(Debug, Default)]
pub struct Frame<'p> {
    parent: Option<&'p Frame<'p>>,
    /// Action name → its result object, as `actions('A')` returns it.
    results: Mutex<BTreeMap<String, Value>>,
    /// `result('Scope')` arrays.
    scopes: Mutex<BTreeMap<String, Value>>,
    /// The loop this frame is an iteration of: its name, item and index.
    iteration: Option<(String, Value, u64)>,
}

impl<'p> Frame<'p> {
    /// The workflow's frame.
    pub fn root() -> Frame<'static> {
        Frame::default()
    }

    /// An iteration of loop `name` inside `parent`.
    pub fn iteration(
        parent: &'p Frame<'p>,
        name: &str,
        item: Value,
        index: u64,
    ) -> Frame<'p> {
        Frame {
            parent: Some(parent),
            results: Mutex::default(),
            scopes: Mutex::default(),
            iteration: Some((name.to_owned(), item, index)),
        }
    }

    /// Records an action's result object.
    pub fn set_result(&self, name: &str, result: Value) {
        if let Ok(mut r) = self.results.lock() {
            r.insert(name.to_owned(), result);
        }
    }

    /// Records what `result('name')` returns.
    pub fn set_scope_result(&self, name: &str, results: Value) {
        if let Ok(mut r) = self.scopes.lock() {
            r.insert(name.to_owned(), results);
        }
    }

    fn frames(&self) -> impl Iterator<Item = &Frame<'p>> {
        std::iter::successors(Some(self), |f| f.parent)
    }

    fn find(&self, pick: impl Fn(&Frame<'p>) -> Option<Value>) -> Option<Value> {
        self.frames().find_map(pick)
    }
}

/// A [`Scope`] over a run and a frame.
pub(crate) struct View<'a> {
    pub ctx: &'a RunCtx<'a>,
    pub frame: &'a Frame<'a>,
}

impl Scope for View<'_> {
    fn trigger(&self) -> Option<Value> {
        Some(self.ctx.trigger.clone())
    }

    fn action(&self, name: &str) -> Option<Value> {
        self.frame.find(|f| f.results.lock().ok()?.get(name).cloned())
    }

    fn action_outputs(&self, name: &str) -> Option<Value> {
        self.frame.find(|f| {
            let results = f.results.lock().ok()?;
            Some(results.get(name)?.get("outputs").cloned().unwrap_or(Value::Null))
        })
    }

    fn variable(&self, name: &str) -> Option<Value> {
        let vars = self.ctx.variables.lock().ok()?;
        vars.get(name)
            .or_else(|| {
                vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
            })
            .cloned()
    }

    fn parameter(&self, name: &str) -> Option<Value> {
        self.ctx.parameters.get(name).cloned()
    }

    fn item(&self) -> Option<Value> {
        self.frame.find(|f| f.iteration.as_ref().map(|(_, item, _)| item.clone()))
    }

    fn items(&self, loop_name: &str) -> Option<Value> {
        self.frame.find(|f| match &f.iteration {
            Some((name, item, _)) if name == loop_name => Some(item.clone()),
            _ => None,
        })
    }

    fn iteration_index(&self, loop_name: &str) -> Option<u64> {
        self.frame
            .find(|f| match &f.iteration {
                Some((name, _, index)) if name == loop_name => Some(json!(index)),
                _ => None,
            })
            .and_then(|v| v.as_u64())
    }

    fn result(&self, scope_name: &str) -> Option<Value> {
        self.frame.find(|f| f.scopes.lock().ok()?.get(scope_name).cloned())
    }

    fn workflow(&self) -> Value {
        let name = &self.ctx.workflow.name;
        json!({
            "id": format!("/workflows/{name}"),
            "name": name,
            "type": "Microsoft.Logic/workflows",
            "location": "local",
            "run": {
                "id": format!("/workflows/{name}/runs/{}", self.ctx.run_id),
                "name": self.ctx.run_id,
                "type": "Microsoft.Logic/workflows/runs",
            },
        })
    }

    fn now(&self) -> OffsetDateTime {
        self.ctx.engine.clock.now()
    }
}
