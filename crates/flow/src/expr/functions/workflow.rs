//! Workflow functions: what the run has produced so far, read through the
//! [`Scope`](crate::expr::Scope).

use serde_json::Value;

use super::{Call, ExprError, Function, f, get_property, to_text};

pub(super) const FUNCTIONS: &[Function] = &[
    f("trigger", 0, Some(0), trigger),
    f("triggerBody", 0, Some(0), trigger_body),
    f("triggerOutputs", 0, Some(0), trigger_outputs),
    f("triggerFormDataValue", 1, Some(1), trigger_form_data_value),
    f("triggerFormDataMultiValues", 1, Some(1), trigger_form_data_multi_values),
    f("triggerMultipartBody", 1, Some(1), trigger_multipart_body),
    f("action", 0, Some(0), action),
    f("actions", 1, Some(1), actions),
    f("body", 1, Some(1), body),
    f("outputs", 1, Some(1), outputs),
    f("formDataValue", 2, Some(2), form_data_value),
    f("formDataMultiValues", 2, Some(2), form_data_multi_values),
    f("multipartBody", 2, Some(2), multipart_body),
    f("item", 0, Some(0), item),
    f("items", 1, Some(1), items),
    f("iterationIndexes", 1, Some(1), iteration_indexes),
    f("variables", 1, Some(1), variables),
    f("parameters", 1, Some(1), parameters),
    f("result", 1, Some(1), result),
    f("workflow", 0, Some(0), workflow),
    f("listCallbackUrl", 0, Some(0), list_callback_url),
];

/// A property of an object value, null when absent or not an object.
fn field(v: &Value, name: &str) -> Value {
    match v {
        Value::Object(o) => get_property(o, name).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `v.name` moved out of `v`, found as [`field`] finds it (exact name first,
/// then without regard to case), without copying the rest of `v`: a
/// result's `outputs` next to large `inputs`, say.
fn take_field(v: Value, name: &str) -> Value {
    let Value::Object(mut o) = v else { return Value::Null };
    if let Some(found) = o.remove(name) {
        return found;
    }
    let key = o
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name) || k.to_lowercase() == name.to_lowercase())
        .cloned();
    key.and_then(|k| o.remove(&k)).unwrap_or(Value::Null)
}

fn the_trigger(c: &Call) -> Result<Value, ExprError> {
    c.scope
        .trigger()
        .ok_or_else(|| c.error("cannot be evaluated: the trigger has no result yet."))
}

fn trigger(c: &mut Call) -> Result<Value, ExprError> {
    the_trigger(c)
}

fn trigger_outputs(c: &mut Call) -> Result<Value, ExprError> {
    Ok(take_field(the_trigger(c)?, "outputs"))
}

fn trigger_body(c: &mut Call) -> Result<Value, ExprError> {
    Ok(take_field(take_field(the_trigger(c)?, "outputs"), "body"))
}

fn the_action(c: &Call, i: usize) -> Result<Value, ExprError> {
    read_action(c, i, |scope, name| scope.action(name))
}

/// An action's result read through `read`, or the platform's error when
/// the action has not run.
fn read_action(
    c: &Call,
    i: usize,
    read: impl Fn(&dyn crate::expr::Scope, &str) -> Option<Value>,
) -> Result<Value, ExprError> {
    let name = c.string(i)?;
    read(c.scope, name).ok_or_else(|| {
        ExprError::eval(format!(
            "The template language expression '{}(''{}'')' cannot be evaluated because the \
             action '{name}' has no result: it is not defined in the workflow or has not \
             run yet.",
            c.name,
            name.replace('\'', "''")
        ))
    })
}

fn the_outputs(c: &Call) -> Result<Value, ExprError> {
    read_action(c, 0, |scope, name| scope.action_outputs(name))
}

fn action(c: &mut Call) -> Result<Value, ExprError> {
    c.scope.current_action().ok_or_else(|| {
        c.error(
            "cannot be used here: 'action()' is only available in a webhook's \
             'unsubscribe', an action's 'trackedProperties' and an 'Until' loop's condition.",
        )
    })
}

fn actions(c: &mut Call) -> Result<Value, ExprError> {
    the_action(c, 0)
}

fn body(c: &mut Call) -> Result<Value, ExprError> {
    Ok(take_field(the_outputs(c)?, "body"))
}

fn outputs(c: &mut Call) -> Result<Value, ExprError> {
    the_outputs(c)
}

/// The values of `key` in a form-data or form-encoded body: a
/// `{"$formdata": [{"key", "value"}]}` envelope, a
/// `{"$content-type": "application/x-www-form-urlencoded", "$content"}`
/// envelope, or the urlencoded text itself.
fn form_values(body: &Value, key: &str) -> Vec<Value> {
    if let Some(Value::Array(entries)) = body.get("$formdata") {
        return entries
            .iter()
            .filter(|e| e.get("key").and_then(Value::as_str) == Some(key))
            .map(|e| e.get("value").cloned().unwrap_or(Value::Null))
            .collect();
    }
    let text = match body {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("$content") {
            Some(Value::String(content)) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default()
            }
            _ => String::new(),
        },
        _ => String::new(),
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k) == key).then(|| Value::String(decode(v)))
        })
        .collect()
}

