//! The engine's semantics on small definitions: `runAfter`, containers,
//! loops, variables, `Terminate`, timeouts and retries — each against
//! Logic Apps' documented behaviour.

use std::sync::Arc;

use graphlab_flow::{
    Engine, RunOptions, Status,
    engine::{Clock, VirtualClock},
    run::Run,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

async fn run(definition: Value) -> Run {
    run_with(definition, Engine::new("http://127.0.0.1:9")).await
}

async fn run_with(definition: Value, mut engine: Engine) -> Run {
    let clock = VirtualClock::starting_at(
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
    );
    engine.clock = Arc::new(clock);
    let workflow = graphlab_flow::definition::from_value(&definition, "test").unwrap();
    engine.run(&workflow, RunOptions::default()).await.unwrap()
}

fn output(run: &Run, action: &str) -> Value {
    run.actions[action].outputs.clone().unwrap_or(Value::Null)
}

#[tokio::test]
async fn run_after_orders_actions_and_a_failure_skips_its_successors() {
    let run = run(json!({"actions": {
        "A": {"type": "Compose", "inputs": 1},
        "B": {"type": "Compose", "inputs": "@div(1, 0)", "runAfter": {"A": ["Succeeded"]}},
        "C": {"type": "Compose", "inputs": "after B", "runAfter": {"B": ["Succeeded"]}},
        "D": {"type": "Compose", "inputs": "@{outputs('A')} handled", "runAfter": {"B": ["Failed"]}},
        "E": {"type": "Compose", "inputs": "skipped seen", "runAfter": {"C": ["Skipped"]}},
    }}))
    .await;
    let s = |n: &str| run.actions[n].status;
    assert_eq!(
        (s("A"), s("B"), s("C"), s("D"), s("E")),
        (
            Status::Succeeded,
            Status::Failed,
            Status::Skipped,
            Status::Succeeded,
            Status::Succeeded
        )
    );
    assert_eq!(output(&run, "D"), json!("1 handled"));
    assert_eq!(run.actions["C"].error.as_ref().unwrap()["code"], "ActionConditionFailed");
    // Every last action succeeded, so the failure was handled.
    assert_eq!(run.status, Status::Succeeded);
}

#[tokio::test]
async fn an_unhandled_failure_fails_the_run() {
    let run = run(json!({"actions": {
        "A": {"type": "Compose", "inputs": "@int('x')"},
        "B": {"type": "Compose", "inputs": 2, "runAfter": {"A": ["Succeeded"]}},
    }}))
    .await;
    assert_eq!(run.actions["B"].status, Status::Skipped);
    assert_eq!(run.status, Status::Failed);
    assert!(run.error.is_some());
}

#[tokio::test]
async fn variables_foreach_sequential_and_parallel_and_result() {
    let run = run(json!({"actions": {
        "Init": {"type": "InitializeVariable", "inputs": {"variables": [
            {"name": "total", "type": "integer", "value": 0},
            {"name": "names", "type": "array"},
            {"name": "text", "type": "string", "value": "x"}]}},
        "Loop": {"type": "Foreach", "foreach": "@createArray(1, 2, 3, 4)", "operationOptions": "Sequential",
            "runAfter": {"Init": ["Succeeded"]},
            "actions": {
                "Add": {"type": "IncrementVariable", "inputs": {"name": "total", "value": "@item()"}},
                "Push": {"type": "AppendToArrayVariable", "inputs": {"name": "names", "value": "@concat('n', string(items('Loop')))"}, "runAfter": {"Add": ["Succeeded"]}},
                "Text": {"type": "AppendToStringVariable", "inputs": {"name": "text", "value": "@{item()}"}, "runAfter": {"Push": ["Succeeded"]}}
            }},
        "Parallel": {"type": "Foreach", "foreach": "@range(0, 30)", "runAfter": {"Loop": ["Succeeded"]},
            "runtimeConfiguration": {"concurrency": {"repetitions": 5}},
            "actions": {"Square": {"type": "Compose", "inputs": "@mul(item(), item())"}}},
        "Summary": {"type": "Compose", "runAfter": {"Parallel": ["Succeeded"]},
            "inputs": {"total": "@variables('total')", "names": "@variables('names')", "text": "@variables('text')",
                       "squares": "@length(result('Parallel'))"}},
    }}))
    .await;
    assert_eq!(run.status, Status::Succeeded, "{:#}", run.to_json());
    assert_eq!(
        output(&run, "Summary"),
        json!({"total": 10, "names": ["n1", "n2", "n3", "n4"], "text": "x1234", "squares": 30})
    );
    let reps = &run.actions["Parallel"].repetitions;
    assert_eq!(reps.len(), 30);
    assert_eq!(reps[7].actions["Square"].outputs, Some(json!(49)));
}

#[tokio::test]
async fn variables_are_typed_and_must_be_initialized() {
    let run = run(json!({"actions": {
        "Init": {"type": "InitializeVariable", "inputs": {"variables": [{"name": "n", "type": "integer", "value": "one"}]}},
        "Set": {"type": "SetVariable", "inputs": {"name": "missing", "value": 1}},
    }}))
    .await;
    let init = run.actions["Init"].error.as_ref().unwrap();
    assert_eq!(init["code"], "InvalidVariableType");
    assert!(
        run.actions["Set"].error.as_ref().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("not initialized")
    );
}

#[tokio::test]
async fn if_switch_scope_until_and_their_skipped_branches() {
    let run = run(json!({"actions": {
        "Init": {"type": "InitializeVariable", "inputs": {"variables": [{"name": "i", "type": "integer", "value": 0}]}},
        "Condition": {"type": "If", "runAfter": {"Init": ["Succeeded"]},
            "expression": {"and": [{"greater": [5, 3]}, {"not": {"equals": ["a", "b"]}}]},
            "actions": {"Yes": {"type": "Compose", "inputs": "yes"}},
            "else": {"actions": {"No": {"type": "Compose", "inputs": "no"}}}},
        "Choose": {"type": "Switch", "expression": "@string(add(1, 1))", "runAfter": {"Condition": ["Succeeded"]},
            "cases": {"One": {"case": "1", "actions": {"Was1": {"type": "Compose", "inputs": 1}}},
                      "Two": {"case": "2", "actions": {"Was2": {"type": "Compose", "inputs": 2}}}},
            "default": {"actions": {"Other": {"type": "Compose", "inputs": 0}}}},
        "Count": {"type": "Until", "expression": "@greaterOrEquals(variables('i'), 3)", "limit": {"count": 10, "timeout": "PT1H"},
            "runAfter": {"Choose": ["Succeeded"]},
            "actions": {"Inc": {"type": "IncrementVariable", "inputs": {"name": "i"}}}},
        "Group": {"type": "Scope", "runAfter": {"Count": ["Succeeded"]},
            "actions": {"Inside": {"type": "Compose", "inputs": "@iterationIndexes('Count')"}}},
        "Seen": {"type": "Compose", "runAfter": {"Group": ["Failed"]}, "inputs": "not run"},
        "Results": {"type": "Compose", "runAfter": {"Group": ["Succeeded"]},
            "inputs": "@result('Group')[0]['status']"},
    }}))
    .await;
    let s = |path: &[&str]| {
        let mut record = &run.actions[path[0]];
        for p in &path[1..] {
            record = &record.actions[*p];
        }
        record.status
    };
    assert_eq!(s(&["Condition", "Yes"]), Status::Succeeded);
    assert_eq!(s(&["Condition", "No"]), Status::Skipped);
    assert_eq!(s(&["Choose", "Was2"]), Status::Succeeded);
    assert_eq!(s(&["Choose", "Was1"]), Status::Skipped);
    assert_eq!(s(&["Choose", "Other"]), Status::Skipped);
    assert_eq!(
        run.actions["Count"].repetitions.len(),
        3,
        "do-until: body first, then the check"
    );
    // Outside the Until, its index is not defined: the scope fails.
    assert_eq!(s(&["Group"]), Status::Failed);
    assert_eq!(s(&["Seen"]), Status::Succeeded);
    assert_eq!(s(&["Results"]), Status::Skipped);
}

#[tokio::test]
async fn terminate_sets_the_runs_status_and_error() {
    let run = run(json!({"actions": {
        "Stop": {"type": "Terminate", "inputs": {"runStatus": "Failed", "runError": {"code": "Lab", "message": "stopped"}}},
        "After": {"type": "Compose", "inputs": 1, "runAfter": {"Stop": ["Succeeded"]}},
    }}))
    .await;
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.error, Some(json!({"code": "Lab", "message": "stopped"})));
    assert!(!run.actions.contains_key("After"), "nothing runs after a Terminate");
}

