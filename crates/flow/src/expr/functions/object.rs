//! JSON object manipulation: `coalesce`, `addProperty`, `setProperty`,
//! `removeProperty`.

use serde_json::Value;

use super::{Call, ExprError, Function, f};

pub(super) const FUNCTIONS: &[Function] = &[
    f("coalesce", 1, None, coalesce),
    f("addProperty", 3, Some(3), add_property),
    f("setProperty", 3, Some(3), set_property),
    f("removeProperty", 2, Some(2), remove_property),
];

fn coalesce(c: &mut Call) -> Result<Value, ExprError> {
    Ok(c.args
        .iter_mut()
        .find(|v| !v.is_null())
        .map(std::mem::take)
        .unwrap_or(Value::Null))
}

fn add_property(c: &mut Call) -> Result<Value, ExprError> {
    c.object(0)?;
    let name = c.string(1)?.to_string();
    if c.object(0)?.contains_key(&name) {
        return Err(c.error(format!(
            "cannot be evaluated: the property '{name}' already exists in the object."
        )));
    }
    let value = c.take(2);
    let mut o = take_object(c)?;
    o.insert(name, value);
    Ok(Value::Object(o))
}

fn set_property(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(1)?.to_string();
    let value = c.take(2);
    let mut o = take_object(c)?;
    o.insert(name, value);
    Ok(Value::Object(o))
}

fn remove_property(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(1)?.to_string();
    let mut o = take_object(c)?;
    o.remove(&name);
    Ok(Value::Object(o))
}

/// The first argument, which must be an object.
fn take_object(c: &mut Call) -> Result<serde_json::Map<String, Value>, ExprError> {
    match c.take(0) {
        Value::Object(o) => Ok(o),
        other => {
            c.args[0] = other;
            Err(c.type_error(0, "an object"))
        }
    }
}