fn single(c: &Call, values: Vec<Value>, key: &str) -> Result<Value, ExprError> {
    match values.len() {
        0 => Ok(Value::Null),
        1 => Ok(values.into_iter().next().unwrap_or(Value::Null)),
        n => Err(c.error(format!(
            "cannot be evaluated: the key '{key}' has {n} values; use the MultiValues \
             function to get them all."
        ))),
    }
}

fn trigger_form_data_value(c: &mut Call) -> Result<Value, ExprError> {
    let key = c.string(0)?.to_string();
    let body = field(&field(&the_trigger(c)?, "outputs"), "body");
    single(c, form_values(&body, &key), &key)
}

fn trigger_form_data_multi_values(c: &mut Call) -> Result<Value, ExprError> {
    let key = c.string(0)?.to_string();
    let body = field(&field(&the_trigger(c)?, "outputs"), "body");
    Ok(Value::Array(form_values(&body, &key)))
}

fn form_data_value(c: &mut Call) -> Result<Value, ExprError> {
    let key = c.string(1)?.to_string();
    let body = field(&field(&the_action(c, 0)?, "outputs"), "body");
    single(c, form_values(&body, &key), &key)
}

fn form_data_multi_values(c: &mut Call) -> Result<Value, ExprError> {
    let key = c.string(1)?.to_string();
    let body = field(&field(&the_action(c, 0)?, "outputs"), "body");
    Ok(Value::Array(form_values(&body, &key)))
}

/// Part `index` of a `{"$multipart": [{"headers", "body"}]}` body.
fn part(c: &Call, body: &Value, i: usize) -> Result<Value, ExprError> {
    let index = c.int(i)?;
    let parts = body.get("$multipart").and_then(Value::as_array);
    let Some(parts) = parts else {
        return Err(c.error(
            "cannot be evaluated: the body has no multiple parts ('$multipart').",
        ));
    };
    usize::try_from(index)
        .ok()
        .and_then(|i| parts.get(i))
        .map(|p| field(p, "body"))
        .ok_or_else(|| {
            c.error(format!(
                "cannot be evaluated: the part index '{index}' is outside bounds (0, {}).",
                parts.len() as i64 - 1
            ))
        })
}

fn trigger_multipart_body(c: &mut Call) -> Result<Value, ExprError> {
    let body = field(&field(&the_trigger(c)?, "outputs"), "body");
    part(c, &body, 0)
}

fn multipart_body(c: &mut Call) -> Result<Value, ExprError> {
    let body = field(&field(&the_action(c, 0)?, "outputs"), "body");
    part(c, &body, 1)
}

fn item(c: &mut Call) -> Result<Value, ExprError> {
    c.scope.item().ok_or_else(|| {
        c.error("cannot be used here: 'item()' is only available inside a 'Foreach' loop or a 'Query' or 'Select' action.")
    })
}

fn items(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(0)?;
    c.scope.items(name).ok_or_else(|| {
        c.error(format!("cannot be evaluated: '{name}' is not a 'Foreach' loop that contains this action."))
    })
}

fn iteration_indexes(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(0)?;
    c.scope.iteration_index(name).map(Value::from).ok_or_else(|| {
        c.error(format!(
            "cannot be evaluated: '{name}' is not a loop that contains this action."
        ))
    })
}

fn variables(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(0)?;
    c.scope.variable(name).ok_or_else(|| {
        ExprError::eval(format!(
            "The template language expression 'variables(''{}'')' cannot be evaluated \
             because the variable '{name}' is not initialized.",
            name.replace('\'', "''")
        ))
    })
}

fn parameters(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(0)?;
    c.scope.parameter(name).ok_or_else(|| {
        ExprError::eval(format!(
            "The workflow parameter '{}' is not found.",
            to_text(c.arg(0))
        ))
    })
}

fn result(c: &mut Call) -> Result<Value, ExprError> {
    let name = c.string(0)?;
    c.scope.result(name).ok_or_else(|| {
        c.error(format!(
            "cannot be evaluated: '{name}' is not a 'Scope', 'Foreach' or 'Until' action \
             that has run."
        ))
    })
}

fn workflow(c: &mut Call) -> Result<Value, ExprError> {
    Ok(c.scope.workflow())
}

fn list_callback_url(c: &mut Call) -> Result<Value, ExprError> {
    Err(c.error(
        "is not available locally: callback URLs exist only for triggers and actions \
         hosted by Azure Logic Apps.",
    ))
}
