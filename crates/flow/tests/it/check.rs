//! `flow check`: each broken fixture under `tests/fixtures/broken/` is named
//! after the rule it breaks (`RULE.json` or `RULE--variant.json`) and must
//! produce that rule and no other; every rule has a fixture; the lab's
//! flows and the other fixtures pass without errors.

use std::{collections::BTreeSet, path::PathBuf};

use graphlab_connector::{ExportOptions, Profile};
use graphlab_flow::{
    check::{Report, Severity, check, check_text, rules},
    connector::{Connector, Connectors},
};

use crate::support::{fixture, flow_file};

/// The lab's connector package (step 3's export), as `flow check
/// --connector` reads it.
fn lab_connectors(profile: Profile) -> Connectors {
    let package = graphlab_connector::export(&ExportOptions {
        profile,
        ..ExportOptions::default()
    });
    let mut connectors = Connectors::new();
    connectors.add(Connector::from_swagger(&package.api_definition, None).unwrap());
    connectors
}

fn check_file(path: &std::path::Path, connectors: Option<&Connectors>) -> Report {
    let text = std::fs::read_to_string(path).unwrap();
    check_text(&text, &path.display().to_string(), connectors)
}

/// Rules that are warnings: the flow runs, perhaps not as meant.
const WARNINGS: &[&str] = &["action.unsupported", "variable.order"];

/// Rules of exported templates and packages: each is produced, alone or
/// with its neighbours, by a test of `tests/it/export.rs` that breaks an
/// export (a resource against its schema, a secret with a default, a
/// dependsOn, the embedded swagger, a missing part, a manifest).
const EXPORT_RULES: &[&str] = &[
    "arm.schema",
    "arm.template",
    "arm.secret",
    "connector.swagger",
    "package.part",
    "package.manifest",
];

fn broken() -> Vec<PathBuf> {
    let dir = fixture("broken");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    entries
}

fn rule_of(path: &std::path::Path) -> String {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    stem.split("--").next().unwrap().to_owned()
}

#[test]
fn every_broken_fixture_produces_its_rule_and_no_other() {
    let connectors = lab_connectors(Profile::Lab);
    let entries = broken();
    assert!(entries.len() >= 25, "only {} broken fixtures", entries.len());
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_name().unwrap().to_str().unwrap();
        let rule = rule_of(path);
        assert!(rules::is_known(&rule), "{name}: {rule} is not a rule id");
        let report = check_file(path, Some(&connectors));
        if report.rules() != [rule.as_str()] {
            failures.push(format!("{name}: expected only {rule}, got:\n{report}"));
            continue;
        }
        let expected = if WARNINGS.contains(&rule.as_str()) {
            Severity::Warning
        } else {
            Severity::Error
        };
        for finding in &report.findings {
            assert_eq!(finding.severity, expected, "{name}: {finding}");
            assert!(finding.path.starts_with('$'), "{name}: {finding}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_rules_and_the_fixtures_match_one_to_one() {
    let covered: BTreeSet<String> = broken().iter().map(|p| rule_of(p)).collect();
    let all: BTreeSet<String> = rules::ALL
        .iter()
        .map(|(id, _)| (*id).to_owned())
        .filter(|id| !EXPORT_RULES.contains(&id.as_str()))
        .collect();
    let uncovered: Vec<_> = all.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&all).collect();
    assert!(uncovered.is_empty(), "rules without a broken fixture: {uncovered:?}");
    assert!(unknown.is_empty(), "fixtures named after no rule: {unknown:?}");
    let ids: Vec<&str> = rules::ALL.iter().map(|(id, _)| *id).collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), distinct.len(), "a rule id is listed twice");
}

#[test]
fn the_labs_flows_and_the_fixtures_pass() {
    let mut files: Vec<PathBuf> =
        ["create-team.json", "create-team-channels.json", "create-team-checked.json"]
            .iter()
            .map(|n| flow_file(n))
            .collect();
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 3);
    files.extend(fixtures);
    for profile in [Profile::Lab, Profile::Typed] {
        let connectors = lab_connectors(profile);
        for path in &files {
            for given in [None, Some(&connectors)] {
                let report = check_file(path, given);
                assert!(report.findings.is_empty(), "{}: {report}", path.display());
                assert!(report.shape.is_some());
            }
        }
    }
}

