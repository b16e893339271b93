//! Reading a definition's JSON into the model: triggers, containers,
//! actions of every type, `runAfter`, retry policies and conditions, each
//! problem at its JSON path.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{
    Action, ActionKind, Condition, ConnectorStyle, Container, DataOp, DefinitionError,
    MAX_ACTIONS, MAX_NESTING, RetryPolicy, Status, Trigger, key_path,
};
use crate::{duration::parse_iso8601, expr::CompiledValue};

pub(super) fn as_object<'a>(
    value: &'a Value,
    at: &str,
) -> Result<&'a Map<String, Value>, DefinitionError> {
    value.as_object().ok_or_else(|| DefinitionError::new(at, "expected a JSON object"))
}

pub(super) fn compile(value: &Value, at: &str) -> Result<CompiledValue, DefinitionError> {
    CompiledValue::compile(value).map_err(|e| DefinitionError::expr(at, &e))
}

pub(super) fn read_trigger(
    name: &str,
    t: &Value,
    at: &str,
) -> Result<Trigger, DefinitionError> {
    let t = as_object(t, at)?;
    let kind = t
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::new(at, "the trigger has no 'type'"))?
        .to_owned();
    Ok(Trigger {
        name: name.to_owned(),
        kind,
        trigger_kind: t.get("kind").and_then(Value::as_str).map(str::to_owned),
        schema: t.get("inputs").and_then(|i| i.get("schema")).cloned(),
        path: at.to_owned(),
    })
}

pub(super) fn read_container(
    actions: &Value,
    at: &str,
    depth: usize,
    count: &mut usize,
) -> Result<Container, DefinitionError> {
    if depth > MAX_NESTING + 1 {
        return Err(DefinitionError::new(
            at,
            format!("actions are nested more than {MAX_NESTING} levels deep"),
        ));
    }
    let actions = as_object(actions, at)?;
    let mut out = Vec::with_capacity(actions.len());
    for (name, action) in actions {
        *count += 1;
        if *count > MAX_ACTIONS {
            return Err(DefinitionError::new(
                at,
                format!("a workflow has at most {MAX_ACTIONS} actions"),
            ));
        }
        out.push(read_action(
            name,
            action,
            &format!("{at}{}", key_path(name)),
            depth,
            count,
        )?);
    }
    Ok(Container { actions: out })
}

