//! Runs a container's actions in `runAfter` order.
//!
//! An action whose `runAfter` predecessors have all ended runs when each
//! one's status is among those it lists, and is `Skipped` otherwise (its own
//! successors then see `Skipped`); actions whose predecessors are done run
//! concurrently. A container (the workflow, a scope, a branch, an
//! iteration) ends `Failed` when one of its last actions failed or timed
//! out — or was skipped because of such a failure upstream — and
//! `Succeeded` otherwise, which is how a `runAfter: Failed` branch "handles"
//! a failure. Sources: "Handle errors and exceptions in Azure Logic Apps"
//! (`runAfter`, scopes) and "Run actions based on group status by using
//! scopes".

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    pin::Pin,
};

use futures::{StreamExt, stream::FuturesUnordered};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Event, Frame, RunCtx, actions, control, error, http, now, view::View};
use crate::{
    definition::{Action, ActionKind, Container, Read, Status},
    run::{ActionRecord, HIDDEN, redact, timestamp},
};

/// A boxed future.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a container's run gave.
#[derive(Debug, Default)]
pub(crate) struct ContainerResult {
    pub records: BTreeMap<String, ActionRecord>,
    pub status: Status,
    pub error: Option<Value>,
}

/// Runs every action of `container` in `frame`; `prefix` names the
/// container in events (`Scope/`, `Loop[2]/`).
pub(crate) fn run_container<'a>(
    ctx: &'a RunCtx<'a>,
    container: &'a Container,
    frame: &'a Frame<'a>,
    prefix: String,
) -> BoxFuture<'a, ContainerResult> {
    Box::pin(async move {
        let mut states: BTreeMap<&str, Status> = BTreeMap::new();
        let mut records = BTreeMap::new();
        let mut started: BTreeSet<&str> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        loop {
            if !ctx.is_terminated() {
                loop {
                    let mut progressed = false;
                    for action in &container.actions {
                        let name = action.name.as_str();
                        if started.contains(name)
                            || !action
                                .run_after
                                .iter()
                                .all(|(p, _)| states.contains_key(p.as_str()))
                        {
                            continue;
                        }
                        started.insert(name);
                        progressed = true;
                        let unmet = action
                            .run_after
                            .iter()
                            .find(|(p, ok)| !ok.contains(&states[p.as_str()]));
                        match unmet {
                            None => running.push(run_action(
                                ctx,
                                action,
                                frame,
                                prefix.clone(),
                            )),
                            Some((p, ok)) => {
                                let expected: Vec<&str> =
                                    ok.iter().map(|s| s.as_str()).collect();
                                let why = error(
                                    "ActionConditionFailed",
                                    format!(
                                        "The execution of template action '{name}' is skipped: \
                                         the 'runAfter' condition for action '{p}' is not \
                                         satisfied. Expected status values '{}' and actual \
                                         value '{}'.",
                                        expected.join("', '"),
                                        states[p.as_str()]
                                    ),
                                );
                                let record = skipped(action, now(ctx), Some(why));
                                keep_result(ctx, frame, name, &record);
                                states.insert(name, Status::Skipped);
                                records.insert(name.to_owned(), record);
                            }
                        }
                    }
                    if !progressed {
                        break;
                    }
                }
            }
            match running.next().await {
                Some((name, record)) => {
                    let record: ActionRecord = record;
                    states.insert(name, record.status);
                    records.insert(name.to_owned(), record);
                }
                None => break,
            }
        }
        if !ctx.is_terminated() {
            for action in &container.actions {
                if !started.contains(action.name.as_str()) {
                    let missing: Vec<&str> = action
                        .run_after
                        .iter()
                        .map(|(p, _)| p.as_str())
                        .filter(|p| !states.contains_key(p))
                        .collect();
                    let why = error(
                        "ActionDependencyNotFound",
                        format!(
                            "The action '{}' runs after '{}', which did not run in this scope \
                             (not defined here, or a runAfter cycle).",
                            action.name,
                            missing.join("', '")
                        ),
                    );
                    let record = skipped(action, now(ctx), Some(why.clone()));
                    states.insert(&action.name, Status::Failed);
                    records.insert(
                        action.name.clone(),
                        ActionRecord { status: Status::Failed, ..record },
                    );
                }
            }
        }
        let (status, error) = container_status(container, &records);
        ContainerResult { records, status, error }
    })
}

