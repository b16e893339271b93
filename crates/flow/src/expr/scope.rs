//! What an expression can see of the running workflow: the values behind
//! the workflow functions (`trigger()`, `body('A')`, `variables('v')`, ...).

use serde_json::Value;
use time::OffsetDateTime;

/// The run's state as the workflow functions read it. The engine implements
/// it for each action it evaluates; `graphlab flow eval` implements it over
/// a context file. Every method returns `None` for what does not exist, and
/// the function that asked turns that into the platform's error.
pub trait Scope {
    /// The trigger's result: `{"name", "status", "startTime", "endTime",
    /// "inputs", "outputs": {"headers", "body"}}`. `triggerBody()` is
    /// `outputs.body`, `triggerOutputs()` is `outputs`.
    fn trigger(&self) -> Option<Value>;
    /// An action's result, by its key in the definition (`Batch_POST-groups`):
    /// `{"name", "status", "code", "startTime", "endTime", "inputs",
    /// "outputs": {"statusCode", "headers", "body"}, "error"}`. `body('A')`
    /// is `outputs.body`, `outputs('A')` is `outputs`, `actions('A')` the
    /// whole object. `None` when no such action has run (yet).
    fn action(&self, name: &str) -> Option<Value>;
    /// The `outputs` of an action's result, for `body('A')` and
    /// `outputs('A')`, without copying the rest of it (its inputs may be
    /// large). `None` when no such action has run (yet).
    fn action_outputs(&self, name: &str) -> Option<Value> {
        self.action(name).map(|result| match result {
            Value::Object(mut o) => o.remove("outputs").unwrap_or(Value::Null),
            _ => Value::Null,
        })
    }
    /// The action being evaluated, for `action()` (only where the platform
    /// allows it); `None` elsewhere.
    fn current_action(&self) -> Option<Value> {
        None
    }
    /// A variable's current value.
    fn variable(&self, name: &str) -> Option<Value>;
    /// A workflow parameter's value (its given value, else its default).
    fn parameter(&self, name: &str) -> Option<Value>;
    /// `item()`: the current item of the innermost `Foreach` (or of a
    /// `Query`/`Select` being evaluated).
    fn item(&self) -> Option<Value>;
    /// `items('Loop')`: the current item of the named `Foreach`.
    fn items(&self, loop_name: &str) -> Option<Value>;
    /// `iterationIndexes('Loop')`: the current index of the named `Until`
    /// loop (or `Foreach`).
    fn iteration_index(&self, loop_name: &str) -> Option<u64>;
    /// `result('Scope')`: the results of the top-level actions inside the
    /// named `Scope`, `Foreach` or `Until`, as an array of action results.
    fn result(&self, scope_name: &str) -> Option<Value>;
    /// `workflow()`: `{"id", "name", "type", "location", "run": {"id",
    /// "name", "type"}}`.
    fn workflow(&self) -> Value;
    /// The engine's clock, for `utcNow()` and the date functions that
    /// default to now.
    fn now(&self) -> OffsetDateTime;
}
