//! Every string value of the definition, parsed as the engine will parse
//! it: syntax, unknown functions and arity (with the column), then what
//! its expressions read of the run — actions that must run before, loops
//! that must enclose, variables, parameters and scopes that must exist.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Severity, Sink, model::Model, structure::declared_variables};
use crate::{
    definition::key_path,
    expr::{ErrorKind, MAX_JSON_DEPTH, Reference, Template, references},
};

/// Keys of an action that are not evaluated: its nested actions, its
/// wiring and its documentation.
const NOT_EVALUATED: &[&str] = &[
    "actions",
    "else",
    "cases",
    "default",
    "runAfter",
    "type",
    "description",
    "metadata",
];

/// Where a string value stands.
#[derive(Clone, Copy)]
enum Owner<'m> {
    /// In an action (its index), under the action's key `section`.
    Action(usize, &'m str),
    /// In a trigger, by name.
    Trigger(&'m str, &'m str),
    /// In the definition's `outputs`.
    Outputs,
}

struct Walk<'m, 'a> {
    model: &'m Model<'a>,
    /// Variable → the first InitializeVariable declaring it.
    variables: BTreeMap<String, usize>,
}

/// Runs the checks of this module.
pub(crate) fn check(model: &Model<'_>, sink: &mut Sink) {
    let mut variables = BTreeMap::new();
    for (i, node) in model.nodes.iter().enumerate() {
        if node.kind == "initializevariable" {
            for (_, v) in declared_variables(node.raw) {
                variables.entry(v).or_insert(i);
            }
        }
    }
    let walk = Walk { model, variables };
    for (name, at, raw) in &model.triggers {
        for (key, value) in
            raw.iter().filter(|(k, _)| !NOT_EVALUATED.contains(&k.as_str()))
        {
            walk.value(
                value,
                &format!("{at}{}", key_path(key)),
                Owner::Trigger(name, key),
                false,
                0,
                sink,
            );
        }
    }
    for (index, node) in model.nodes.iter().enumerate() {
        for (key, value) in
            node.raw.iter().filter(|(k, _)| !NOT_EVALUATED.contains(&k.as_str()))
        {
            let at = format!("{}{}", node.path, key_path(key));
            let owner = Owner::Action(index, key);
            // A Query's `where` and a Select's `select` see each item of
            // `from` as item().
            let per_item = match node.kind.as_str() {
                "query" => Some("where"),
                "select" => Some("select"),
                _ => None,
            };
            match (per_item, key.as_str(), value.as_object()) {
                (Some(inner), "inputs", Some(inputs)) => {
                    for (k, v) in inputs {
                        walk.value(
                            v,
                            &format!("{at}{}", key_path(k)),
                            owner,
                            k == inner,
                            1,
                            sink,
                        );
                    }
                }
                _ => walk.value(value, &at, owner, false, 0, sink),
            }
        }
        if matches!(
            node.kind.as_str(),
            "setvariable"
                | "incrementvariable"
                | "decrementvariable"
                | "appendtoarrayvariable"
                | "appendtostringvariable"
        ) && let Some(name) =
            node.raw.get("inputs").and_then(|i| i.get("name")).and_then(Value::as_str)
        {
            walk.variable(
                name,
                &format!("{}.inputs.name", node.path),
                Owner::Action(index, "inputs"),
                sink,
            );
        }
    }
    if let Some(outputs) = model.definition.get("outputs").and_then(Value::as_object) {
        for (name, output) in outputs {
            let at = format!("{}.outputs{}", model.root, key_path(name));
            walk.value(output, &at, Owner::Outputs, false, 0, sink);
        }
    }
}

fn rule_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UnknownFunction => "expression.unknown-function",
        ErrorKind::Arity => "expression.arity",
        ErrorKind::TooDeep => "expression.too-deep",
        ErrorKind::Parse | ErrorKind::Evaluation => "expression.syntax",
    }
}

