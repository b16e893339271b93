//! The workflow definition model: what a definition file says, read once,
//! with every expression parsed, so that a run never meets a syntax error.
//!
//! [`load`] detects the file's shape (a bare definition, Power Automate's
//! export, a Logic Apps workflow resource, or an ARM template holding one:
//! see [`shape`]) and builds a [`Workflow`]. Problems name the JSON path in
//! the file (`$.properties.definition.actions['Delay'].inputs`).
//!
//! Structure and action types: Microsoft's "Schema reference guide for
//! trigger and action types in Azure Logic Apps"
//! (`logic-apps-workflow-actions-triggers.md`) and "Workflow Definition
//! Language schema reference" (`logic-apps-workflow-definition-language.md`).

mod read;
pub mod reads;
pub mod shape;

use std::{collections::BTreeMap, fmt, time::Duration};

use serde_json::Value;

use crate::expr::{CompiledValue, ExprError};
use read::{as_object, compile, read_container, read_trigger};

pub use reads::{Read, Reads};
pub use shape::Shape;

/// How deep containers (`If`, `Foreach`, `Scope`, ...) may nest. Logic Apps
/// allows 8 levels of nested actions ("Limits and configuration": "Nesting
/// depth for actions"); deeper files are refused, never a stack overflow.
pub const MAX_NESTING: usize = 8;
/// Actions per workflow (the same page: 500).
pub const MAX_ACTIONS: usize = 500;

/// The status of a trigger, an action or a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Ran and succeeded.
    #[default]
    Succeeded,
    /// Ran and failed.
    Failed,
    /// Did not run: its `runAfter` conditions were not met.
    Skipped,
    /// Ran out of time (`limit.timeout`).
    TimedOut,
    /// Ended by a `Terminate` with `Cancelled`.
    Cancelled,
}

impl Status {
    /// The name definitions and run histories use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
            Status::TimedOut => "TimedOut",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Reads a status name, without regard to case.
    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Succeeded,
            Status::Failed,
            Status::Skipped,
            Status::TimedOut,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem in a definition file, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DefinitionError {
    /// Where, as a JSON path in the file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl DefinitionError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError { path: path.into(), message: message.into() }
    }

    fn expr(path: &str, err: &ExprError) -> Self {
        let at = match err.path() {
            Some(inner) if inner != "$" => {
                format!("{path}{}", inner.trim_start_matches('$'))
            }
            _ => path.to_owned(),
        };
        DefinitionError::new(at, err.to_string())
    }
}

/// A workflow, ready to run.
#[derive(Debug)]
pub struct Workflow {
    /// The shape the file had.
    pub shape: Shape,
    /// A name for the run history: the resource's or the file's.
    pub name: String,
    /// Declared parameters: name → (type, default value).
    pub parameters: BTreeMap<String, Parameter>,
    /// Values the file itself gives (a resource's `parameters`, e.g.
    /// `$connections`).
    pub parameter_values: BTreeMap<String, Value>,
    /// The trigger (a definition has at most one that this engine runs).
    pub trigger: Option<Trigger>,
    /// The top-level actions.
    pub actions: Container,
    /// The definition's `outputs`.
    pub outputs: BTreeMap<String, CompiledValue>,
    /// Where the definition object sits in the file (`$` or
    /// `$.properties.definition`).
    pub root: String,
    /// What its expressions read of actions' results.
    pub reads: Reads,
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// `String`, `Int`, `Object`, ...
    pub kind: String,
    /// `defaultValue`, if any.
    pub default: Option<Value>,
}

/// The trigger.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// Its key (`manual`).
    pub name: String,
    /// `Request`, `Recurrence`, ...
    pub kind: String,
    /// `Button` for Power Automate's manual trigger, `Http` otherwise.
    pub trigger_kind: Option<String>,
    /// The request body's JSON schema (`inputs.schema`).
    pub schema: Option<Value>,
    /// Its path in the file.
    pub path: String,
}

/// Actions that share a scope: the top level, or the inside of an `If`,
/// `Switch` case, `Foreach`, `Until` or `Scope`. Sorted by name.
#[derive(Debug, Default)]
pub struct Container {
    /// The actions.
    pub actions: Vec<Action>,
}

impl Container {
    /// An action of this container (not of nested ones) by name.
    pub fn get(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }
}

/// One action.
#[derive(Debug)]
pub struct Action {
    /// Its key (`Batch_POST-groups`).
    pub name: String,
    /// Its path in the file.
    pub path: String,
    /// The `type` as written.
    pub type_name: String,
    /// What it does.
    pub kind: ActionKind,
    /// `runAfter`: predecessor → statuses that let this action run.
    pub run_after: Vec<(String, Vec<Status>)>,
    /// `inputs.retryPolicy` (HTTP and connector actions).
    pub retry: RetryPolicy,
    /// `limit.timeout`.
    pub timeout: Option<Duration>,
    /// `runtimeConfiguration.secureData.properties` has `inputs`.
    pub secure_inputs: bool,
    /// ... has `outputs`.
    pub secure_outputs: bool,
    /// The action's JSON, as written (for checks).
    pub raw: Value,
}

