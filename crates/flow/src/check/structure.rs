//! Each trigger's and action's own settings: types, `runAfter` (targets,
//! containers, statuses, cycles), the inputs each type needs, retry
//! policies, timeouts, loops, conditions, Switch cases, variables'
//! declarations and connector operations.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Sink, model::Model};
use crate::{
    connector::Connectors, definition::key_path, duration::parse_iso8601,
    expr::function_arity,
};

/// Action types `graphlab flow run` runs (lower case).
const RUNNABLE: &[&str] = &[
    "compose",
    "wait",
    "initializevariable",
    "setvariable",
    "incrementvariable",
    "decrementvariable",
    "appendtoarrayvariable",
    "appendtostringvariable",
    "parsejson",
    "query",
    "select",
    "join",
    "terminate",
    "http",
    "openapiconnection",
    "apiconnection",
    "if",
    "switch",
    "foreach",
    "until",
    "scope",
];

/// Other action types of the "Schema reference guide for trigger and action
/// types in Azure Logic Apps" and Power Automate's exports.
const KNOWN_ELSEWHERE: &[&str] = &[
    "response",
    "workflow",
    "function",
    "apimanagement",
    "httpwebhook",
    "apiconnectionwebhook",
    "openapiconnectionwebhook",
    "table",
    "xslt",
    "liquid",
    "xmlvalidation",
    "flatfiledecoding",
    "flatfileencoding",
    "javascriptcode",
    "sendtobatch",
    "expression",
    "chunk",
];

/// Trigger types of the same reference.
const TRIGGERS: &[&str] = &[
    "request",
    "recurrence",
    "http",
    "httpwebhook",
    "apiconnection",
    "apiconnectionwebhook",
    "openapiconnection",
    "openapiconnectionwebhook",
    "openapiconnectionnotification",
    "apimanagement",
    "batch",
    "slidingwindow",
];

/// `runAfter` statuses ("Workflow Definition Language schema reference":
/// runAfter).
const STATUSES: &[&str] = &["Succeeded", "Failed", "Skipped", "TimedOut"];

/// Runs the checks of this module.
pub(crate) fn check(model: &Model<'_>, connectors: Option<&Connectors>, sink: &mut Sink) {
    for (name, at, raw) in &model.triggers {
        match raw.get("type").and_then(Value::as_str) {
            None => sink.error("trigger.type", at.clone(), format!("the trigger '{name}' has no 'type'")),
            Some(t) if !TRIGGERS.contains(&t.to_ascii_lowercase().as_str()) => sink.error(
                "trigger.type",
                format!("{at}.type"),
                format!("'{t}' is not a trigger type (Request, Recurrence, Http, ApiConnection, OpenApiConnection, ...)"),
            ),
            Some(_) => {}
        }
    }
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    for (index, node) in model.nodes.iter().enumerate() {
        action_type(node.raw, &node.kind, &node.path, sink);
        run_after(model, index, sink);
        inputs(node.raw, &node.kind, &node.path, sink);
        settings(node.raw, &node.kind, &node.path, sink);
        if matches!(node.kind.as_str(), "openapiconnection" | "apiconnection") {
            connector(node.raw, &node.kind, &node.path, connectors, sink);
        }
        if node.kind == "initializevariable" {
            if node.level > 0 {
                sink.error(
                    "variable.initialize-nested",
                    node.path.clone(),
                    format!(
                        "'{}' initializes a variable inside a container: InitializeVariable \
                         actions are only allowed at the top level of a workflow",
                        node.name
                    ),
                );
            }
            for (i, v) in declared_variables(node.raw) {
                if let Some(first) = variables.get(&v) {
                    sink.error(
                        "variable.duplicate",
                        format!("{}.inputs.variables[{i}].name", node.path),
                        format!("the variable '{v}' is already initialized by '{first}'"),
                    );
                } else {
                    variables.insert(v, node.name.to_owned());
                }
            }
        }
    }
    cycles(model, sink);
}

