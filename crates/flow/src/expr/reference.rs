//! What expressions read of the run, for the engine's dependency checks.

use super::parser::Expr;

/// Something of the run an expression reads, found from calls whose name
/// argument is a string literal (`body('A')`, `variables('v')`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// `trigger()`, `triggerBody()`, `triggerOutputs()` and the trigger's
    /// form-data and multipart functions.
    Trigger,
    /// An action's result: `body('A')`, `outputs('A')`, `actions('A')`,
    /// `formDataValue('A', ...)`, ... `function` is the function's name as
    /// the reference spells it (`body`), `name` the action's key.
    Action {
        /// The function (`body`, `outputs`, `actions`, ...).
        function: String,
        /// The action's key in the definition.
        name: String,
    },
    /// `variables('v')`.
    Variable(String),
    /// `parameters('p')`.
    Parameter(String),
    /// `item()`.
    Item,
    /// `items('Loop')`.
    Items(String),
    /// `iterationIndexes('Loop')`.
    IterationIndexes(String),
    /// `result('Scope')`.
    Result(String),
    /// A function that reads an action's result or a scope's results by a
    /// name computed at run time (`body(variables('step'))`): it may read
    /// any of them. `function` is its name as the reference spells it.
    Unnamed(String),
}

/// The references in `expr`, in order of appearance, without repeats.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

fn push(out: &mut Vec<Reference>, r: Reference) {
    if !out.contains(&r) {
        out.push(r);
    }
}

pub(crate) fn collect(expr: &Expr, out: &mut Vec<Reference>) {
    match expr {
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Float(_) | Expr::String(_) => {}
        Expr::Property { target, .. } => collect(target, out),
        Expr::Index { target, index, .. } => {
            collect(target, out);
            collect(index, out);
        }
        Expr::Call { name, args } => {
            let literal = match args.first() {
                Some(Expr::String(s)) => Some(s.clone()),
                _ => None,
            };
            let canonical = super::functions::lookup(name).map(|f| f.name);
            match (canonical, literal) {
                (
                    Some(
                        "trigger"
                        | "triggerBody"
                        | "triggerOutputs"
                        | "triggerFormDataValue"
                        | "triggerFormDataMultiValues"
                        | "triggerMultipartBody",
                    ),
                    _,
                ) => push(out, Reference::Trigger),
                (
                    Some(
                        f @ ("body"
                        | "outputs"
                        | "actions"
                        | "formDataValue"
                        | "formDataMultiValues"
                        | "multipartBody"),
                    ),
                    Some(name),
                ) => push(out, Reference::Action { function: f.to_string(), name }),
                (Some("variables"), Some(n)) => push(out, Reference::Variable(n)),
                (Some("parameters"), Some(n)) => push(out, Reference::Parameter(n)),
                (Some("item"), _) => push(out, Reference::Item),
                (Some("items"), Some(n)) => push(out, Reference::Items(n)),
                (Some("iterationIndexes"), Some(n)) => {
                    push(out, Reference::IterationIndexes(n))
                }
                (Some("result"), Some(n)) => push(out, Reference::Result(n)),
                (
                    Some(
                        f @ ("body"
                        | "outputs"
                        | "actions"
                        | "formDataValue"
                        | "formDataMultiValues"
                        | "multipartBody"
                        | "result"),
                    ),
                    None,
                ) => push(out, Reference::Unnamed(f.to_owned())),
                _ => {}
            }
            for arg in args {
                collect(arg, out);
            }
        }
    }
}