fn read_action(
    name: &str,
    raw: &Value,
    at: &str,
    depth: usize,
    count: &mut usize,
) -> Result<Action, DefinitionError> {
    let object = as_object(raw, at)?;
    let type_name = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| DefinitionError::new(at, "the action has no 'type'"))?
        .to_owned();
    let inputs_at = format!("{at}.inputs");
    let inputs = || compile(object.get("inputs").unwrap_or(&Value::Null), &inputs_at);
    let data = |op| -> Result<ActionKind, DefinitionError> {
        Ok(ActionKind::Data { op, inputs: inputs()? })
    };
    let kind = match type_name.to_ascii_lowercase().as_str() {
        "compose" => data(DataOp::Compose)?,
        "wait" => data(DataOp::Wait)?,
        "initializevariable" => data(DataOp::InitializeVariable)?,
        "setvariable" => data(DataOp::SetVariable)?,
        "incrementvariable" => data(DataOp::IncrementVariable)?,
        "decrementvariable" => data(DataOp::DecrementVariable)?,
        "appendtoarrayvariable" => data(DataOp::AppendToArrayVariable)?,
        "appendtostringvariable" => data(DataOp::AppendToStringVariable)?,
        "parsejson" => data(DataOp::ParseJson)?,
        "query" | "select" => {
            let part = |key: &str| {
                let v =
                    object.get("inputs").and_then(|i| i.get(key)).ok_or_else(|| {
                        DefinitionError::new(
                            &inputs_at,
                            format!("a {type_name} action needs 'inputs.{key}'"),
                        )
                    })?;
                compile(v, &format!("{inputs_at}.{key}"))
            };
            if type_name.eq_ignore_ascii_case("query") {
                ActionKind::Query { from: part("from")?, filter: part("where")? }
            } else {
                ActionKind::Select { from: part("from")?, select: part("select")? }
            }
        }
        "join" => data(DataOp::Join)?,
        "terminate" => data(DataOp::Terminate)?,
        "http" => ActionKind::Http { inputs: inputs()? },
        "openapiconnection" | "apiconnection" => {
            let style = if type_name.eq_ignore_ascii_case("apiconnection") {
                ConnectorStyle::ApiConnection
            } else {
                ConnectorStyle::OpenApi
            };
            let mut rest = object.get("inputs").cloned().unwrap_or(Value::Null);
            let host = rest
                .as_object_mut()
                .and_then(|m| {
                    m.remove("authentication");
                    m.remove("retryPolicy");
                    m.remove("host")
                })
                .ok_or_else(|| {
                    DefinitionError::new(
                        &inputs_at,
                        format!("a {type_name} action needs 'inputs.host'"),
                    )
                })?;
            ActionKind::Connector { style, host, inputs: compile(&rest, &inputs_at)? }
        }
        "if" => {
            let expression = object.get("expression").ok_or_else(|| {
                DefinitionError::new(at, "an If action needs 'expression'")
            })?;
            let then = nested(raw, "/actions", at, depth, count)?;
            let otherwise = nested(raw, "/else/actions", at, depth, count)?;
            ActionKind::If {
                expression: condition(expression, &format!("{at}.expression"), 0)?,
                then,
                otherwise,
            }
        }
        "switch" => {
            let expression = object.get("expression").ok_or_else(|| {
                DefinitionError::new(at, "a Switch action needs 'expression'")
            })?;
            let mut cases = Vec::new();
            if let Some(declared) = object.get("cases") {
                let declared = as_object(declared, &format!("{at}.cases"))?;
                for (case_name, case) in declared {
                    let case_at = format!("{at}.cases{}", key_path(case_name));
                    let value = case.get("case").cloned().ok_or_else(|| {
                        DefinitionError::new(&case_at, "a Switch case needs 'case'")
                    })?;
                    let actions = match case.get("actions") {
                        None => Container::default(),
                        Some(v) => read_container(
                            v,
                            &format!("{case_at}.actions"),
                            depth + 1,
                            count,
                        )?,
                    };
                    cases.push((case_name.clone(), value, actions));
                }
            }
            let default = match object.get("default").and_then(|d| d.get("actions")) {
                None => Container::default(),
                Some(v) => {
                    read_container(v, &format!("{at}.default.actions"), depth + 1, count)?
                }
            };
            ActionKind::Switch {
                expression: compile(expression, &format!("{at}.expression"))?,
                cases,
                default,
            }
        }
        "foreach" => {
            let items = object.get("foreach").ok_or_else(|| {
                DefinitionError::new(at, "a Foreach action needs 'foreach'")
            })?;
            let sequential =
                object.get("operationOptions").and_then(Value::as_str).is_some_and(|o| {
                    o.split(',').any(|o| o.trim().eq_ignore_ascii_case("Sequential"))
                });
            let repetitions = raw
                .pointer("/runtimeConfiguration/concurrency/repetitions")
                .map(|r| {
                    r.as_u64().filter(|n| (1..=50).contains(n)).ok_or_else(|| {
                        DefinitionError::new(
                            format!("{at}.runtimeConfiguration.concurrency.repetitions"),
                            "concurrency is a whole number from 1 to 50",
                        )
                    })
                })
                .transpose()?;
            let concurrency =
                if sequential { 1 } else { repetitions.unwrap_or(20) as usize };
            ActionKind::Foreach {
                items: compile(items, &format!("{at}.foreach"))?,
                actions: nested(raw, "/actions", at, depth, count)?,
                concurrency,
            }
        }
        "until" => {
            let expression = object.get("expression").ok_or_else(|| {
                DefinitionError::new(at, "an Until action needs 'expression'")
            })?;
            let limit = object.get("limit");
            let count_limit = match limit.and_then(|l| l.get("count")) {
                None => 60,
                Some(c) => {
                    c.as_u64().filter(|n| (1..=5000).contains(n)).ok_or_else(|| {
                        DefinitionError::new(
                            format!("{at}.limit.count"),
                            "limit.count is a whole number from 1 to 5000",
                        )
                    })?
                }
            };
            let timeout =
                match limit.and_then(|l| l.get("timeout")).and_then(Value::as_str) {
                    None => Duration::from_secs(3600),
                    Some(t) => parse_iso8601(t).map_err(|m| {
                        DefinitionError::new(format!("{at}.limit.timeout"), m)
                    })?,
                };
            ActionKind::Until {
                expression: condition(expression, &format!("{at}.expression"), 0)?,
                count: count_limit,
                timeout,
                actions: nested(raw, "/actions", at, depth, count)?,
            }
        }
        "scope" => {
            ActionKind::Scope { actions: nested(raw, "/actions", at, depth, count)? }
        }
        _ => {
            return Err(DefinitionError::new(
                format!("{at}.type"),
                format!(
                    "action type '{type_name}' is not one this engine runs (Compose, Wait, \
                     the variable actions, ParseJson, Query, Select, Join, If, Switch, \
                     Foreach, Until, Scope, Terminate, Http, ApiConnection, \
                     OpenApiConnection)"
                ),
            ));
        }
    };
    let run_after = read_run_after(object.get("runAfter"), &format!("{at}.runAfter"))?;
    let retry = match object.get("inputs").and_then(|i| i.get("retryPolicy")) {
        None => RetryPolicy::Default,
        Some(p) => read_retry(p, &format!("{inputs_at}.retryPolicy"))?,
    };
    let timeout = match object.get("limit").and_then(|l| l.get("timeout")) {
        Some(Value::String(t)) if !matches!(kind, ActionKind::Until { .. }) => Some(
            parse_iso8601(t)
                .map_err(|m| DefinitionError::new(format!("{at}.limit.timeout"), m))?,
        ),
        _ => None,
    };
    let secure = |what: &str| {
        raw.pointer("/runtimeConfiguration/secureData/properties")
            .and_then(Value::as_array)
            .is_some_and(|p| p.iter().any(|p| p.as_str() == Some(what)))
    };
    Ok(Action {
        name: name.to_owned(),
        path: at.to_owned(),
        type_name,
        kind,
        run_after,
        retry,
        timeout,
        secure_inputs: secure("inputs"),
        secure_outputs: secure("outputs"),
        raw: raw.clone(),
    })
}