/// The variables an InitializeVariable declares: (index, name).
pub(crate) fn declared_variables(raw: &Map<String, Value>) -> Vec<(usize, String)> {
    raw.get("inputs")
        .and_then(|i| i.get("variables"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    v.get("name").and_then(Value::as_str).map(|n| (i, n.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn action_type(raw: &Map<String, Value>, kind: &str, at: &str, sink: &mut Sink) {
    match raw.get("type") {
        None => sink.error("action.type", at, "the action has no 'type'"),
        Some(Value::String(t)) if RUNNABLE.contains(&kind) => {
            let _ = t;
        }
        Some(Value::String(t)) if KNOWN_ELSEWHERE.contains(&kind) => sink.warning(
            "action.unsupported",
            format!("{at}.type"),
            format!(
                "'{t}' is a Logic Apps action type that graphlab flow run does not run"
            ),
        ),
        Some(other) => sink.error(
            "action.type",
            format!("{at}.type"),
            format!(
                "{other} is not an action type (Compose, Wait, InitializeVariable, If, \
                 Foreach, Scope, Http, OpenApiConnection, ApiConnection, ...)"
            ),
        ),
    }
}

fn run_after(model: &Model<'_>, index: usize, sink: &mut Sink) {
    let node = &model.nodes[index];
    let at = format!("{}.runAfter", node.path);
    let Some(value) = node.raw.get("runAfter") else { return };
    let Some(map) = value.as_object() else {
        sink.error(
            "structure.object",
            at,
            "runAfter is a JSON object: {ACTION: [STATUS, ...]}",
        );
        return;
    };
    for (target, statuses) in map {
        let here = format!("{at}{}", key_path(target));
        match model.by_name.get(target.as_str()) {
            None => sink.error(
                "runafter.unknown-action",
                here.clone(),
                // The platform's words (InvalidTemplate, e.g. Azure/Azure-Sentinel#887).
                format!(
                    "The 'runAfter' property of template action '{}' contains non-existent \
                     action: '{target}'.",
                    node.name
                ),
            ),
            Some(found) if !found.iter().any(|&f| model.nodes[f].block == node.block) => {
                let other = &model.nodes[found[0]];
                let container = |block: usize| match model.blocks[block].owner {
                    None => "the top level".to_owned(),
                    Some(o) => format!("'{}'", model.nodes[o].name),
                };
                sink.error(
                    "runafter.other-container",
                    here.clone(),
                    format!(
                        "'{}' (in {}) runs after '{target}', which is in {}: runAfter may only \
                         name actions of the same container",
                        node.name,
                        container(node.block),
                        container(other.block)
                    ),
                );
            }
            Some(_) => {}
        }
        let Some(list) = statuses.as_array() else {
            sink.error(
                "runafter.status",
                here,
                "expected an array of statuses (Succeeded, Failed, Skipped, TimedOut)",
            );
            continue;
        };
        for (i, s) in list.iter().enumerate() {
            let ok = s
                .as_str()
                .is_some_and(|s| STATUSES.iter().any(|k| k.eq_ignore_ascii_case(s)));
            if !ok {
                sink.error(
                    "runafter.status",
                    format!("{here}[{i}]"),
                    format!("{s} is not a runAfter status (Succeeded, Failed, Skipped, TimedOut)"),
                );
            }
        }
    }
}

/// Reports each runAfter cycle once, at the runAfter of its first action.
fn cycles(model: &Model<'_>, sink: &mut Sink) {
    // 0: not visited, 1: on the stack, 2: done.
    let mut state = vec![0u8; model.nodes.len()];
    let mut reported = BTreeSet::new();
    for start in 0..model.nodes.len() {
        if state[start] != 0 {
            continue;
        }
        // Iterative depth-first search: (node, its successors, next one).
        let mut stack: Vec<(usize, Vec<usize>, usize)> =
            vec![(start, model.run_after(start), 0)];
        state[start] = 1;
        while let Some((node, next, i)) = stack.last_mut() {
            if *i == next.len() {
                state[*node] = 2;
                stack.pop();
                continue;
            }
            let target = next[*i];
            *i += 1;
            match state[target] {
                0 => {
                    state[target] = 1;
                    stack.push((target, model.run_after(target), 0));
                }
                1 => {
                    let from =
                        stack.iter().position(|(n, _, _)| *n == target).unwrap_or(0);
                    let mut members: Vec<usize> =
                        stack[from..].iter().map(|(n, _, _)| *n).collect();
                    let key: BTreeSet<usize> = members.iter().copied().collect();
                    if reported.insert(key) {
                        members.push(target);
                        let names: Vec<&str> =
                            members.iter().map(|&n| model.nodes[n].name).collect();
                        sink.error(
                            "runafter.cycle",
                            format!("{}.runAfter", model.nodes[target].path),
                            format!(
                                "these actions wait for each other, so none can run: {} (each \
                                 runs after the next)",
                                names.join(" → ")
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

fn need(raw: &Map<String, Value>, pointer: &str) -> bool {
    raw.get("inputs").and_then(|i| i.pointer(pointer)).is_some_and(|v| !v.is_null())
}

/// "a Compose", "an InitializeVariable": the type as written.
fn article(raw: &Map<String, Value>) -> String {
    let name = raw.get("type").and_then(Value::as_str).unwrap_or("");
    let vowel = name.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']);
    format!("{} {name}", if vowel { "an" } else { "a" })
}

/// What each action type needs in `inputs` (the schema reference's
/// "required" values).
fn inputs(raw: &Map<String, Value>, kind: &str, at: &str, sink: &mut Sink) {
    let inputs_at = format!("{at}.inputs");
    let mut missing = |what: &str| {
        sink.error(
            "action.inputs",
            inputs_at.clone(),
            format!("{} action needs {what}", article(raw)),
        );
    };
    let has_inputs = raw.get("inputs").is_some_and(|v| !v.is_null());
    match kind {
        "compose" if !has_inputs => missing("'inputs'"),
        "wait" if !need(raw, "/interval") && !need(raw, "/until") => {
            missing("'inputs.interval' ({count, unit}) or 'inputs.until' ({timestamp})")
        }
        "wait"
            if need(raw, "/interval")
                && (!need(raw, "/interval/count") || !need(raw, "/interval/unit")) =>
        {
            missing("'inputs.interval.count' and 'inputs.interval.unit'")
        }
        "initializevariable" => {
            match raw
                .get("inputs")
                .and_then(|i| i.get("variables"))
                .and_then(Value::as_array)
            {
                Some(list) if !list.is_empty() => {
                    for (i, v) in list.iter().enumerate() {
                        let name = v.get("name").and_then(Value::as_str);
                        let kind = v.get("type").and_then(Value::as_str);
                        let good_type = kind.is_some_and(|k| {
                            ["boolean", "integer", "float", "string", "object", "array"]
                                .contains(&k.to_ascii_lowercase().as_str())
                        });
                        if name.is_none() || !good_type {
                            sink.error(
                                "action.inputs",
                                format!("{inputs_at}.variables[{i}]"),
                                "a variable needs a 'name' and a 'type' (Boolean, Integer, \
                                 Float, String, Object, Array)",
                            );
                        }
                    }
                }
                _ => missing("'inputs.variables': [{name, type, value}]"),
            }
        }
        "setvariable" | "appendtoarrayvariable" | "appendtostringvariable"
            if !need(raw, "/name")
                || raw.get("inputs").is_none_or(|i| i.get("value").is_none()) =>
        {
            missing("'inputs.name' and 'inputs.value'")
        }
        "incrementvariable" | "decrementvariable" if !need(raw, "/name") => {
            missing("'inputs.name'")
        }
        "parsejson" if !need(raw, "/content") || !need(raw, "/schema") => {
            missing("'inputs.content' and 'inputs.schema'")
        }
        "query" if !need(raw, "/from") || !need(raw, "/where") => {
            missing("'inputs.from' and 'inputs.where'")
        }
        "select" if !need(raw, "/from") || !need(raw, "/select") => {
            missing("'inputs.from' and 'inputs.select'")
        }
        "join" if !need(raw, "/from") || !need(raw, "/joinWith") => {
            missing("'inputs.from' and 'inputs.joinWith'")
        }
        "http" if !need(raw, "/method") || !need(raw, "/uri") => {
            missing("'inputs.method' and 'inputs.uri'")
        }
        "terminate" => {
            let status = raw
                .get("inputs")
                .and_then(|i| i.get("runStatus"))
                .and_then(Value::as_str);
            if !status.is_some_and(|s| {
                ["succeeded", "failed", "cancelled"]
                    .contains(&s.to_ascii_lowercase().as_str())
            }) {
                missing("'inputs.runStatus': Succeeded, Failed or Cancelled")
            }
        }
        "foreach" if raw.get("foreach").is_none_or(Value::is_null) => sink.error(
            "action.inputs",
            at,
            "a Foreach action needs 'foreach': the array to loop over",
        ),
        _ => {}
    }
}

/// Retry policies, timeouts, loops' limits, conditions and Switch cases.
fn settings(raw: &Map<String, Value>, kind: &str, at: &str, sink: &mut Sink) {
    if let Some(policy) = raw.get("inputs").and_then(|i| i.get("retryPolicy")) {
        retry_policy(policy, &format!("{at}.inputs.retryPolicy"), sink);
    }
    if let Some(timeout) = raw.get("limit").and_then(|l| l.get("timeout")) {
        let here = format!("{at}.limit.timeout");
        match timeout.as_str() {
            Some(t) if t.starts_with('@') => {}
            Some(t) => {
                if let Err(m) = parse_iso8601(t) {
                    sink.error("limit.timeout", here, m);
                }
            }
            None => sink.error(
                "limit.timeout",
                here,
                format!("{timeout} is not an ISO 8601 duration such as PT1H"),
            ),
        }
    }
    match kind {
        "foreach" => {
            if let Some(r) = raw
                .get("runtimeConfiguration")
                .and_then(|r| r.pointer("/concurrency/repetitions"))
                && !r.as_u64().is_some_and(|n| (1..=50).contains(&n))
            {
                sink.error(
                        "foreach.concurrency",
                        format!("{at}.runtimeConfiguration.concurrency.repetitions"),
                        format!(
                            "{r}: Foreach concurrency is a whole number from 1 to 50 (\"Limits and \
                             configuration reference for Azure Logic Apps\")"
                        ),
                    );
            }
        }
        "until" => {
            if let Some(c) = raw.get("limit").and_then(|l| l.get("count"))
                && !c.as_u64().is_some_and(|n| (1..=5000).contains(&n))
            {
                sink.error(
                        "until.limit",
                        format!("{at}.limit.count"),
                        format!(
                            "{c}: an Until loop's count limit is a whole number from 1 to 5000 \
                             (\"Limits and configuration reference for Azure Logic Apps\")"
                        ),
                    );
            }
            condition(raw, kind, at, sink);
        }
        "if" => condition(raw, kind, at, sink),
        "switch" => {
            if raw.get("expression").is_none_or(Value::is_null) {
                sink.error(
                    "condition.expression",
                    at,
                    "a Switch action needs 'expression'",
                );
            }
            switch_cases(raw, at, sink);
        }
        _ => {}
    }
}

fn retry_policy(policy: &Value, at: &str, sink: &mut Sink) {
    let Some(object) = policy.as_object() else {
        sink.error(
            "retry.policy",
            at,
            "a retryPolicy is a JSON object: {type, count, interval, ...}",
        );
        return;
    };
    let kind = object.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase);
    let kind = match kind.as_deref() {
        Some(k @ ("none" | "default" | "fixed" | "exponential")) => k.to_owned(),
        _ => {
            sink.error(
                "retry.policy",
                format!("{at}.type"),
                format!(
                    "{} is not a retry policy type (none, default, fixed, exponential)",
                    object.get("type").map_or("nothing".to_owned(), Value::to_string)
                ),
            );
            return;
        }
    };
    if kind != "fixed" && kind != "exponential" {
        return;
    }
    match object.get("count") {
        Some(c) if c.as_u64().is_some_and(|n| (1..=90).contains(&n)) => {}
        other => sink.error(
            "retry.policy",
            format!("{at}.count"),
            format!(
                "{}: a {kind} retry policy's count is a whole number from 1 to 90",
                other.map_or("missing".to_owned(), Value::to_string)
            ),
        ),
    }
    let intervals: &[&str] = if kind == "fixed" {
        &["interval"]
    } else {
        &["interval", "minimumInterval", "maximumInterval"]
    };
    for key in intervals {
        let here = format!("{at}.{key}");
        match object.get(*key) {
            None if *key == "interval" => sink.error(
                "retry.policy",
                here,
                format!("a {kind} retry policy needs 'interval'"),
            ),
            None => {}
            Some(Value::String(t)) => {
                if let Err(m) = parse_iso8601(t) {
                    sink.error("retry.policy", here, m);
                }
            }
            Some(other) => sink.error(
                "retry.policy",
                here,
                format!("{other} is not an ISO 8601 duration such as PT10S"),
            ),
        }
    }
}

/// `If` and `Until`: `expression`, a string or the designer's
/// `{"and": [{"equals": [a, b]}]}`.
fn condition(raw: &Map<String, Value>, kind: &str, at: &str, sink: &mut Sink) {
    let Some(expression) = raw.get("expression").filter(|e| !e.is_null()) else {
        let name = if kind == "if" { "an If" } else { "an Until" };
        sink.error(
            "condition.expression",
            at,
            format!("{name} action needs 'expression'"),
        );
        return;
    };
    if let Value::Object(map) = expression {
        designer_condition(map, &format!("{at}.expression"), 0, sink);
    }
}

fn designer_condition(map: &Map<String, Value>, at: &str, depth: usize, sink: &mut Sink) {
    if depth > 32 {
        sink.error("condition.expression", at, "the condition is nested too deeply");
        return;
    }
    if map.len() != 1 {
        sink.error(
            "condition.expression",
            at,
            "a condition object holds exactly one function: {\"and\": [...]}, {\"equals\": [a, b]}, ...",
        );
        return;
    }
    let (function, args) = map.iter().next().expect("one entry");
    if function_arity(function).is_none() {
        sink.error(
            "condition.expression",
            at.to_owned(),
            format!("'{function}' is not a function a condition can use"),
        );
        return;
    }
    let here = format!("{at}{}", key_path(function));
    if let Value::Array(items) = args {
        for (i, item) in items.iter().enumerate() {
            if let Value::Object(inner) = item
                && inner.len() == 1
            {
                designer_condition(inner, &format!("{here}[{i}]"), depth + 1, sink);
            }
        }
    }
}

fn switch_cases(raw: &Map<String, Value>, at: &str, sink: &mut Sink) {
    let Some(cases) = raw.get("cases") else { return };
    let Some(cases) = cases.as_object() else {
        sink.error(
            "structure.object",
            format!("{at}.cases"),
            "'cases' is a JSON object: {NAME: {case, actions}}",
        );
        return;
    };
    let mut seen: Vec<(&Value, &str)> = Vec::new();
    for (name, case) in cases {
        let here = format!("{at}.cases{}", key_path(name));
        match case.get("case") {
            None | Some(Value::Null) => {
                sink.error(
                    "switch.case",
                    here,
                    format!("the case '{name}' has no 'case' value"),
                );
            }
            Some(v @ (Value::Object(_) | Value::Array(_) | Value::Bool(_))) => sink
                .error(
                    "switch.case",
                    format!("{here}.case"),
                    format!("{v}: a case value is a string or a number"),
                ),
            Some(v) => {
                if let Some((_, first)) = seen.iter().find(|(s, _)| *s == v) {
                    sink.error(
                        "switch.case-duplicate",
                        format!("{here}.case"),
                        format!("the case '{name}' has the value {v}, like the case '{first}': case values are unique"),
                    );
                } else {
                    seen.push((v, name));
                }
            }
        }
    }
}

/// `host` as each style needs it; with connectors, the operation.
fn connector<'a>(
    raw: &'a Map<String, Value>,
    kind: &str,
    at: &str,
    connectors: Option<&Connectors>,
    sink: &mut Sink,
) {
    let inputs = raw.get("inputs");
    let host = inputs.and_then(|i| i.get("host"));
    let host_at = format!("{at}.inputs.host");
    let text = |v: Option<&'a Value>| -> Option<&'a str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    };
    if kind == "openapiconnection" {
        let Some(operation) = text(host.and_then(|h| h.get("operationId"))) else {
            sink.error(
                "connector.host",
                host_at,
                "an OpenApiConnection action names its operation in 'inputs.host.operationId' \
                 (with 'apiId' and 'connectionName')",
            );
            return;
        };
        let Some(connectors) = connectors else { return };
        match connectors.for_host(host.unwrap_or(&Value::Null)) {
            Err(m) => sink.error("connector.operation", host_at, m),
            Ok(c) if c.by_id(operation).is_none() => sink.error(
                "connector.operation",
                format!("{host_at}.operationId"),
                format!(
                    "the connector '{}' has no operation '{operation}' (it has: {})",
                    c.name,
                    c.operations
                        .iter()
                        .map(|o| o.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Ok(_) => {}
        }
        return;
    }
    let connection = text(host.and_then(|h| h.pointer("/connection/name")));
    let method = text(inputs.and_then(|i| i.get("method")));
    let path = text(inputs.and_then(|i| i.get("path")));
    let (Some(_), Some(method), Some(path)) = (connection, method, path) else {
        let mut lacks = Vec::new();
        if connection.is_none() {
            lacks.push("'inputs.host.connection.name'");
        }
        if method.is_none() {
            lacks.push("'inputs.method'");
        }
        if path.is_none() {
            lacks.push("'inputs.path'");
        }
        sink.error(
            "connector.host",
            format!("{at}.inputs"),
            format!("an ApiConnection action needs {}", lacks.join(", ")),
        );
        return;
    };
    let Some(connectors) = connectors else { return };
    if path.starts_with('@') && !path.starts_with("@@") {
        return; // computed at run time
    }
    match connectors.for_host(host.unwrap_or(&Value::Null)) {
        Err(m) => sink.error("connector.operation", host_at, m),
        Ok(c) => {
            let route = placeholders(path);
            if c.by_route(method, &route).is_none() {
                sink.error(
                    "connector.operation",
                    format!("{at}.inputs.path"),
                    format!(
                        "the connector '{}' has no operation {} {path} (it has: {})",
                        c.name,
                        method.to_ascii_uppercase(),
                        c.operations
                            .iter()
                            .map(|o| format!("{} {}", o.method, o.path))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// `/teams/@{encodeURIComponent(x)}/channels` → `/teams/x/channels`: an
/// interpolation fills a path template's `{parameter}`.
fn placeholders(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        out.push('x');
        let after = &rest[start + 2..];
        let mut in_string = false;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                if c == '\'' {
                    in_string = !in_string;
                }
                c == '}' && !in_string
            })
            .map_or(after.len(), |(i, _)| i + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