/// What an action does.
#[derive(Debug)]
pub enum ActionKind {
    /// An action whose behaviour depends only on its evaluated `inputs`.
    Data {
        /// Which one.
        op: DataOp,
        /// `inputs`.
        inputs: CompiledValue,
    },
    /// `If`.
    If {
        /// `expression`: a string expression or the designer's object form.
        expression: Condition,
        /// `actions`.
        then: Container,
        /// `else.actions`.
        otherwise: Container,
    },
    /// `Switch`.
    Switch {
        /// `expression`.
        expression: CompiledValue,
        /// `cases`: name, `case` value, actions.
        cases: Vec<(String, Value, Container)>,
        /// `default.actions`.
        default: Container,
    },
    /// `Foreach`.
    Foreach {
        /// `foreach`: the array.
        items: CompiledValue,
        /// The body.
        actions: Container,
        /// Iterations at a time: 20 unless
        /// `runtimeConfiguration.concurrency.repetitions` or
        /// `operationOptions: Sequential` (1) say otherwise.
        concurrency: usize,
    },
    /// `Until`.
    Until {
        /// `expression`, checked after each iteration.
        expression: Condition,
        /// `limit.count` (default 60).
        count: u64,
        /// `limit.timeout` (default PT1H).
        timeout: Duration,
        /// The body.
        actions: Container,
    },
    /// `Scope`.
    Scope {
        /// The body.
        actions: Container,
    },
    /// `Query` (Filter array): `where` is evaluated once per item of `from`.
    Query {
        /// `inputs.from`.
        from: CompiledValue,
        /// `inputs.where`.
        filter: CompiledValue,
    },
    /// `Select`: `select` is evaluated once per item of `from`.
    Select {
        /// `inputs.from`.
        from: CompiledValue,
        /// `inputs.select`.
        select: CompiledValue,
    },
    /// `Http`: `inputs.method`, `uri`, `headers`, `queries`, `body`.
    Http {
        /// `inputs`.
        inputs: CompiledValue,
    },
    /// A custom connector's operation: Power Automate's `OpenApiConnection`
    /// or Logic Apps' `ApiConnection`.
    Connector {
        /// Which shape.
        style: ConnectorStyle,
        /// `inputs.host`, as written: it names the connection and the api,
        /// which the engine matches to a connector package; it is not
        /// evaluated (the `$connections` parameter need not be given).
        host: Value,
        /// `inputs` without `host` and `authentication` (the engine signs
        /// the request with the connection's token).
        inputs: CompiledValue,
    },
}

/// The data actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOp {
    /// `Compose`.
    Compose,
    /// `Wait`.
    Wait,
    /// `InitializeVariable`.
    InitializeVariable,
    /// `SetVariable`.
    SetVariable,
    /// `IncrementVariable`.
    IncrementVariable,
    /// `DecrementVariable`.
    DecrementVariable,
    /// `AppendToArrayVariable`.
    AppendToArrayVariable,
    /// `AppendToStringVariable`.
    AppendToStringVariable,
    /// `ParseJson`.
    ParseJson,
    /// `Join`.
    Join,
    /// `Terminate`.
    Terminate,
}

/// How a connector action names its operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorStyle {
    /// `OpenApiConnection`: `host.{apiId, connectionName, operationId}` and
    /// `parameters`.
    OpenApi,
    /// `ApiConnection`: `host.connection.name`, `method`, `path`, `queries`,
    /// `body`.
    ApiConnection,
}

/// An `If` or `Until` condition.
#[derive(Debug)]
pub enum Condition {
    /// `"@equals(...)"`.
    Expression(CompiledValue),
    /// The designer's form: `{"and": [{"equals": [a, b]}]}`.
    Call {
        /// The function (`and`, `or`, `not`, `equals`, `greater`, ...).
        function: String,
        /// Its arguments: nested calls or values.
        args: Vec<Condition>,
    },
    /// A value inside a call.
    Value(CompiledValue),
}

/// A retry policy (`inputs.retryPolicy`), "Retry policies" in Microsoft's
/// "Handle errors and exceptions in Azure Logic Apps".
#[derive(Debug, Clone, PartialEq)]
pub enum RetryPolicy {
    /// No `retryPolicy`: exponential, 4 retries, interval 7.5 s, between
    /// 5 and 45 s.
    Default,
    /// `none`.
    None,
    /// `fixed`: `count` retries, `interval` apart.
    Fixed {
        /// Retries (1–90).
        count: u32,
        /// Between attempts.
        interval: Duration,
    },
    /// `exponential`.
    Exponential {
        /// Retries (1–90).
        count: u32,
        /// The scale.
        interval: Duration,
        /// Lower bound.
        minimum: Duration,
        /// Upper bound.
        maximum: Duration,
    },
}