/// The status a container's actions give it (see the module's doc).
pub(crate) fn container_status(
    container: &Container,
    records: &BTreeMap<String, ActionRecord>,
) -> (Status, Option<Value>) {
    let followed: BTreeSet<&str> = container
        .actions
        .iter()
        .flat_map(|a| a.run_after.iter().map(|(p, _)| p.as_str()))
        .collect();
    let mut worst = Status::Succeeded;
    let mut first_error = None;
    for leaf in container.actions.iter().filter(|a| !followed.contains(a.name.as_str())) {
        let (status, err) = effective(container, records, &leaf.name, 0);
        if matches!(status, Status::Failed | Status::TimedOut | Status::Cancelled) {
            if worst == Status::Succeeded {
                worst = if status == Status::Cancelled {
                    Status::Cancelled
                } else {
                    Status::Failed
                };
            }
            if first_error.is_none() {
                first_error = err;
            }
        }
    }
    (worst, first_error)
}

/// A skipped action stands for the failure that made it skip.
fn effective(
    container: &Container,
    records: &BTreeMap<String, ActionRecord>,
    name: &str,
    depth: usize,
) -> (Status, Option<Value>) {
    let Some(record) = records.get(name) else { return (Status::Succeeded, None) };
    if record.status != Status::Skipped || depth > container.actions.len() {
        let error = record.error.clone().or_else(|| {
            (record.status != Status::Succeeded).then(|| {
                error(
                    "ActionFailed",
                    format!("An action failed. No dependent actions succeeded. ({name})"),
                )
            })
        });
        return (record.status, error);
    }
    let Some(action) = container.get(name) else { return (Status::Succeeded, None) };
    action
        .run_after
        .iter()
        .map(|(p, _)| effective(container, records, p, depth + 1))
        .find(|(s, _)| matches!(s, Status::Failed | Status::TimedOut | Status::Cancelled))
        .unwrap_or((Status::Succeeded, None))
}

/// A record for an action that did not run.
pub(crate) fn skipped(
    action: &Action,
    at: OffsetDateTime,
    why: Option<Value>,
) -> ActionRecord {
    ActionRecord {
        type_name: action.type_name.clone(),
        status: Status::Skipped,
        start: at,
        end: at,
        inputs: None,
        outputs: None,
        error: why,
        code: Some("ActionSkipped".into()),
        attempts: Vec::new(),
        actions: BTreeMap::new(),
        repetitions: Vec::new(),
    }
}

/// Keeps in `frame` what the workflow's expressions read of an action's
/// result (see [`Reads`]): the whole result object for `actions('A')`, its
/// outputs for `body('A')` and `outputs('A')`, nothing when none names it.
pub(crate) fn keep_result(
    ctx: &RunCtx<'_>,
    frame: &Frame<'_>,
    name: &str,
    record: &ActionRecord,
) {
    match ctx.workflow.reads.action(name) {
        None => {}
        Some(Read::Outputs) => {
            frame.set_result(name, json!({ "outputs": record.outputs }));
        }
        Some(Read::Whole) => frame.set_result(name, result_object(name, record)),
    }
}

/// What `actions('A')` returns for a record.
pub(crate) fn result_object(name: &str, record: &ActionRecord) -> Value {
    json!({
        "name": name,
        "status": record.status.as_str(),
        "code": record.code,
        "startTime": timestamp(record.start),
        "endTime": timestamp(record.end),
        "inputs": record.inputs,
        "outputs": record.outputs,
        "error": record.error,
    })
}

/// What running one action gives before it is recorded.
pub(crate) struct Outcome {
    pub status: Status,
    pub inputs: Option<Value>,
    pub outputs: Option<Value>,
    pub error: Option<Value>,
    pub code: Option<String>,
    pub attempts: Vec<crate::run::Attempt>,
    pub actions: BTreeMap<String, ActionRecord>,
    pub repetitions: Vec<crate::run::Repetition>,
}

