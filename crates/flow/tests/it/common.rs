//! A small in-memory [`Scope`] for the tests.

use std::collections::HashMap;

use graphlab_flow::expr::{Scope, Template};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// A run's state, all in maps.
#[derive(Debug, Clone)]
pub struct TestScope {
    pub trigger: Option<Value>,
    pub actions: HashMap<String, Value>,
    pub variables: HashMap<String, Value>,
    pub parameters: HashMap<String, Value>,
    pub item: Option<Value>,
    pub loops: HashMap<String, (Value, u64)>,
    pub results: HashMap<String, Value>,
    pub now: OffsetDateTime,
    pub current: Option<Value>,
    pub workflow_tags: Option<Value>,
}

impl Default for TestScope {
    fn default() -> Self {
        TestScope {
            trigger: Some(json!({
                "name": "manual",
                "status": "Succeeded",
                "outputs": {"headers": {"Content-Type": "application/json"}, "body": {"name": "Sophia", "n": 3}},
            })),
            actions: HashMap::new(),
            variables: HashMap::new(),
            parameters: HashMap::new(),
            item: None,
            loops: HashMap::new(),
            results: HashMap::new(),
            now: datetime!(2018-03-01 00:00:00 UTC),
            current: None,
            workflow_tags: None,
        }
    }
}

#[allow(dead_code)]
impl TestScope {
    pub fn with_action(mut self, name: &str, body: Value) -> Self {
        self.actions.insert(
            name.to_string(),
            json!({"name": name, "status": "Succeeded", "code": "OK",
                   "outputs": {"statusCode": 200, "headers": {}, "body": body}}),
        );
        self
    }
    pub fn with_variable(mut self, name: &str, value: Value) -> Self {
        self.variables.insert(name.to_string(), value);
        self
    }
    pub fn with_parameter(mut self, name: &str, value: Value) -> Self {
        self.parameters.insert(name.to_string(), value);
        self
    }
}

impl Scope for TestScope {
    fn trigger(&self) -> Option<Value> {
        self.trigger.clone()
    }
    fn action(&self, name: &str) -> Option<Value> {
        self.actions.get(name).cloned()
    }
    fn current_action(&self) -> Option<Value> {
        self.current.clone()
    }
    fn variable(&self, name: &str) -> Option<Value> {
        self.variables.get(name).cloned()
    }
    fn parameter(&self, name: &str) -> Option<Value> {
        self.parameters.get(name).cloned()
    }
    fn item(&self) -> Option<Value> {
        self.item.clone()
    }
    fn items(&self, loop_name: &str) -> Option<Value> {
        self.loops.get(loop_name).map(|(v, _)| v.clone())
    }
    fn iteration_index(&self, loop_name: &str) -> Option<u64> {
        self.loops.get(loop_name).map(|(_, i)| *i)
    }
    fn result(&self, scope_name: &str) -> Option<Value> {
        self.results.get(scope_name).cloned()
    }
    fn workflow(&self) -> Value {
        let mut w = json!({"id": "/workflows/w", "name": "w", "type": "Microsoft.Logic/workflows",
               "location": "local", "run": {"id": "/workflows/w/runs/r1", "name": "r1",
               "type": "Microsoft.Logic/workflows/runs"}});
        if let Some(tags) = &self.workflow_tags {
            w["tags"] = tags.clone();
        }
        w
    }
    fn now(&self) -> OffsetDateTime {
        self.now
    }
}

/// Evaluates `"@<expr>"` against the default scope.
pub fn eval(expr: &str) -> Result<Value, graphlab_flow::expr::ExprError> {
    eval_in(&TestScope::default(), expr)
}

pub fn eval_in(
    scope: &TestScope,
    expr: &str,
) -> Result<Value, graphlab_flow::expr::ExprError> {
    Template::parse(&format!("@{expr}"))?.evaluate(scope)
}
