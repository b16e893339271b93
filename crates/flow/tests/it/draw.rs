//! Flow drawings: the lab's flows drawn with and without a run (snapshots;
//! the runs are real, against the emulator), every picture well-formed
//! XML, names escaped, `runAfter` statuses written on their arrows,
//! containers nested and the depth bounded.

use graphlab_connector::Profile;
use graphlab_flow::draw::{DrawOptions, draw};
use serde_json::{Value, json};

use crate::support::{Lab, fixture, flow_file, load, run_named};

/// A small well-formedness check (the workspace has no XML parser): one
/// root element, tags closed in order, attributes quoted, only XML's five
/// named entities or character references, no `<` in text or attributes.
fn assert_well_formed(svg: &str) {
    let bytes = svg.as_bytes();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    let check_text = |text: &str, at: usize| {
        let mut rest = text;
        while let Some(p) = rest.find('&') {
            let after = &rest[p + 1..];
            let end = after.find(';').unwrap_or_else(|| panic!("bare & at {at}"));
            let name = &after[..end];
            assert!(
                matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                    || name.starts_with('#'),
                "unknown entity &{name}; at {at}"
            );
            rest = &after[end + 1..];
        }
        assert!(!text.contains('<'), "< in text at {at}");
    };
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let next = svg[i..].find('<').map_or(svg.len(), |p| i + p);
            let text = &svg[i..next];
            assert!(
                !stack.is_empty() || text.trim().is_empty(),
                "text outside the root at {i}"
            );
            check_text(text, i);
            i = next;
            continue;
        }
        let end = svg[i..]
            .find('>')
            .map(|p| i + p)
            .unwrap_or_else(|| panic!("open tag at {i}"));
        let tag = &svg[i + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            let open =
                stack.pop().unwrap_or_else(|| panic!("</{name}> closes nothing at {i}"));
            assert_eq!(open, name.trim(), "mismatched close at {i}");
        } else {
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
            assert!(!name.is_empty(), "empty tag name at {i}");
            // Attributes: name="value" pairs.
            let mut attrs = body[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find('=')
                    .unwrap_or_else(|| panic!("attribute without = at {i}"));
                assert!(attrs[eq + 1..].starts_with('"'), "unquoted attribute at {i}");
                let close = attrs[eq + 2..]
                    .find('"')
                    .unwrap_or_else(|| panic!("unterminated attribute at {i}"));
                check_text(&attrs[eq + 2..eq + 2 + close], i);
                attrs = attrs[eq + 2 + close + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        }
        i = end + 1;
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1, "one root element");
}

fn picture(path: &std::path::Path, run: Option<&Value>) -> String {
    let svg = draw(&load(path), run, &DrawOptions::default());
    assert_well_formed(&svg);
    svg
}

#[test]
fn the_lab_flows_are_drawn_without_a_run() {
    for name in
        ["create-team.json", "create-team-channels.json", "create-team-checked.json"]
    {
        let svg = picture(&flow_file(name), None);
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"flow-title\">"));
        insta::assert_snapshot!(format!("draw_{name}"), svg);
    }
}

#[tokio::test]
async fn the_lab_flows_are_drawn_with_their_runs_statuses_durations_and_retries() {
    for (name, profile) in [
        ("create-team.json", Profile::Lab),
        ("create-team-channels.json", Profile::Typed),
        ("create-team-checked.json", Profile::Lab),
    ] {
        let lab = Lab::start(None).await;
        let engine = lab.engine(profile);
        let workflow = load(&flow_file(name));
        let run = run_named(&engine, &workflow, "LabTeam").await;
        let doc = run.to_json();
        let svg = picture(&flow_file(name), Some(&doc));
        for (action, record) in &run.actions {
            let mark = format!("{action} (");
            assert!(svg.contains(&mark), "{action} drawn");
            assert!(
                svg.contains(&format!(
                    "{} {}",
                    symbol(record.status.as_str()),
                    record.status
                )),
                "{action}'s status as a symbol and a word"
            );
        }
        insta::assert_snapshot!(
            format!("draw_run_{name}"),
            svg.replace(&run.id, "RUN_ID")
        );
    }
}

fn symbol(status: &str) -> &'static str {
    match status {
        "Succeeded" => "✓",
        "Failed" => "✗",
        "Skipped" => "⊘",
        _ => "?",
    }
}

#[tokio::test]
async fn a_failure_branch_is_labelled_with_its_statuses_and_skipped_actions_are_marked() {
    let lab = Lab::start(None).await;
    let engine = lab.engine(Profile::Lab);
    let path = fixture("create-team-with-catch.json");
    let run = run_named(&engine, &load(&path), "Lab Team").await;
    let svg = picture(&path, Some(&run.to_json()));
    assert!(svg.contains("runs after: Failed"), "{svg}");
    assert!(svg.contains("⊘ Skipped"));
    assert!(svg.contains("✗ Failed"));
    assert!(svg.contains("#a4262c"), "failed cards are red as well");
}

