//! [`check`]: static checks of a workflow definition, before it runs, with
//! rule ids and JSON paths — what `graphlab flow check` prints.
//!
//! The checks work on the file's raw JSON, not on the [`crate::Workflow`]
//! that [`crate::load`] builds, so that every problem is reported, not only
//! the first one `load` stops at.
//!
//! - [`model`]: the file's shape, its triggers, and the tree of actions
//!   (containers, names, nesting, the service's limits);
//! - [`structure`]: each action's own settings (`runAfter`, types, inputs,
//!   retry policies, timeouts, loops, conditions, connector operations);
//! - [`references`]: every string value's expressions (syntax, functions,
//!   arity) and what they read of the run (actions that run before, loops,
//!   variables, parameters, scopes).
//!
//! Sources: Microsoft's "Workflow Definition Language schema reference",
//! "Schema reference guide for trigger and action types in Azure Logic
//! Apps", "Handle errors and exceptions in Azure Logic Apps" (retry
//! policies) and "Limits and configuration reference for Azure Logic Apps"
//! (500 actions per workflow, 8 levels of nested actions, `Foreach`
//! concurrency 1-50, `Until` at most 5,000 iterations, retries 1-90).

mod model;
mod references;
mod structure;

pub use graphlab_connector::{Finding, Report, Severity};
use serde_json::Value;

use crate::connector::Connectors;

/// The rule ids a [`Finding`] can carry, with what each checks.
pub mod rules {
    /// Every rule: (id, what it checks).
    pub const ALL: &[(&str, &str)] = &[
        ("json.malformed", "the file is not valid JSON (reported with line and column)"),
        (
            "shape.unrecognized",
            "the file is not a workflow definition, a Power Automate definition.json, a \
             Logic Apps workflow resource or an ARM template holding one",
        ),
        (
            "structure.object",
            "triggers, actions, parameters, outputs, runAfter, cases, a trigger or an \
             action is not a JSON object",
        ),
        ("trigger.type", "a trigger has no 'type', or one Logic Apps does not know"),
        ("action.type", "an action has no 'type', or one Logic Apps does not know"),
        (
            "action.unsupported",
            "an action's type exists in Logic Apps but graphlab flow run does not run it \
             (a warning)",
        ),
        (
            "action.name-duplicate",
            "two actions share a name (names are unique in a workflow)",
        ),
        (
            "action.inputs",
            "an action lacks what its type needs (Compose inputs, Wait interval, Foreach \
             'foreach', Query from/where, variable names, Terminate runStatus, ...)",
        ),
        (
            "runafter.unknown-action",
            "runAfter names an action the workflow does not have",
        ),
        (
            "runafter.other-container",
            "runAfter names an action of another container (only actions of the same \
             scope may be named)",
        ),
        ("runafter.cycle", "actions wait for each other through runAfter"),
        (
            "runafter.status",
            "a runAfter status is not Succeeded, Failed, Skipped or TimedOut",
        ),
        ("expression.syntax", "an expression does not parse (the column is given)"),
        (
            "expression.unknown-function",
            "an expression calls a function that does not exist",
        ),
        ("expression.arity", "a function is called with too few or too many arguments"),
        ("expression.too-deep", "an expression or value nests too deeply"),
        (
            "reference.undefined-action",
            "body(), outputs() or actions() names an action the workflow does not have \
             (the platform's 'not defined in the template')",
        ),
        (
            "reference.not-before",
            "body(), outputs() or actions() names an action that does not run before this \
             one (through runAfter, or in an enclosing container)",
        ),
        (
            "reference.item",
            "item() is used outside a Foreach and outside a Query's where or a Select's \
             select",
        ),
        (
            "reference.loop",
            "items('L') or iterationIndexes('L') names no enclosing Foreach or Until",
        ),
        (
            "reference.variable",
            "variables('v') or a variable action names a variable no InitializeVariable \
             declares",
        ),
        (
            "variable.order",
            "a variable is used by an action that does not run after its InitializeVariable \
             (a warning)",
        ),
        (
            "variable.initialize-nested",
            "InitializeVariable is inside a container (the platform allows it only at the \
             top level)",
        ),
        (
            "variable.duplicate",
            "two InitializeVariable actions declare the same variable",
        ),
        ("reference.parameter", "parameters('p') names an undeclared parameter"),
        ("reference.result", "result('S') names no Scope, Foreach or Until action"),
        (
            "connector.host",
            "a connector action lacks host.operationId (OpenApiConnection) or \
             host.connection.name, method and path (ApiConnection)",
        ),
        (
            "connector.operation",
            "with connectors given, the action's operation is not in its connector",
        ),
        (
            "retry.policy",
            "a retryPolicy is malformed: its type, count (1-90) or ISO 8601 intervals",
        ),
        ("limit.timeout", "limit.timeout is not an ISO 8601 duration"),
        ("foreach.concurrency", "Foreach concurrency is not a whole number from 1 to 50"),
        ("until.limit", "Until limit.count is not a whole number from 1 to 5000"),
        (
            "switch.case",
            "a Switch case has no 'case' value, or one that is not a string or a number",
        ),
        ("switch.case-duplicate", "two cases of a Switch have the same value"),
        (
            "condition.expression",
            "an If, Until or Switch has no 'expression', or a condition calls an unknown \
             function",
        ),
        (
            "arm.schema",
            "an exported template's resource does not match its ARM resource schema \
             (Microsoft.Web/customApis, Microsoft.Web/connections, Microsoft.Logic/workflows)",
        ),
        (
            "arm.template",
            "a template lacks $schema, contentVersion or resources, uses an undeclared \
             parameters('x'), or a dependsOn names no resource of the template",
        ),
        (
            "arm.secret",
            "a secret (client secret, password) is not a securestring parameter without a \
             default value",
        ),
        (
            "connector.swagger",
            "the custom connector's swagger embedded in a template or package fails \
             graphlab-connector's validator (its rule in brackets)",
        ),
        (
            "package.part",
            "a part of a Power Automate package is missing, corrupt or not valid JSON",
        ),
        (
            "package.manifest",
            "a package's manifests disagree with its parts (resources, apisMap, \
             connectionsMap)",
        ),
        ("limits.actions", "the workflow has more than 500 actions"),
        ("limits.nesting", "actions are nested more than 8 levels deep"),
    ];

