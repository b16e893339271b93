//! Evaluates expression trees against a [`Scope`].

use serde_json::Value;

use super::MAX_DEPTH;
use super::error::{ErrorKind, ExprError};
use super::functions::{self, Call, as_int, get_property, type_name};
use super::parser::Expr;
use super::scope::Scope;

/// How deep evaluation recurses before giving up: parsed trees are at most
/// about [`MAX_DEPTH`] deep; this bounds trees built by hand too.
const MAX_EVAL_DEPTH: usize = 2 * MAX_DEPTH + 8;

/// Evaluates `expr`.
pub(crate) fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, ExprError> {
    eval(expr, scope, 0)
}

fn selection_error(expr: &Expr, why: String) -> ExprError {
    ExprError::eval(format!(
        "The template language expression '{expr}' cannot be evaluated because {why}. \
         Please see https://aka.ms/logicexpressions for usage details."
    ))
}

fn eval(expr: &Expr, scope: &dyn Scope, depth: usize) -> Result<Value, ExprError> {
    if depth > MAX_EVAL_DEPTH {
        return Err(ExprError::new(
            ErrorKind::TooDeep,
            format!("The expression nests more than {MAX_DEPTH} levels deep."),
        ));
    }
    let depth = depth + 1;
    match expr {
        Expr::Null => Ok(Value::Null),
        Expr::Bool(b) => Ok(Value::Bool(*b)),
        Expr::Int(n) => Ok(Value::from(*n)),
        Expr::Float(f) => functions::float_value(*f),
        Expr::String(s) => Ok(Value::String(s.clone())),
        Expr::Call { name, args } => call(name, args, scope, depth),
        Expr::Property { target, name, null_safe } => {
            let target_value = eval(target, scope, depth)?;
            select(expr, target_value, &Value::String(name.clone()), *null_safe)
        }
        Expr::Index { target, index, null_safe } => {
            let target_value = eval(target, scope, depth)?;
            let key = eval(index, scope, depth)?;
            select(expr, target_value, &key, *null_safe)
        }
    }
}

fn call(
    name: &str,
    args: &[Expr],
    scope: &dyn Scope,
    depth: usize,
) -> Result<Value, ExprError> {
    // Parsing checked the name and the count; trees built by hand are
    // checked again here.
    let function = functions::check_call(name, args.len())?;
    if function.name == "if" {
        // Only the branch taken is evaluated.
        let condition = eval(&args[0], scope, depth)?;
        return match condition {
            Value::Bool(true) => eval(&args[1], scope, depth),
            Value::Bool(false) => eval(&args[2], scope, depth),
            other => Err(ExprError::eval(format!(
                "The template language function 'if' expects its first parameter to be \
                 a boolean. The provided value is of type '{}'.",
                type_name(&other)
            ))),
        };
    }
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        values.push(eval(arg, scope, depth)?);
    }
    let mut call = Call { name: function.name, args: values, scope };
    (function.imp)(&mut call)
}

fn select(
    expr: &Expr,
    target: Value,
    key: &Value,
    null_safe: bool,
) -> Result<Value, ExprError> {
    match (target, key) {
        (Value::Object(mut object), Value::String(name)) => {
            if let Some(v) = object.remove(name.as_str()) {
                return Ok(v);
            }
            match get_property(&object, name) {
                Some(v) => Ok(v.clone()),
                // Power Automate's path keys: `?['body/value']` selects
                // `body`, then `value`.
                None if name.contains('/') && !name.starts_with('/') => {
                    let mut current = Value::Object(object);
                    for part in name.split('/') {
                        let key = Value::String(part.to_string());
                        current = select(expr, current, &key, null_safe)?;
                    }
                    Ok(current)
                }
                None if null_safe => Ok(Value::Null),
                None => {
                    let available: Vec<&str> =
                        object.keys().map(String::as_str).collect();
                    Err(selection_error(
                        expr,
                        format!(
                            "property '{name}' doesn't exist, available properties are '{}'",
                            available.join(", ")
                        ),
                    ))
                }
            }
        }
        (Value::Null, _) if null_safe => Ok(Value::Null),
        (Value::Array(mut items), key) if key.is_number() => {
            let Some(i) = as_int(key) else {
                return Err(selection_error(
                    expr,
                    format!("the array index '{key}' is not an integer"),
                ));
            };
            let len = items.len();
            if i >= 0 && (i as u64) < len as u64 {
                Ok(items.swap_remove(i as usize))
            } else if null_safe {
                Ok(Value::Null)
            } else {
                Err(selection_error(
                    expr,
                    format!(
                        "array index '{i}' is outside bounds (0, {}) of array",
                        len as i64 - 1
                    ),
                ))
            }
        }
        (Value::Object(object), key @ Value::Number(_)) => {
            let name = key.to_string();
            match get_property(&object, &name) {
                Some(v) => Ok(v.clone()),
                None if null_safe => Ok(Value::Null),
                None => {
                    Err(selection_error(expr, format!("property '{name}' doesn't exist")))
                }
            }
        }
        (Value::Array(_), key) => Err(selection_error(
            expr,
            format!(
                "arrays can only be indexed by integers, and the index is of type '{}'",
                type_name(key)
            ),
        )),
        (target, Value::String(name)) => Err(selection_error(
            expr,
            format!(
                "property '{name}' cannot be selected. Property selection is not \
                 supported on values of type '{}'",
                type_name(&target)
            ),
        )),
        (target, key) => Err(selection_error(
            expr,
            format!(
                "a value of type '{}' cannot be selected from a value of type '{}'",
                type_name(key),
                type_name(&target)
            ),
        )),
    }
}
