//! The control actions: `If`, `Switch`, `Scope`, `Foreach` and `Until`.
//!
//! A container action's status is its inner actions' status, computed as
//! for the workflow (see [`super::schedule`]); the actions of a branch that
//! is not taken are recorded `Skipped`. `Foreach` runs up to its
//! concurrency's iterations at a time (20 by default, 1 with
//! `Sequential`); `Until` runs its body, then checks its condition, until
//! the condition is true or `limit.count` / `limit.timeout` is reached —
//! which ends the loop without failing it.

use std::collections::BTreeMap;

use futures::{StreamExt, stream};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{
    Frame, RunCtx, now,
    schedule::{
        ContainerResult, Outcome, keep_result, result_object, run_container, skipped,
    },
    view::View,
};
use crate::{
    definition::{Action, ActionKind, Condition, Container, Status},
    expr::{self, ExprError, Scope},
    run::{ActionRecord, Repetition},
};

/// Logic Apps' limit on a `Foreach`'s items (Consumption: 100,000).
pub const MAX_FOREACH_ITEMS: usize = 100_000;

/// Runs a control action.
pub(crate) async fn run<'a>(
    ctx: &'a RunCtx<'a>,
    action: &'a Action,
    frame: &'a Frame<'a>,
    prefix: String,
    deadline: Option<OffsetDateTime>,
) -> Outcome {
    let _ = deadline;
    let view = View { ctx, frame };
    match &action.kind {
        ActionKind::If { expression, then, otherwise } => {
            let result = match evaluate_condition(expression, &view) {
                Ok(b) => b,
                Err(message) => return Outcome::failed(None, "InvalidTemplate", message),
            };
            let (taken, other) =
                if result { (then, otherwise) } else { (otherwise, then) };
            let inputs = Some(json!({"expressionResult": result}));
            branch(ctx, taken, &[other], frame, prefix, inputs).await
        }
        ActionKind::Switch { expression, cases, default } => {
            let value = match expression.evaluate(&view) {
                Ok(v) => v,
                Err(e) => return Outcome::failed(None, "InvalidTemplate", e.to_string()),
            };
            if !(value.is_string() || value.is_i64() || value.is_u64()) {
                return Outcome::failed(
                    Some(json!({"expression": value})),
                    "InvalidTemplate",
                    "The 'expression' of a Switch must evaluate to a string or an integer.",
                );
            }
            let chosen = cases.iter().position(|(_, case, _)| case == &value);
            let taken = chosen.map(|i| &cases[i].2).unwrap_or(default);
            let others: Vec<&Container> = cases
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != chosen)
                .map(|(_, c)| &c.2)
                .chain(chosen.is_some().then_some(default))
                .collect();
            let inputs = Some(json!({"expression": value}));
            branch(ctx, taken, &others, frame, prefix, inputs).await
        }
        ActionKind::Scope { actions } => {
            let result = run_container(ctx, actions, frame, prefix).await;
            if ctx.workflow.reads.result(&action.name) {
                frame.set_scope_result(&action.name, results_array(&result.records));
            }
            from_container(None, result)
        }
        ActionKind::Foreach { items, actions, concurrency } => {
            let items = match items.evaluate(&view) {
                Ok(Value::Array(items)) => items,
                Ok(Value::Null) => Vec::new(),
                Ok(other) => {
                    return Outcome::failed(
                        None,
                        "InvalidTemplate",
                        format!(
                            "The 'foreach' of '{}' must evaluate to an array, not {}.",
                            action.name,
                            short(&other)
                        ),
                    );
                }
                Err(e) => return Outcome::failed(None, "InvalidTemplate", e.to_string()),
            };
            if items.len() > MAX_FOREACH_ITEMS {
                return Outcome::failed(
                    None,
                    "InvalidTemplate",
                    format!(
                        "A Foreach takes at most {MAX_FOREACH_ITEMS} items; got {}.",
                        items.len()
                    ),
                );
            }
            let name = action.name.as_str();
            let count = items.len();
            let reps: Vec<(usize, Value, ContainerResult)> =
                stream::iter(items.into_iter().enumerate())
                    .map(|(i, item)| {
                        let prefix = format!("{name}[{i}]/");
                        async move {
                            if ctx.is_terminated() {
                                return None;
                            }
                            let child =
                                Frame::iteration(frame, name, item.clone(), i as u64);
                            let result =
                                run_container(ctx, actions, &child, prefix).await;
                            Some((i, item, result))
                        }
                    })
                    .buffer_unordered((*concurrency).max(1))
                    .filter_map(|r| async move { r })
                    .collect()
                    .await;
            loops(ctx, frame, name, Some(json!({"itemCount": count})), reps)
        }
        ActionKind::Until { expression, count, timeout, actions } => {
            let name = action.name.as_str();
            let started = now(ctx);
            let mut reps = Vec::new();
            for i in 0..*count {
                if ctx.is_terminated() || now(ctx) - started >= *timeout {
                    break;
                }
                let child = Frame::iteration(frame, name, Value::Null, i);
                let result =
                    run_container(ctx, actions, &child, format!("{name}[{i}]/")).await;
                let view = View { ctx, frame: &child };
                let done = match evaluate_condition(expression, &view) {
                    Ok(done) => done,
                    Err(message) => {
                        return Outcome::failed(None, "InvalidTemplate", message);
                    }
                };
                reps.push((i as usize, Value::Null, result));
                if done {
                    break;
                }
            }
            loops(ctx, frame, name, Some(json!({"iterations": reps.len()})), reps)
        }
        _ => Outcome::failed(None, "InternalError", "not a control action"),
    }
}