impl Outcome {
    pub fn succeeded(inputs: Option<Value>, outputs: Option<Value>) -> Outcome {
        Outcome {
            status: Status::Succeeded,
            inputs,
            outputs,
            error: None,
            code: Some("OK".into()),
            attempts: Vec::new(),
            actions: BTreeMap::new(),
            repetitions: Vec::new(),
        }
    }

    pub fn failed(
        inputs: Option<Value>,
        code: &str,
        message: impl Into<String>,
    ) -> Outcome {
        Outcome {
            status: Status::Failed,
            error: Some(error(code, message)),
            code: Some(code.to_owned()),
            ..Outcome::succeeded(inputs, None)
        }
    }
}

fn run_action<'a>(
    ctx: &'a RunCtx<'a>,
    action: &'a Action,
    frame: &'a Frame<'a>,
    prefix: String,
) -> BoxFuture<'a, (&'a str, ActionRecord)> {
    Box::pin(async move {
        let path = format!("{prefix}{}", action.name);
        if ctx.engine.observer.is_some() {
            ctx.emit(Event::Started {
                path: path.clone(),
                type_name: action.type_name.clone(),
            });
        }
        let start = now(ctx);
        let deadline = action.timeout.map(|t| start + t);
        let view = View { ctx, frame };
        let child_prefix = format!("{path}/");
        let outcome = match &action.kind {
            ActionKind::Data { op, inputs } => match inputs.evaluate(&view) {
                Ok(inputs) => {
                    actions::run(ctx, &view, action, *op, inputs, deadline).await
                }
                Err(e) => {
                    Outcome::failed(None, "InvalidTemplate", invalid_template(action, &e))
                }
            },
            ActionKind::Query { from, filter } => {
                actions::query(ctx, frame, from, filter, &action.name).await
            }
            ActionKind::Select { from, select } => {
                actions::select(ctx, frame, from, select, &action.name).await
            }
            ActionKind::Http { inputs } => match inputs.evaluate(&view) {
                Ok(inputs) => http::run_http(ctx, action, inputs, deadline).await,
                Err(e) => {
                    Outcome::failed(None, "InvalidTemplate", invalid_template(action, &e))
                }
            },
            ActionKind::Connector { style, host, inputs } => match inputs.evaluate(&view)
            {
                Ok(inputs) => {
                    http::run_connector(ctx, action, *style, host, inputs, deadline).await
                }
                Err(e) => {
                    Outcome::failed(None, "InvalidTemplate", invalid_template(action, &e))
                }
            },
            _ => control::run(ctx, action, frame, child_prefix, deadline).await,
        };
        let end = now(ctx);
        let mut outcome = outcome;
        if let Some(deadline) = deadline
            && end > deadline
            && outcome.status != Status::TimedOut
        {
            outcome.status = Status::TimedOut;
            outcome.error = Some(error(
                "ActionTimedOut",
                format!(
                    "The action '{}' did not complete within its timeout.",
                    action.name
                ),
            ));
        }
        ctx.emit(Event::Ended {
            path,
            status: outcome.status,
            attempts: outcome.attempts.len(),
            duration: (end - start).unsigned_abs(),
        });
        let mut record = ActionRecord {
            type_name: action.type_name.clone(),
            status: outcome.status,
            start,
            end,
            inputs: outcome.inputs,
            outputs: outcome.outputs,
            error: outcome.error,
            code: outcome.code,
            attempts: outcome.attempts,
            actions: outcome.actions,
            repetitions: outcome.repetitions,
        };
        // Expressions see the real outputs; the record keeps only what may
        // be stored.
        keep_result(ctx, frame, &action.name, &record);
        for (secure, part) in [
            (action.secure_inputs, &mut record.inputs),
            (action.secure_outputs, &mut record.outputs),
        ] {
            if let Some(v) = part {
                if secure {
                    *v = Value::String(HIDDEN.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        (action.name.as_str(), record)
    })
}

/// Logic Apps' message for an expression that fails at run time.
pub(crate) fn invalid_template(action: &Action, e: &crate::expr::ExprError) -> String {
    format!(
        "Unable to process template language expressions in action '{}' inputs: {e}",
        action.name
    )
}