#[test]
fn the_labs_spaces_error_has_the_platforms_message() {
    let path = fixture("broken/reference.undefined-action--spaces.json");
    let report = check_file(&path, None);
    assert_eq!(report.findings.len(), 1, "{report}");
    let finding = &report.findings[0];
    assert_eq!(
        finding.path,
        "$.properties.definition.actions['Batch_PUT-team'].inputs.parameters.body.requests[0].url"
    );
    assert!(
        finding.message.starts_with(
            "The action(s) 'Batch POST-groups' referenced by 'inputs' in action \
             'Batch_PUT-team' are not defined in the template."
        ),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("did you mean body('Batch_POST-groups')?"),
        "{}",
        finding.message
    );
    assert_eq!(report.shape.as_deref(), Some("Power Automate flow (definition.json)"));
}

#[test]
fn findings_name_the_place_and_the_column() {
    let report = check_file(&fixture("broken/expression.syntax.json"), None);
    let finding = &report.findings[0];
    assert_eq!(finding.path, "$.actions.Compose.inputs");
    assert_eq!(finding.column, Some(40), "{finding}");
    assert!(finding.message.contains("column 40"), "{finding}");

    let report = check_file(&fixture("broken/runafter.unknown-action.json"), None);
    assert_eq!(report.findings[0].path, "$.actions.Compose.runAfter.Initialize_variable");
    assert_eq!(
        report.findings[0].message,
        "The 'runAfter' property of template action 'Compose' contains non-existent action: \
         'Initialize_variable'."
    );

    let report = check_file(&fixture("broken/json.malformed.json"), None);
    let finding = &report.findings[0];
    assert_eq!((finding.line, finding.column), (Some(4), Some(35)), "{finding}");
    assert!(finding.to_string().contains("json.malformed.json:4:35"), "{finding}");

    let report = check_file(&fixture("broken/runafter.cycle.json"), None);
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.findings[0].message.contains("First → Second → First"), "{report}");
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    // `load` stops at the first problem; `check` goes on.
    let text =
        std::fs::read_to_string(fixture("broken/reference.not-before.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let actions = value["actions"].as_object_mut().unwrap();
    actions
        .insert("C".into(), serde_json::json!({"type": "Compose", "inputs": "@add(1)"}));
    actions.insert("D".into(), serde_json::json!({"type": "Compose", "inputs": "@variables('v')", "runAfter": {"Nope": ["Succeeded"]}}));
    let report = check(&value, "many.json", None);
    assert_eq!(
        report.rules(),
        [
            "expression.arity",
            "reference.not-before",
            "reference.variable",
            "runafter.unknown-action"
        ],
        "{report}"
    );
    assert!(graphlab_flow::definition::from_value(&value, "many").is_err());
}

#[test]
fn references_through_containers_run_before() {
    // An action inside a Scope reads an action that runs before the Scope;
    // an action after the Scope reads one inside it; a loop's body reads
    // its item; a catch reads result().
    let value = serde_json::json!({
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
        "actions": {
            "First": {"type": "Compose", "inputs": 1},
            "Group": {"type": "Scope", "runAfter": {"First": ["Succeeded"]}, "actions": {
                "Inner": {"type": "Compose", "inputs": "@outputs('First')"},
                "Loop": {"type": "Foreach", "runAfter": {"Inner": ["Succeeded"]},
                         "foreach": "@createArray(outputs('Inner'))",
                         "actions": {"Each": {"type": "Compose", "inputs": "@{items('Loop')} @{item()} @{outputs('First')}"}}}
            }},
            "Catch": {"type": "Compose", "runAfter": {"Group": ["Failed", "TimedOut"]},
                      "inputs": "@{result('Group')} @{outputs('Inner')} @{body('Each')}"},
            "Filter": {"type": "Query", "runAfter": {"Catch": ["Succeeded"]},
                       "inputs": {"from": "@createArray(1, 2)", "where": "@greater(item(), 1)"}}
        }
    });
    let report = check(&value, "scopes.json", None);
    assert!(report.findings.is_empty(), "{report}");
    // The Scope itself, read from inside, has not ended.
    let mut inside = value.clone();
    inside["actions"]["Group"]["actions"]["Inner"]["inputs"] = "@outputs('Group')".into();
    let report = check(&inside, "scopes.json", None);
    assert_eq!(report.rules(), ["reference.not-before"], "{report}");
    assert!(report.findings[0].message.contains("encloses"), "{report}");
}

#[test]
fn the_report_serializes_for_json_output() {
    let report = check_file(&fixture("broken/foreach.concurrency.json"), None);
    let json = serde_json::to_value(&report).unwrap();
    let finding = &json["findings"][0];
    assert_eq!(finding["rule"], "foreach.concurrency");
    assert_eq!(finding["severity"], "error");
    assert_eq!(
        finding["path"],
        "$.actions.Loop.runtimeConfiguration.concurrency.repetitions"
    );
    assert_eq!(json["shape"], "workflow definition");
}

/// Every JSON pointer inside `value`.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(here.clone());
                pointers(v, here, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let here = format!("{at}/{i}");
                out.push(here.clone());
                pointers(v, here, out);
            }
        }
        _ => {}
    }
}