fn bare(actions: Value) -> graphlab_flow::Workflow {
    let definition = json!({
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
        "actions": actions
    });
    graphlab_flow::definition::from_value(&definition, "test").unwrap()
}

#[test]
fn names_and_values_are_escaped() {
    let workflow = bare(json!({
        "Say <&\"'hi'>": {"type": "Compose", "inputs": "x", "runAfter": {}},
        "Switch_on <b>": {
            "type": "Switch", "expression": "@outputs('Say <&\"''hi''>')",
            "runAfter": {"Say <&\"'hi'>": ["Succeeded"]},
            "cases": {"Case <1>": {"case": "a&b", "actions": {}}},
            "default": {"actions": {}}
        }
    }));
    let svg = draw(&workflow, None, &DrawOptions::default());
    assert_well_formed(&svg);
    assert!(svg.contains("Say &lt;&amp;&quot;&apos;hi&apos;&gt;"), "{svg}");
    assert!(svg.contains("Case Case &lt;1&gt; = &apos;a&amp;b&apos;"), "{svg}");
    assert!(!svg.contains("<b>"));
    let prefixed = draw(
        &workflow,
        None,
        &DrawOptions { id_prefix: "a\"b".into(), ..Default::default() },
    );
    assert_well_formed(&prefixed);
}

#[test]
fn containers_are_nested_with_their_branches_and_parallel_actions_side_by_side() {
    let workflow = bare(json!({
        "Start": {"type": "Compose", "inputs": 1, "runAfter": {}},
        "Left": {"type": "Compose", "inputs": 2, "runAfter": {"Start": ["Succeeded"]}},
        "Right": {"type": "Compose", "inputs": 3, "runAfter": {"Start": ["Succeeded"]}},
        "Check": {
            "type": "If", "expression": {"equals": [1, 1]},
            "runAfter": {"Left": ["Succeeded"], "Right": ["Failed", "TimedOut"]},
            "actions": {"Yes": {"type": "Compose", "inputs": "y"}},
            "else": {"actions": {}}
        },
        "Each": {
            "type": "Foreach", "foreach": "@createArray(1, 2)",
            "runAfter": {"Check": ["Succeeded"]},
            "actions": {"Inner": {"type": "Compose", "inputs": "@items('Each')"}}
        }
    }));
    let picture = graphlab_flow::draw::layout::layout(&workflow, None, 9);
    let y = |name: &str| {
        picture
            .body
            .blocks
            .iter()
            .find(|b| b.card.name == name)
            .map(|b| (b.x, b.y))
            .unwrap()
    };
    assert_eq!(y("Left").1, y("Right").1, "parallel branches share a row");
    assert!(y("Left").0 < y("Right").0);
    assert!(y("Check").1 > y("Left").1);
    assert!(y("Each").1 > y("Check").1);
    let check = picture.body.blocks.iter().find(|b| b.card.name == "Check").unwrap();
    let labels: Vec<&str> = check.regions.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["True", "False"]);
    let yes = &check.regions[0].blocks[0];
    assert!(yes.x >= check.x && yes.x + yes.w <= check.x + check.w, "nested inside");
    let labelled: Vec<_> =
        picture.body.edges.iter().filter_map(|e| e.label.as_deref()).collect();
    assert_eq!(labelled, ["Failed, TimedOut"]);
    let svg = draw(&workflow, None, &DrawOptions::default());
    assert_well_formed(&svg);
    assert!(svg.contains("runs after: Failed, TimedOut"));
    assert!(svg.contains("Apply to each"));
    assert!(svg.contains("No actions"), "the empty False branch says so");
}

fn nested(depth: usize) -> Value {
    let mut actions = json!({"Leaf": {"type": "Compose", "inputs": 1}});
    for level in (1..=depth).rev() {
        actions =
            json!({format!("Scope_{level}"): {"type": "Scope", "actions": actions}});
    }
    actions
}

#[test]
fn deep_nesting_is_drawn_to_the_bound_and_the_rest_is_counted() {
    // Eight levels of containers: Logic Apps' limit, which `load` enforces.
    let workflow = bare(nested(8));
    let svg = draw(&workflow, None, &DrawOptions::default());
    assert_well_formed(&svg);
    assert!(svg.contains(">Scope_8<") && svg.contains(">Leaf<"));
    let bounded =
        draw(&workflow, None, &DrawOptions { max_depth: 3, ..Default::default() });
    assert_well_formed(&bounded);
    assert!(bounded.contains(">Scope_3<"));
    assert!(!bounded.contains(">Scope_4<"));
    // Scope_4 .. Scope_8 and Leaf.
    assert!(bounded.contains("6 nested actions not drawn"), "{bounded}");
    assert!(bounded.len() < svg.len());
}
