//! The data actions: `Compose`, `Wait`, the variable actions, `ParseJson`,
//! `Query`, `Select`, `Join` and `Terminate`, as "Schema reference guide
//! for trigger and action types in Azure Logic Apps" describes their inputs
//! and outputs.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Frame, RunCtx, now, schedule::Outcome, view::View};
use crate::{
    definition::{Action, DataOp, Status},
    duration::interval,
    expr::{CompiledValue, Scope},
};

/// Runs a data action on its evaluated inputs.
pub(crate) async fn run(
    ctx: &RunCtx<'_>,
    view: &View<'_>,
    action: &Action,
    op: DataOp,
    inputs: Value,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let shown = Some(inputs.clone());
    let result = match op {
        DataOp::Compose => Ok(Some(inputs)),
        DataOp::Wait => return wait(ctx, inputs, deadline).await,
        DataOp::InitializeVariable => initialize(ctx, &inputs).map(|()| None),
        DataOp::SetVariable
        | DataOp::IncrementVariable
        | DataOp::DecrementVariable
        | DataOp::AppendToArrayVariable
        | DataOp::AppendToStringVariable => update(ctx, view, op, &inputs),
        DataOp::ParseJson => parse_json(&inputs),
        DataOp::Join => join(&inputs),
        DataOp::Terminate => terminate(ctx, &inputs).map(|()| None),
    };
    match result {
        Ok(outputs) => Outcome::succeeded(shown, outputs),
        Err((code, message)) => {
            let _ = action;
            Outcome::failed(shown, code, message)
        }
    }
}

type Failure = (&'static str, String);

async fn wait(
    ctx: &RunCtx<'_>,
    inputs: Value,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let shown = Some(inputs.clone());
    let until = if let Some(i) = inputs.get("interval") {
        let count =
            i.get("count").and_then(|c| c.as_f64().or_else(|| c.as_str()?.parse().ok()));
        let unit = i.get("unit").and_then(Value::as_str).unwrap_or("");
        match count
            .ok_or_else(|| "interval.count is not a number".to_owned())
            .and_then(|c| interval(c, unit))
        {
            Ok(d) => now(ctx) + d,
            Err(m) => {
                return Outcome::failed(shown, "InvalidTemplate", format!("Wait: {m}"));
            }
        }
    } else if let Some(ts) = inputs.pointer("/until/timestamp").and_then(Value::as_str) {
        match OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339) {
            Ok(t) => t,
            Err(e) => {
                return Outcome::failed(
                    shown,
                    "InvalidTemplate",
                    format!("Wait: until.timestamp '{ts}' is not an ISO 8601 time: {e}"),
                );
            }
        }
    } else {
        return Outcome::failed(
            shown,
            "InvalidTemplate",
            "Wait needs inputs.interval or inputs.until",
        );
    };
    let target = match deadline {
        Some(d) if d < until => d,
        _ => until,
    };
    let left = target - now(ctx);
    if left.is_positive() {
        ctx.engine.clock.sleep(left.unsigned_abs()).await;
    }
    if deadline.is_some_and(|d| d < until) {
        let mut o =
            Outcome::failed(shown, "ActionTimedOut", "The Wait ran past its timeout.");
        o.status = Status::TimedOut;
        return o;
    }
    Outcome::succeeded(shown, None)
}