#[test]
fn any_value_anywhere_gives_findings_never_a_panic() {
    // Each lab flow with every value in turn replaced by a value of another
    // kind (or an expression that is wrong in each way).
    let replacements = [
        serde_json::json!(null),
        serde_json::json!(7),
        serde_json::json!("@"),
        serde_json::json!("@{"),
        serde_json::json!("@body('Nowhere')"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!({"type": "Foreach", "actions": {"x": {"type": "Compose", "inputs": "@item()"}}}),
    ];
    let connectors = lab_connectors(Profile::Lab);
    for name in ["create-team-checked.json", "create-team-channels.json"] {
        let text = std::fs::read_to_string(flow_file(name)).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        pointers(&original, String::new(), &mut all);
        for pointer in &all {
            for replacement in &replacements {
                let mut value = original.clone();
                *value.pointer_mut(pointer).unwrap() = replacement.clone();
                let report = check(&value, name, Some(&connectors));
                for f in &report.findings {
                    assert!(rules::is_known(f.rule), "{pointer}: {f}");
                    assert!(f.path.starts_with('$'), "{pointer}: {f}");
                }
            }
        }
    }
}

#[test]
fn what_check_passes_loads() {
    for name in
        ["create-team.json", "create-team-channels.json", "create-team-checked.json"]
    {
        let path = flow_file(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(check_text(&text, name, None).is_ok());
        graphlab_flow::load(&text, name).unwrap();
    }
    // Warnings only: the flow still loads.
    let path = fixture("broken/variable.order.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(check_text(&text, "variable.order.json", None).is_ok());
    graphlab_flow::load(&text, "variable.order.json").unwrap();
}

#[test]
fn an_until_expression_reads_its_own_body_and_index() {
    // "Until" in Microsoft's "Schema reference guide for trigger and action
    // types": the expression is checked after each iteration.
    let value = serde_json::json!({
        "triggers": {"manual": {"type": "Request", "inputs": {}}},
        "actions": {
            "Poll": {"type": "Until",
                     "expression": "@or(equals(outputs('Step'), 3), greater(iterationIndexes('Poll'), 5))",
                     "limit": {"count": 10, "timeout": "PT1H"},
                     "actions": {"Step": {"type": "Compose", "inputs": "@iterationIndexes('Poll')"}}}
        }
    });
    let report = check(&value, "until.json", None);
    assert!(report.findings.is_empty(), "{report}");
    // Elsewhere, the loop's body has not run.
    let mut after = value.clone();
    after["actions"]["Other"] =
        serde_json::json!({"type": "Compose", "inputs": "@outputs('Step')"});
    let report = check(&after, "until.json", None);
    assert_eq!(report.rules(), ["reference.not-before"], "{report}");
}