impl Walk<'_, '_> {
    fn value(
        &self,
        value: &Value,
        at: &str,
        owner: Owner<'_>,
        per_item: bool,
        depth: usize,
        sink: &mut Sink,
    ) {
        if depth > MAX_JSON_DEPTH {
            sink.error(
                "expression.too-deep",
                at,
                format!("the value nests more than {MAX_JSON_DEPTH} levels deep"),
            );
            return;
        }
        match value {
            Value::String(text) => self.string(text, at, owner, per_item, sink),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(
                        item,
                        &format!("{at}[{i}]"),
                        owner,
                        per_item,
                        depth + 1,
                        sink,
                    );
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.value(
                        v,
                        &format!("{at}{}", key_path(k)),
                        owner,
                        per_item,
                        depth + 1,
                        sink,
                    );
                }
            }
            _ => {}
        }
    }

    fn string(
        &self,
        text: &str,
        at: &str,
        owner: Owner<'_>,
        per_item: bool,
        sink: &mut Sink,
    ) {
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                let shown: String = text.chars().take(120).collect();
                let ellipsis = if shown.len() < text.len() { "..." } else { "" };
                sink.push(
                    rule_of(e.kind()),
                    Severity::Error,
                    at.to_owned(),
                    format!("{e} (in \"{shown}{ellipsis}\")"),
                    e.column(),
                );
                return;
            }
        };
        for expr in template.expressions() {
            for reference in references(expr) {
                self.reference(&reference, at, owner, per_item, sink);
            }
        }
    }

    /// Names the place, for messages: `action 'X'`, `trigger 'manual'`.
    fn place(&self, owner: Owner<'_>) -> String {
        match owner {
            Owner::Action(i, _) => format!("action '{}'", self.model.nodes[i].name),
            Owner::Trigger(name, _) => format!("trigger '{name}'"),
            Owner::Outputs => "the workflow's outputs".to_owned(),
        }
    }

    /// The loops whose iteration the owner's value is evaluated in: the
    /// container actions enclosing it, and an Until itself for its own
    /// `expression` (checked after each iteration).
    fn enclosing(&self, owner: Owner<'_>) -> Vec<usize> {
        match owner {
            Owner::Action(i, _) => {
                let skip = usize::from(!self.until_expression(owner));
                self.model.ancestors_or_self(i).into_iter().skip(skip).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether the value is an Until's `expression`, evaluated after each
    /// iteration of its body, which it may read.
    fn until_expression(&self, owner: Owner<'_>) -> bool {
        matches!(owner, Owner::Action(i, "expression") if self.model.nodes[i].kind == "until")
    }

    fn reference(
        &self,
        reference: &Reference,
        at: &str,
        owner: Owner<'_>,
        per_item: bool,
        sink: &mut Sink,
    ) {
        let model = self.model;
        match reference {
            Reference::Trigger | Reference::Unnamed(_) => {}
            Reference::Action { function, name } => {
                self.action(function, name, at, owner, sink)
            }
            Reference::Variable(v) => self.variable(v, at, owner, sink),
            Reference::Parameter(p) => {
                if !model.parameters.contains(p.as_str()) {
                    let declared: Vec<&str> = model.parameters.iter().copied().collect();
                    sink.error(
                        "reference.parameter",
                        at,
                        format!(
                            "parameters('{p}'): the definition declares no parameter '{p}' \
                             (declared: {})",
                            if declared.is_empty() { "none".to_owned() } else { declared.join(", ") }
                        ),
                    );
                }
            }
            Reference::Item => {
                let in_loop = self
                    .enclosing(owner)
                    .iter()
                    .any(|&a| model.nodes[a].kind == "foreach");
                if !in_loop && !per_item {
                    sink.error(
                        "reference.item",
                        at,
                        format!(
                            "item() in {} is outside any Foreach (and is not a Query's 'where' \
                             or a Select's 'select'): there is no current item",
                            self.place(owner)
                        ),
                    );
                }
            }
            Reference::Items(l) | Reference::IterationIndexes(l) => {
                let (function, kinds): (&str, &[&str]) = match reference {
                    Reference::Items(_) => ("items", &["foreach"]),
                    _ => ("iterationIndexes", &["until", "foreach"]),
                };
                let ok = self.enclosing(owner).iter().any(|&a| {
                    model.nodes[a].name == l
                        && kinds.contains(&model.nodes[a].kind.as_str())
                });
                if !ok {
                    let what = if function == "items" {
                        "a Foreach"
                    } else {
                        "an Until or Foreach"
                    };
                    sink.error(
                        "reference.loop",
                        at,
                        format!("{function}('{l}') in {}: '{l}' is not {what} loop enclosing it", self.place(owner)),
                    );
                }
            }
            Reference::Result(s) => {
                let ok = model.find(s).is_some_and(|i| {
                    matches!(model.nodes[i].kind.as_str(), "scope" | "foreach" | "until")
                });
                if !ok {
                    sink.error(
                        "reference.result",
                        at,
                        format!("result('{s}'): '{s}' is not a Scope, Foreach or Until action of this workflow"),
                    );
                }
            }
        }
    }

    fn action(
        &self,
        function: &str,
        name: &str,
        at: &str,
        owner: Owner<'_>,
        sink: &mut Sink,
    ) {
        let model = self.model;
        let section = match owner {
            Owner::Action(_, s) | Owner::Trigger(_, s) => s,
            Owner::Outputs => "outputs",
        };
        let Some(target) = model.find(name) else {
            // The platform's InvalidTemplate message, word for word (the
            // lab's own error: the designer's name with spaces, where the
            // definition's key has underscores).
            let mut message = match owner {
                Owner::Action(i, _) => format!(
                    "The action(s) '{name}' referenced by '{section}' in action '{}' are not \
                     defined in the template.",
                    model.nodes[i].name
                ),
                Owner::Trigger(t, _) => format!(
                    "The action(s) '{name}' referenced by '{section}' in trigger '{t}' are not \
                     defined in the template."
                ),
                Owner::Outputs => format!(
                    "The action(s) '{name}' referenced by the workflow's 'outputs' are not \
                     defined in the template."
                ),
            };
            let underscored = name.replace(' ', "_");
            let close = model.by_name.keys().find(|k| {
                **k == underscored
                    || k.eq_ignore_ascii_case(name)
                    || k.eq_ignore_ascii_case(&underscored)
            });
            if let Some(close) = close {
                let spaces = if name.contains(' ') {
                    " Action names in a definition have '_' where the designer shows a space:"
                } else {
                    ""
                };
                message
                    .push_str(&format!("{spaces} did you mean {function}('{close}')?"));
            }
            sink.error("reference.undefined-action", at, message);
            return;
        };
        let later = match owner {
            Owner::Action(i, _) => i,
            Owner::Trigger(t, _) => {
                sink.error(
                    "reference.not-before",
                    at,
                    format!("{function}('{name}') in trigger '{t}': the trigger runs before every action"),
                );
                return;
            }
            Owner::Outputs => return,
        };
        if model.runs_before(target, later)
            || self.until_expression(owner)
                && target != later
                && model.ancestors_or_self(target).contains(&later)
        {
            return;
        }
        let why = if target == later {
            "an action cannot read its own result".to_owned()
        } else if model.ancestors_or_self(later).contains(&target) {
            format!("'{name}' encloses it and ends after it")
        } else {
            format!(
                "'{name}' is not in its runAfter path (nor in that of a container enclosing it), \
                 so it may not have run yet"
            )
        };
        sink.error(
            "reference.not-before",
            at,
            format!(
                "{function}('{name}') in action '{}': {why}",
                model.nodes[later].name
            ),
        );
    }

    fn variable(&self, v: &str, at: &str, owner: Owner<'_>, sink: &mut Sink) {
        let Some(&init) = self.variables.get(v) else {
            let known: Vec<&str> = self.variables.keys().map(String::as_str).collect();
            sink.error(
                "reference.variable",
                at,
                format!(
                    "the variable '{v}' is not initialized: no InitializeVariable declares it \
                     (declared: {})",
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                ),
            );
            return;
        };
        if let Owner::Action(user, _) = owner
            && user != init
            && !self.model.runs_before(init, user)
        {
            sink.warning(
                "variable.order",
                at,
                format!(
                    "action '{}' uses the variable '{v}' but does not run after '{}', which \
                     initializes it",
                    self.model.nodes[user].name, self.model.nodes[init].name
                ),
            );
        }
    }
}
