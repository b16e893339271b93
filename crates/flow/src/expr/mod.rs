//! The Workflow Definition Language's expressions, as Logic Apps and Power
//! Automate evaluate them.
//!
//! - [`parse_expression`] parses one expression (the text after `@`) into an
//!   [`Expr`]; unknown functions and wrong argument counts are parse errors,
//!   so a definition can be checked before it runs.
//! - [`Template`] is one string value of a definition: a literal, a whole
//!   expression (`"@add(1, 2)"` → `3`) or an interpolation
//!   (`"n=@{add(1, 2)}"` → `"n=3"`), with `@@` escapes.
//! - [`CompiledValue`] is a whole JSON value (an action's `inputs`) whose
//!   string leaves are pre-parsed templates.
//! - [`Scope`] is what the workflow functions (`body('A')`, `variables('v')`,
//!   ...) read of the running workflow.
//!
//! Limits: expressions nest at most [`MAX_DEPTH`] calls, brackets and
//! property selections deep, JSON values at most [`MAX_JSON_DEPTH`] levels;
//! deeper input is a [`ErrorKind::TooDeep`] error, never a stack overflow.
//! Evaluation never panics: every failure is an [`ErrorKind::Evaluation`]
//! error whose message follows the platform's wording.
//!
//! # Semantics, and where they come from
//!
//! Microsoft's reference (`expression-functions-reference.md`,
//! `logic-apps-workflow-definition-language.md`) first; the grammar as the
//! Logic Apps designer's parser reads it (Azure/LogicAppsUX); observed
//! platform behaviour where the docs say nothing:
//!
//! - function names and `null`/`true`/`false` without regard to case;
//!   property selection by exact name first, then without regard to case
//!   (as Azure's template engine does); `?['a/b']` walks `a` then `b`, as
//!   Power Automate's path keys do;
//! - only calls can be selected from (`f().a`, `f()['a']`, `f()[0]`), not
//!   literals; `.5` is a number where a value is expected;
//! - integers stay 64-bit integers (`add(1, 2)` is `3`, `div(11, 5)` is
//!   `2`), overflow is an error; floats are doubles;
//! - `if` evaluates only the branch it takes; `and`/`or` evaluate all their
//!   arguments (left to right, as every call);
//! - `equals` compares numbers by value and null as the empty string, and
//!   converts nothing else (`equals(true, 1)` is false, as observed, though
//!   the reference says true); string comparisons are ordinal and
//!   case-sensitive; `indexOf`, `startsWith`, `endsWith` ignore case;
//! - values render as .NET renders them: `True`/`False`, `1E+21`, compact
//!   JSON for objects and arrays, empty for null;
//! - binary results (`base64ToBinary`, `binary`, `dataUriToBinary`,
//!   `decodeDataUri`, `uriComponentToBinary`) are the platform's envelope
//!   `{"$content-type", "$content": base64}`; `xml` and `xpath` parse but
//!   fail when run.
//!
//! Known differences: string positions count Unicode scalar values, not
//! UTF-16 units; `decimal()` gives a double (.NET's 28-digit decimal is not
//! modelled); dates know the cultures en, fr, es, de, it, pt, nl and is, and
//! the Windows time zones of a built-in table (base offset and today's
//! daylight-saving rule: US, EU, southern Australia, New Zealand, or none);
//! `json()` reads strict JSON and, as Newtonsoft does, single quotes,
//! unquoted names, comments and trailing commas, but not Newtonsoft's
//! date recognition or `NaN`.

mod error;
mod eval;
mod functions;
mod lexer;
mod parser;
mod print;
mod reference;
pub mod scope;
mod template;
mod value;

pub use error::{ErrorKind, ExprError};
pub use functions::{function_arity, function_names};
pub use parser::{Expr, parse_expression};
pub use reference::{Reference, references};
pub use scope::Scope;
pub use template::Template;
pub use value::CompiledValue;

/// How deep an expression may nest: calls inside calls, brackets inside
/// brackets and chains of property selections all count.
pub const MAX_DEPTH: usize = 100;

/// How deep a JSON value given to [`CompiledValue::compile`] may nest.
pub const MAX_JSON_DEPTH: usize = 128;

/// Evaluates an expression against a scope (what `"@<expr>"` does).
pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<serde_json::Value, ExprError> {
    eval::evaluate(expr, scope)
}

/// Calls a function on arguments that are already values, as the
/// designer's condition objects do (`{"equals": ["@body('A')", 201]}`).
pub fn call_function(
    name: &str,
    args: Vec<serde_json::Value>,
    scope: &dyn Scope,
) -> Result<serde_json::Value, ExprError> {
    let function = functions::check_call(name, args.len())?;
    let mut call = functions::Call { name: function.name, args, scope };
    (function.imp)(&mut call)
}