/// The types `InitializeVariable` takes and whether a value fits one.
fn fits(kind: &str, value: &Value) -> bool {
    match kind.to_ascii_lowercase().as_str() {
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "float" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_f64() => "Float",
        Value::Number(_) => "Integer",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

fn initialize(ctx: &RunCtx<'_>, inputs: &Value) -> Result<(), Failure> {
    let list = inputs.get("variables").and_then(Value::as_array).ok_or((
        "InvalidTemplate",
        "InitializeVariable needs inputs.variables, an array".to_owned(),
    ))?;
    let mut vars = ctx
        .variables
        .lock()
        .map_err(|_| ("InternalError", "variables lock".to_owned()))?;
    for v in list {
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .ok_or(("InvalidTemplate", "each variable needs a 'name'".to_owned()))?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        let value = match v.get("value") {
            Some(value) if !value.is_null() => value.clone(),
            _ => match kind.to_ascii_lowercase().as_str() {
                "boolean" => json!(false),
                "integer" => json!(0),
                "float" => json!(0.0),
                "string" => json!(""),
                "array" => json!([]),
                "object" => json!({}),
                _ => Value::Null,
            },
        };
        if !fits(kind, &value) {
            return Err((
                "InvalidVariableType",
                format!(
                    "The variable '{name}' of type '{kind}' cannot be initialized or updated \
                     with value of type '{}'.",
                    type_of(&value)
                ),
            ));
        }
        if vars.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            return Err((
                "InvalidTemplate",
                format!("The variable '{name}' is already initialized."),
            ));
        }
        vars.insert(name.to_owned(), value);
    }
    Ok(())
}

fn update(
    ctx: &RunCtx<'_>,
    view: &View<'_>,
    op: DataOp,
    inputs: &Value,
) -> Result<Option<Value>, Failure> {
    let _ = view;
    let name = inputs
        .get("name")
        .and_then(Value::as_str)
        .ok_or(("InvalidTemplate", "the action needs inputs.name".to_owned()))?;
    let mut vars = ctx
        .variables
        .lock()
        .map_err(|_| ("InternalError", "variables lock".to_owned()))?;
    let key = vars
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            ("InvalidTemplate", format!("The variable '{name}' was not initialized (InitializeVariable) before use."))
        })?;
    let current = vars.get(&key).cloned().unwrap_or(Value::Null);
    let value = inputs.get("value").cloned().unwrap_or(Value::Null);
    let mismatch = |kind: &str, v: &Value| {
        (
            "InvalidVariableType",
            format!(
                "The variable '{name}' of type '{kind}' cannot be initialized or updated with \
                 value of type '{}'.",
                type_of(v)
            ),
        )
    };
    let new = match op {
        DataOp::SetVariable => {
            let kind = type_of(&current);
            if !(fits(kind, &value) || kind == "Float" && value.is_number()) {
                return Err(mismatch(kind, &value));
            }
            value
        }
        DataOp::IncrementVariable | DataOp::DecrementVariable => {
            let by = if value.is_null() { json!(1) } else { value };
            let sign = if op == DataOp::IncrementVariable { 1 } else { -1 };
            match (&current, &by) {
                (Value::Number(c), Value::Number(b)) if c.is_i64() && b.is_i64() => {
                    let (c, b) = (c.as_i64().unwrap_or(0), b.as_i64().unwrap_or(0));
                    json!(
                        c.checked_add(sign * b)
                            .ok_or(("InvalidTemplate", "integer overflow".to_owned()))?
                    )
                }
                (Value::Number(c), Value::Number(b)) => {
                    json!(
                        c.as_f64().unwrap_or(0.0)
                            + sign as f64 * b.as_f64().unwrap_or(0.0)
                    )
                }
                (Value::Number(_), other) => {
                    return Err(mismatch(type_of(&current), other));
                }
                _ => {
                    return Err((
                        "InvalidVariableType",
                        format!(
                            "The variable '{name}' is not a number; only Integer and Float variables can be incremented or decremented."
                        ),
                    ));
                }
            }
        }
        DataOp::AppendToArrayVariable => match current {
            Value::Array(mut items) => {
                items.push(value);
                Value::Array(items)
            }
            other => return Err(mismatch(type_of(&other), &json!([]))),
        },
        DataOp::AppendToStringVariable => match (current, value) {
            (Value::String(mut s), Value::String(v)) => {
                s.push_str(&v);
                Value::String(s)
            }
            (Value::String(mut s), v @ (Value::Number(_) | Value::Bool(_))) => {
                s.push_str(&v.to_string());
                Value::String(s)
            }
            (Value::String(_), v) => return Err(mismatch("String", &v)),
            (other, _) => return Err(mismatch(type_of(&other), &json!(""))),
        },
        _ => return Ok(None),
    };
    vars.insert(key, new.clone());
    Ok(Some(json!({"body": {"name": name, "value": new}})))
}

fn parse_json(inputs: &Value) -> Result<Option<Value>, Failure> {
    let content = inputs.get("content").cloned().unwrap_or(Value::Null);
    let content = match content {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            ("InvalidJSON", format!("The 'content' property is not valid JSON: {e}"))
        })?,
        other => other,
    };
    if let Some(schema) = inputs.get("schema").filter(|s| !s.is_null()) {
        // Power Automate's "Generate from sample" writes draft-04 schemas;
        // never fetch a remote `$ref`.
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .offline()
            .build(schema)
            .map_err(|e| {
                ("InvalidTemplate", format!("The 'schema' is not a JSON schema: {e}"))
            })?;
        let errors: Vec<String> = validator
            .iter_errors(&content)
            .take(10)
            .map(|e| {
                format!(
                    "{} (at '{}')",
                    e.masked_with("value"),
                    e.instance_path().as_str()
                )
            })
            .collect();
        if !errors.is_empty() {
            return Err((
                "ValidationFailed",
                format!("The schema validation failed: {}", errors.join("; ")),
            ));
        }
    }
    Ok(Some(json!({"body": content})))
}

