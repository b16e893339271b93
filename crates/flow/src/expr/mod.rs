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