impl RetryPolicy {
    /// How many retries after the first attempt.
    pub fn count(&self) -> u32 {
        match self {
            RetryPolicy::Default => 4,
            RetryPolicy::None => 0,
            RetryPolicy::Fixed { count, .. } | RetryPolicy::Exponential { count, .. } => {
                *count
            }
        }
    }

    /// The range to wait in before retry number `n` (1-based): for the
    /// exponential policies, the documented table — retry 1 waits between
    /// `max(0, min)` and `min(interval, max)`, retry `n` between
    /// `max(2^(n-2)·interval, min)` and `min(2^(n-1)·interval, max)`.
    pub fn wait_range(&self, n: u32) -> (Duration, Duration) {
        let exponential = |interval: Duration, minimum: Duration, maximum: Duration| {
            let factor = |k: i32| if k < 0 { 0.0 } else { 2f64.powi(k) };
            let n = n.min(60) as i32;
            let low = interval.mul_f64(factor(n - 2)).max(minimum);
            let high = interval.mul_f64(factor(n - 1)).min(maximum);
            (low.min(high), high)
        };
        match self {
            RetryPolicy::None => (Duration::ZERO, Duration::ZERO),
            RetryPolicy::Fixed { interval, .. } => (*interval, *interval),
            RetryPolicy::Default => exponential(
                Duration::from_millis(7500),
                Duration::from_secs(5),
                Duration::from_secs(45),
            ),
            RetryPolicy::Exponential { interval, minimum, maximum, .. } => {
                exponential(*interval, *minimum, *maximum)
            }
        }
    }
}

/// Reads a definition file's text. `file` names it in errors.
pub fn load(text: &str, file: &str) -> Result<Workflow, DefinitionError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        DefinitionError::new(
            format!("{file}:{}:{}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let name = std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workflow".to_owned());
    from_value(&value, &name)
}

/// Builds a workflow from a parsed file of any supported shape.
pub fn from_value(
    value: &Value,
    default_name: &str,
) -> Result<Workflow, DefinitionError> {
    let found = shape::detect(value)?;
    let definition = found.definition;
    let root = found.root;
    let object = definition.as_object().ok_or_else(|| {
        DefinitionError::new(&root, "a workflow definition is a JSON object")
    })?;
    let mut parameters = BTreeMap::new();
    if let Some(declared) = object.get("parameters") {
        let declared = as_object(declared, &format!("{root}.parameters"))?;
        for (name, p) in declared {
            let at = format!("{root}.parameters{}", key_path(name));
            let p = as_object(p, &at)?;
            let kind =
                p.get("type").and_then(Value::as_str).unwrap_or("Object").to_owned();
            parameters.insert(
                name.clone(),
                Parameter { kind, default: p.get("defaultValue").cloned() },
            );
        }
    }
    let trigger = match object.get("triggers") {
        None => None,
        Some(triggers) => {
            let at = format!("{root}.triggers");
            let triggers = as_object(triggers, &at)?;
            if triggers.len() > 1 {
                return Err(DefinitionError::new(
                    at,
                    "a workflow has at most one trigger",
                ));
            }
            triggers
                .iter()
                .next()
                .map(|(name, t)| {
                    read_trigger(name, t, &format!("{at}{}", key_path(name)))
                })
                .transpose()?
        }
    };
    let mut count = 0;
    let actions = match object.get("actions") {
        None => Container::default(),
        Some(actions) => {
            read_container(actions, &format!("{root}.actions"), 1, &mut count)?
        }
    };
    let mut outputs = BTreeMap::new();
    if let Some(declared) = object.get("outputs") {
        let declared = as_object(declared, &format!("{root}.outputs"))?;
        for (name, o) in declared {
            let at = format!("{root}.outputs{}", key_path(name));
            let value = o.get("value").cloned().unwrap_or(Value::Null);
            outputs.insert(name.clone(), compile(&value, &format!("{at}.value"))?);
        }
    }
    Ok(Workflow {
        shape: found.shape,
        name: found.name.unwrap_or_else(|| default_name.to_owned()),
        parameters,
        parameter_values: found.parameter_values,
        trigger,
        actions,
        outputs,
        root,
        reads: Reads::of(definition),
    })
}

/// `['name']` for a JSON path, or `.name` when that reads unambiguously.
pub fn key_path(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(".{name}")
    } else {
        format!("['{}']", name.replace('\'', "\\'"))
    }
}
