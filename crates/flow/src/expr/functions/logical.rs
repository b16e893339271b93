//! Logical comparison functions. `if` is evaluated lazily by the
//! evaluator (only the branch taken runs); its entry here is for the
//! function table.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Call, ExprError, Function, compare, f, type_name, values_equal};

pub(super) const FUNCTIONS: &[Function] = &[
    f("and", 1, None, and),
    f("or", 1, None, or),
    f("not", 1, Some(1), not),
    f("equals", 2, Some(2), equals),
    f("greater", 2, Some(2), greater),
    f("greaterOrEquals", 2, Some(2), greater_or_equals),
    f("less", 2, Some(2), less),
    f("lessOrEquals", 2, Some(2), less_or_equals),
    f("if", 3, Some(3), if_),
];

fn booleans(c: &Call) -> Result<Vec<bool>, ExprError> {
    (0..c.len())
        .map(|i| match c.arg(i) {
            Value::Bool(b) => Ok(*b),
            other => Err(c.error(format!(
                "expects all of its parameters to be boolean values. The provided value \
                 is of type '{}'.",
                type_name(other)
            ))),
        })
        .collect()
}

fn and(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(booleans(c)?.into_iter().all(|b| b)))
}

fn or(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(booleans(c)?.into_iter().any(|b| b)))
}

fn not(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(!c.bool(0)?))
}

fn equals(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(values_equal(c.arg(0), c.arg(1))))
}

fn order(c: &Call) -> Result<Ordering, ExprError> {
    compare(c.arg(0), c.arg(1)).ok_or_else(|| {
        c.error(format!(
            "expects two parameters of matching types: integers or decimal numbers, \
             strings, or booleans. The provided values are of types '{}' and '{}'.",
            type_name(c.arg(0)),
            type_name(c.arg(1))
        ))
    })
}

fn greater(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(order(c)? == Ordering::Greater))
}

fn greater_or_equals(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(order(c)? != Ordering::Less))
}

fn less(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(order(c)? == Ordering::Less))
}

fn less_or_equals(c: &mut Call) -> Result<Value, ExprError> {
    Ok(Value::Bool(order(c)? != Ordering::Greater))
}

/// Reached only for calls evaluated eagerly (never through the evaluator,
/// which handles `if` itself).
fn if_(c: &mut Call) -> Result<Value, ExprError> {
    let take = if c.bool(0)? { 1 } else { 2 };
    Ok(c.take(take))
}