fn join(inputs: &Value) -> Result<Option<Value>, Failure> {
    let from = inputs
        .get("from")
        .and_then(Value::as_array)
        .ok_or(("InvalidTemplate", "Join: 'from' must be an array".to_owned()))?;
    let with = inputs.get("joinWith").and_then(Value::as_str).unwrap_or("");
    let parts: Vec<String> = from
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect();
    Ok(Some(json!({"body": parts.join(with)})))
}

fn terminate(ctx: &RunCtx<'_>, inputs: &Value) -> Result<(), Failure> {
    let status = match inputs.get("runStatus").and_then(Value::as_str).unwrap_or("Failed")
    {
        s if s.eq_ignore_ascii_case("Succeeded") => Status::Succeeded,
        s if s.eq_ignore_ascii_case("Cancelled") => Status::Cancelled,
        s if s.eq_ignore_ascii_case("Failed") => Status::Failed,
        other => {
            return Err((
                "InvalidTemplate",
                format!(
                    "Terminate: runStatus '{other}' is not Succeeded, Failed or Cancelled"
                ),
            ));
        }
    };
    let error = inputs.get("runError").cloned().filter(|e| !e.is_null());
    if let Ok(mut t) = ctx.terminated.lock()
        && t.is_none()
    {
        *t = Some((status, error));
    }
    Ok(())
}

/// Evaluates `from`, then `per_item` once per element with `item()` bound to
/// it.
async fn each<'a>(
    ctx: &'a RunCtx<'a>,
    frame: &'a Frame<'a>,
    from: &CompiledValue,
    per_item: &CompiledValue,
    name: &str,
) -> Result<(Value, Vec<(Value, Value)>), Outcome> {
    let view = View { ctx, frame };
    let items = match from.evaluate(&view) {
        Ok(Value::Array(items)) => items,
        Ok(other) => {
            return Err(Outcome::failed(
                None,
                "InvalidTemplate",
                format!(
                    "The 'from' property of '{name}' must be an array, not {}.",
                    type_of(&other)
                ),
            ));
        }
        Err(e) => return Err(Outcome::failed(None, "InvalidTemplate", e.to_string())),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let iteration = Frame::iteration(frame, name, item.clone(), i as u64);
        let view = View { ctx, frame: &iteration };
        match per_item.evaluate(&view as &dyn Scope) {
            Ok(v) => out.push((item.clone(), v)),
            Err(e) => {
                return Err(Outcome::failed(None, "InvalidTemplate", e.to_string()));
            }
        }
    }
    Ok((Value::Array(items), out))
}

/// `Query`: the items of `from` for which `where` is true.
pub(crate) async fn query<'a>(
    ctx: &'a RunCtx<'a>,
    frame: &'a Frame<'a>,
    from: &CompiledValue,
    filter: &CompiledValue,
    name: &str,
) -> Outcome {
    match each(ctx, frame, from, filter, name).await {
        Err(o) => o,
        Ok((items, results)) => {
            let mut kept = Vec::new();
            for (item, keep) in results {
                match keep {
                    Value::Bool(true) => kept.push(item),
                    Value::Bool(false) => {}
                    other => {
                        return Outcome::failed(
                            Some(json!({"from": items})),
                            "InvalidTemplate",
                            format!(
                                "The 'where' expression of '{name}' must be a boolean, not {}.",
                                type_of(&other)
                            ),
                        );
                    }
                }
            }
            Outcome::succeeded(Some(json!({"from": items})), Some(json!({"body": kept})))
        }
    }
}

/// `Select`: `select` evaluated for each item of `from`.
pub(crate) async fn select<'a>(
    ctx: &'a RunCtx<'a>,
    frame: &'a Frame<'a>,
    from: &CompiledValue,
    select: &CompiledValue,
    name: &str,
) -> Outcome {
    match each(ctx, frame, from, select, name).await {
        Err(o) => o,
        Ok((items, results)) => Outcome::succeeded(
            Some(json!({"from": items})),
            Some(
                json!({"body": results.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}),
            ),
        ),
    }
}