#[tokio::test]
async fn a_wait_longer_than_its_timeout_times_out_on_the_clock() {
    let clock = VirtualClock::starting_at(OffsetDateTime::UNIX_EPOCH);
    let mut engine = Engine::new("http://127.0.0.1:9");
    engine.clock = Arc::new(clock.clone());
    let workflow = graphlab_flow::definition::from_value(
        &json!({"actions": {"Wait": {"type": "Wait", "inputs": {"interval": {"count": 10, "unit": "Minute"}},
                "limit": {"timeout": "PT1M"}}}}),
        "t",
    )
    .unwrap();
    let run = engine.run(&workflow, RunOptions::default()).await.unwrap();
    assert_eq!(run.actions["Wait"].status, Status::TimedOut);
    assert_eq!(clock.now(), OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(1));
    assert_eq!(run.status, Status::Failed);
}

#[tokio::test]
async fn query_select_join_and_parse_json() {
    let run = run(json!({"actions": {
        "Data": {"type": "Compose", "inputs": [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}, {"n": 3, "s": "c"}]},
        "Filter": {"type": "Query", "runAfter": {"Data": ["Succeeded"]},
            "inputs": {"from": "@outputs('Data')", "where": "@greater(item()['n'], 1)"}},
        "Pick": {"type": "Select", "runAfter": {"Filter": ["Succeeded"]},
            "inputs": {"from": "@body('Filter')", "select": {"letter": "@item()['s']"}}},
        "Glue": {"type": "Join", "runAfter": {"Pick": ["Succeeded"]},
            "inputs": {"from": "@createArray('x', 'y')", "joinWith": ";"}},
        "Parse": {"type": "ParseJson", "runAfter": {"Glue": ["Succeeded"]},
            "inputs": {"content": "{\"id\": 5}", "schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}},
        "Bad": {"type": "ParseJson", "runAfter": {"Parse": ["Succeeded"]},
            "inputs": {"content": {"id": "five"}, "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}},
    }}))
    .await;
    assert_eq!(
        output(&run, "Filter"),
        json!({"body": [{"n": 2, "s": "b"}, {"n": 3, "s": "c"}]})
    );
    assert_eq!(output(&run, "Pick"), json!({"body": [{"letter": "b"}, {"letter": "c"}]}));
    assert_eq!(output(&run, "Glue"), json!({"body": "x;y"}));
    assert_eq!(output(&run, "Parse"), json!({"body": {"id": 5}}));
    assert_eq!(run.actions["Bad"].status, Status::Failed);
    assert_eq!(run.actions["Bad"].error.as_ref().unwrap()["code"], "ValidationFailed");
}

#[tokio::test]
async fn definition_errors_name_the_json_path() {
    let err = graphlab_flow::definition::from_value(
        &json!({"actions": {"A": {"type": "Compose", "inputs": {"x": ["@concat('a'"]}}}}),
        "t",
    )
    .unwrap_err();
    assert!(err.path.starts_with("$.actions.A.inputs.x[0]"), "{err}");
    let err = graphlab_flow::definition::from_value(
        &json!({"actions": {"A": {"type": "Teleport"}}}),
        "t",
    )
    .unwrap_err();
    assert_eq!(err.path, "$.actions.A.type");
}