    /// Whether `id` is a known rule.
    pub fn is_known(id: &str) -> bool {
        ALL.iter().any(|(known, _)| *known == id)
    }
}

/// Collects findings for one file.
pub(crate) struct Sink {
    file: String,
    findings: Vec<Finding>,
}

impl Sink {
    fn new(file: &str) -> Sink {
        Sink { file: file.to_owned(), findings: Vec::new() }
    }

    /// Records an error.
    pub(crate) fn error(
        &mut self,
        rule: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(rule, Severity::Error, path.into(), message.into(), None);
    }

    /// Records a warning.
    pub(crate) fn warning(
        &mut self,
        rule: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(rule, Severity::Warning, path.into(), message.into(), None);
    }

    /// Records a finding with a column.
    pub(crate) fn push(
        &mut self,
        rule: &'static str,
        severity: Severity,
        path: String,
        message: String,
        column: Option<usize>,
    ) {
        debug_assert!(rules::is_known(rule), "{rule} is not in rules::ALL");
        let finding =
            Finding { column, ..Finding::new(rule, severity, &self.file, path, message) };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }
}

/// Checks a definition file's text: malformed JSON is a `json.malformed`
/// finding with its line and column; otherwise as [`check`].
pub fn check_text(text: &str, file: &str, connectors: Option<&Connectors>) -> Report {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => check(&value, file, connectors),
        Err(e) => Report {
            shape: None,
            findings: vec![Finding {
                line: Some(e.line()),
                column: Some(e.column()),
                ..Finding::new(
                    "json.malformed",
                    Severity::Error,
                    file,
                    "$",
                    format!("not valid JSON: {e}"),
                )
            }],
        },
    }
}

/// Checks a parsed definition file of any shape [`crate::definition::shape::detect`]
/// accepts. `file` names it in the findings. With `connectors`, connector
/// actions' operations are looked up in them.
pub fn check(value: &Value, file: &str, connectors: Option<&Connectors>) -> Report {
    let mut sink = Sink::new(file);
    let found = match crate::definition::shape::detect(value) {
        Ok(found) => found,
        Err(e) => {
            sink.error("shape.unrecognized", e.path, e.message);
            return Report { shape: None, findings: sink.findings };
        }
    };
    let shape = found.shape.to_string();
    if let Some(model) = model::Model::build(found.definition, &found.root, &mut sink) {
        structure::check(&model, connectors, &mut sink);
        references::check(&model, &mut sink);
    }
    Report { shape: Some(shape), findings: sink.findings }
}