/// The container at `pointer` inside an action (`/actions`,
/// `/else/actions`), or an empty one.
fn nested(
    raw: &Value,
    pointer: &str,
    at: &str,
    depth: usize,
    count: &mut usize,
) -> Result<Container, DefinitionError> {
    match raw.pointer(pointer) {
        None => Ok(Container::default()),
        Some(v) => read_container(
            v,
            &format!("{at}{}", pointer.replace('/', ".")),
            depth + 1,
            count,
        ),
    }
}

fn read_run_after(
    value: Option<&Value>,
    at: &str,
) -> Result<Vec<(String, Vec<Status>)>, DefinitionError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let object = as_object(value, at)?;
    let mut out = Vec::with_capacity(object.len());
    for (name, statuses) in object {
        let here = format!("{at}{}", key_path(name));
        let list = statuses.as_array().ok_or_else(|| {
            DefinitionError::new(&here, "expected an array of statuses")
        })?;
        let mut parsed = Vec::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let status = s.as_str().and_then(Status::parse).ok_or_else(|| {
                DefinitionError::new(
                    format!("{here}[{i}]"),
                    format!(
                        "{s} is not a runAfter status (Succeeded, Failed, Skipped, TimedOut)"
                    ),
                )
            })?;
            parsed.push(status);
        }
        if parsed.is_empty() {
            parsed.push(Status::Succeeded);
        }
        out.push((name.clone(), parsed));
    }
    Ok(out)
}

fn read_retry(value: &Value, at: &str) -> Result<RetryPolicy, DefinitionError> {
    let object = as_object(value, at)?;
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("default");
    let duration = |key: &str,
                    default: Option<Duration>|
     -> Result<Duration, DefinitionError> {
        match object.get(key).and_then(Value::as_str) {
            Some(t) => parse_iso8601(t)
                .map_err(|m| DefinitionError::new(format!("{at}.{key}"), m)),
            None => default.ok_or_else(|| {
                DefinitionError::new(at, format!("a {kind} retry policy needs '{key}'"))
            }),
        }
    };
    let count = || -> Result<u32, DefinitionError> {
        object
            .get("count")
            .and_then(Value::as_u64)
            .filter(|n| (1..=90).contains(n))
            .map(|n| n as u32)
            .ok_or_else(|| {
                DefinitionError::new(
                    format!("{at}.count"),
                    "count is a whole number from 1 to 90",
                )
            })
    };
    match kind.to_ascii_lowercase().as_str() {
        "default" => Ok(RetryPolicy::Default),
        "none" => Ok(RetryPolicy::None),
        "fixed" => Ok(RetryPolicy::Fixed {
            count: count()?,
            interval: duration("interval", None)?,
        }),
        "exponential" => Ok(RetryPolicy::Exponential {
            count: count()?,
            interval: duration("interval", None)?,
            minimum: duration("minimumInterval", Some(Duration::from_secs(5)))?,
            maximum: duration("maximumInterval", Some(Duration::from_secs(86_400)))?,
        }),
        other => Err(DefinitionError::new(
            format!("{at}.type"),
            format!(
                "'{other}' is not a retry policy (default, none, fixed, exponential)"
            ),
        )),
    }
}

/// The designer writes conditions as `{"and": [{"equals": [a, b]}]}`; code
/// view may write a string expression instead.
fn condition(
    value: &Value,
    at: &str,
    depth: usize,
) -> Result<Condition, DefinitionError> {
    if depth > 32 {
        return Err(DefinitionError::new(at, "the condition is nested too deeply"));
    }
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (function, args) = map.iter().next().expect("one entry");
            let args_at = format!("{at}{}", key_path(function));
            let list: Vec<&Value> = match args {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let mut parsed = Vec::with_capacity(list.len());
            for (i, arg) in list.into_iter().enumerate() {
                let here = format!("{args_at}[{i}]");
                let is_call = arg.as_object().is_some_and(|m| {
                    m.len() == 1
                        && m.keys().all(|k| crate::expr::function_arity(k).is_some())
                });
                parsed.push(if is_call {
                    condition(arg, &here, depth + 1)?
                } else {
                    Condition::Value(compile(arg, &here)?)
                });
            }
            if crate::expr::function_arity(function).is_none() {
                return Err(DefinitionError::new(
                    at,
                    format!("'{function}' is not a function a condition can use"),
                ));
            }
            Ok(Condition::Call { function: function.clone(), args: parsed })
        }
        other => Ok(Condition::Expression(compile(other, at)?)),
    }
}