async fn branch<'a>(
    ctx: &'a RunCtx<'a>,
    taken: &'a Container,
    others: &[&'a Container],
    frame: &'a Frame<'a>,
    prefix: String,
    inputs: Option<Value>,
) -> Outcome {
    let mut result = run_container(ctx, taken, frame, prefix).await;
    let at = now(ctx);
    for other in others {
        for a in &other.actions {
            let record = skipped(a, at, None);
            keep_result(ctx, frame, &a.name, &record);
            result.records.insert(a.name.clone(), record);
        }
    }
    from_container(inputs, result)
}

fn from_container(inputs: Option<Value>, result: ContainerResult) -> Outcome {
    let mut outcome = Outcome::succeeded(inputs, None);
    outcome.status = result.status;
    if result.status != Status::Succeeded {
        outcome.code = Some("ActionFailed".into());
        outcome.error = Some(super::error(
            "ActionFailed",
            "An action failed. No dependent actions succeeded.",
        ));
    }
    outcome.actions = result.records;
    outcome
}

fn loops(
    ctx: &RunCtx<'_>,
    frame: &Frame<'_>,
    name: &str,
    inputs: Option<Value>,
    mut reps: Vec<(usize, Value, ContainerResult)>,
) -> Outcome {
    reps.sort_by_key(|(i, _, _)| *i);
    let failed = reps.iter().any(|(_, _, r)| r.status != Status::Succeeded);
    let read = ctx.workflow.reads.result(name);
    let mut all = Vec::new();
    let repetitions: Vec<Repetition> = reps
        .into_iter()
        .map(|(index, item, r)| {
            if read && let Value::Array(items) = results_array(&r.records) {
                all.extend(items);
            }
            Repetition {
                index,
                status: r.status,
                item: (!item.is_null()).then_some(item),
                actions: r.records,
            }
        })
        .collect();
    if read {
        frame.set_scope_result(name, Value::Array(all));
    }
    let mut outcome = Outcome::succeeded(inputs, None);
    if failed {
        outcome.status = Status::Failed;
        outcome.code = Some("ActionFailed".into());
        outcome.error = Some(super::error(
            "ActionFailed",
            "An action failed. No dependent actions succeeded.",
        ));
    }
    outcome.repetitions = repetitions;
    outcome
}

fn results_array(records: &BTreeMap<String, ActionRecord>) -> Value {
    Value::Array(records.iter().map(|(n, r)| result_object(n, r)).collect())
}

fn short(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Evaluates an `If`/`Until` condition to a boolean.
pub(crate) fn evaluate_condition(
    condition: &Condition,
    scope: &dyn Scope,
) -> Result<bool, String> {
    match condition_value(condition, scope).map_err(|e| e.to_string())? {
        Value::Bool(b) => Ok(b),
        other => Err(format!(
            "The expression of the condition must evaluate to a boolean, not {}.",
            short(&other)
        )),
    }
}

fn condition_value(condition: &Condition, scope: &dyn Scope) -> Result<Value, ExprError> {
    match condition {
        Condition::Expression(v) | Condition::Value(v) => v.evaluate(scope),
        Condition::Call { function, args } => {
            let values = args
                .iter()
                .map(|a| condition_value(a, scope))
                .collect::<Result<Vec<_>, _>>()?;
            expr::call_function(function, values, scope)
        }
    }
}
