//! `graphlab_flow::export`: the lab's three flows exported as a Logic Apps
//! template and as a Power Automate package, validated offline against
//! the vendored ARM schemas and `flow check`, run against the emulator
//! with the same results as their source, and snapshot-tested.

use std::io::{Cursor, Read, Write};

use graphlab_connector::{ExportOptions as ConnectorOptions, Profile};
use graphlab_flow::{
    Status,
    check::Severity,
    definition::from_value,
    export::{
        ConnectorPackage, ExportError, ExportOptions, read_package, to_logic_app,
        to_power_automate,
        validate::{check_bytes, check_package, check_template, template_findings},
    },
};
use serde_json::{Value, json};

use crate::support::{Lab, flow_file, responses, run_named};

const FLOWS: [&str; 3] =
    ["create-team.json", "create-team-channels.json", "create-team-checked.json"];

fn source(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(flow_file(name)).unwrap()).unwrap()
}

fn connector(profile: Profile) -> ConnectorPackage {
    ConnectorPackage::from_package(&graphlab_connector::export(&ConnectorOptions {
        profile,
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        ..ConnectorOptions::default()
    }))
}

fn errors(report: &graphlab_flow::check::Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

/// Every part of a package, by name.
fn parts(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        out.push((f.name().unwrap().into_owned(), bytes));
    }
    out
}

fn rezip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in parts {
        w.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn every_lab_flow_exports_to_a_template_whose_resources_match_the_arm_schemas() {
    for name in FLOWS {
        let export = to_logic_app(
            &source(name),
            name,
            &connector(Profile::Typed),
            &ExportOptions::default(),
        )
        .unwrap();
        let t = &export.template;
        let types: Vec<&str> = t["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "Microsoft.Web/customApis",
                "Microsoft.Web/connections",
                "Microsoft.Logic/workflows"
            ]
        );
        assert!(
            template_findings(t, name).is_empty(),
            "{name}: {:#?}",
            template_findings(t, name)
        );
        let report = check_template(t, name, None);
        assert_eq!(errors(&report), Vec::<String>::new(), "{name}");
        assert_eq!(
            report.shape.as_deref(),
            Some("ARM template (Microsoft.Logic/workflows resource)")
        );
        // Connector actions are ApiConnection, on the $connections parameter.
        let actions = t.pointer("/resources/2/properties/definition/actions").unwrap();
        let batch = &actions["Batch_POST-groups"];
        assert_eq!(batch["type"], "ApiConnection");
        assert_eq!(batch["inputs"]["method"], "post");
        assert_eq!(batch["inputs"]["path"], "/v1.0/$batch");
        assert_eq!(
            batch["inputs"]["host"]["connection"]["name"],
            "@parameters('$connections')['ms-graph-batch-connector']['connectionId']"
        );
        let trigger =
            t.pointer("/resources/2/properties/definition/triggers/manual").unwrap();
        assert_eq!(trigger["kind"], "Http");
        assert_eq!(trigger["inputs"]["schema"]["properties"]["text"]["title"], "Name");
        // Entra ID OAuth, the secret a securestring parameter.
        let oauth = t
            .pointer("/resources/0/properties/connectionParameters/token/oAuthSettings")
            .unwrap();
        assert_eq!(oauth["identityProvider"], "aad");
        assert_eq!(oauth["clientSecret"], "[parameters('clientSecret')]");
        assert_eq!(
            oauth["properties"]["AzureActiveDirectoryResourceId"],
            "https://graph.microsoft.com"
        );
        assert_eq!(
            t["parameters"]["clientSecret"],
            json!({"type": "securestring",
            "metadata": t["parameters"]["clientSecret"]["metadata"]})
        );
        assert_eq!(
            export.parameters["parameters"]["clientId"]["value"],
            "11111111-2222-3333-4444-555555555555"
        );
        assert!(export.parameters["parameters"].get("clientSecret").is_none());
    }
}

#[test]
fn a_resource_that_breaks_its_schema_is_reported_at_its_path() {
    let export = to_logic_app(
        &source("create-team.json"),
        "f.json",
        &connector(Profile::Lab),
        &ExportOptions::default(),
    )
    .unwrap();
    let mut t = export.template;
    t["resources"][1]["apiVersion"] = json!("2018-07-01-preview");
    t["resources"][2]["properties"]["parameters"]["$connections"]["value"] =
        json!("plain");
    t["resources"][0]["properties"]["swagger"]["swagger"] = json!("3.0");
    t["parameters"]["clientSecret"]["defaultValue"] = json!("oops");
    t["resources"][2]["dependsOn"] =
        json!(["[resourceId('Microsoft.Web/connections', 'other')]"]);
    let report = check_template(&t, "f.json", None);
    let at = |rule: &str| -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.path.clone())
            .collect()
    };
    assert!(
        at("arm.schema").contains(&"$.resources[1].apiVersion".to_owned()),
        "{report}"
    );
    // `properties` is oneOf(WorkflowProperties, expression): a plain string
    // as a WorkflowParameter's value fails both, reported at `properties`.
    assert!(
        at("arm.schema").contains(&"$.resources[2].properties".to_owned()),
        "{report}"
    );
    assert_eq!(at("arm.secret"), ["$.parameters.clientSecret"]);
    assert_eq!(at("arm.template"), ["$.resources[2].dependsOn[0]"]);
    assert!(
        at("connector.swagger")
            .iter()
            .any(|p| p.starts_with("$.resources[0].properties.swagger"))
    );
}

#[test]
fn every_lab_flow_exports_to_a_package_that_reads_back_and_checks_clean() {
    for name in FLOWS {
        let zip = to_power_automate(
            &source(name),
            name,
            &connector(Profile::Typed),
            &ExportOptions::default(),
        )
        .unwrap();
        assert_eq!(
            zip,
            to_power_automate(
                &source(name),
                name,
                &connector(Profile::Typed),
                &ExportOptions::default()
            )
            .unwrap(),
            "exports are reproducible"
        );
        let report = check_package(&zip, "p.zip", None);
        assert_eq!(errors(&report), Vec::<String>::new(), "{name}");
        let contents = read_package(&zip, "p.zip").unwrap();
        assert!(contents.problems.is_empty(), "{:?}", contents.problems);
        assert_eq!(
            contents.flow.pointer("/properties/definition/actions"),
            source(name).pointer("/properties/definition/actions"),
            "{name}: a Power Automate flow goes into the package as it is"
        );
        let manifest: Value = serde_json::from_slice(&parts(&zip)[0].1).unwrap();
        let kinds: Vec<&str> = manifest["resources"]
            .as_object()
            .unwrap()
            .values()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        for kind in [
            "Microsoft.Flow/flows",
            "Microsoft.PowerApps/apis",
            "Microsoft.PowerApps/apis/connections",
        ] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
    }
}

#[test]
fn a_template_exports_back_to_a_package_with_open_api_actions() {
    let c = connector(Profile::Lab);
    let template =
        to_logic_app(&source("create-team.json"), "t", &c, &ExportOptions::default())
            .unwrap()
            .template;
    let zip =
        to_power_automate(&template, "t.json", &c, &ExportOptions::default()).unwrap();
    let flow = read_package(&zip, "p.zip").unwrap().flow;
    let batch = flow.pointer("/properties/definition/actions/Batch_POST-groups").unwrap();
    assert_eq!(batch["type"], "OpenApiConnection");
    assert_eq!(batch["inputs"]["host"]["operationId"], "Batch");
    assert_eq!(
        batch["inputs"]["parameters"]["body"],
        source("create-team.json")["properties"]["definition"]["actions"]["Batch_POST-groups"]
            ["inputs"]["parameters"]["body"]
    );
    assert_eq!(
        flow.pointer("/properties/definition/triggers/manual/kind"),
        Some(&json!("Button"))
    );
}

#[test]
fn a_package_with_a_missing_or_corrupt_part_names_the_part() {
    let zip = to_power_automate(
        &source("create-team.json"),
        "f",
        &connector(Profile::Lab),
        &ExportOptions::default(),
    )
    .unwrap();
    let all = parts(&zip);
    let definition =
        all.iter().find(|(n, _)| n.ends_with("/definition.json")).unwrap().0.clone();

    let without: Vec<_> = all.iter().filter(|(n, _)| *n != definition).cloned().collect();
    let e = read_package(&rezip(&without), "p.zip").unwrap_err();
    assert!(matches!(&e, ExportError::Part { part, .. } if *part == definition), "{e}");
    assert_eq!(e.to_string(), format!("p.zip: {definition}: missing from the package"));
    let report = check_bytes(&rezip(&without), "p.zip", None);
    assert_eq!(report.findings[0].rule, "package.part");
    assert!(report.findings[0].message.contains(&definition));

    let broken: Vec<_> = all
        .iter()
        .map(|(n, b)| {
            if n == "manifest.json" {
                (n.clone(), b"{\"schema\": ".to_vec())
            } else {
                (n.clone(), b.clone())
            }
        })
        .collect();
    let e = read_package(&rezip(&broken), "p.zip").unwrap_err().to_string();
    assert!(e.starts_with("p.zip: manifest.json: not valid JSON at line 1"), "{e}");

    // Flip bytes inside definition.json's compressed data: a CRC or
    // deflate error, named by the part.
    let mut corrupt = zip.clone();
    let name = definition.as_bytes();
    let at = corrupt.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    for b in &mut corrupt[at + 10..at + 40] {
        *b ^= 0x5a;
    }
    let e = read_package(&corrupt, "p.zip").unwrap_err().to_string();
    assert!(e.starts_with(&format!("p.zip: {definition}: ")), "{e}");

    let e = read_package(b"PK\x03\x04 not a zip", "p.zip").unwrap_err().to_string();
    assert!(e.starts_with("p.zip: not a readable zip file"), "{e}");
}

#[test]
fn a_package_whose_manifests_disagree_with_its_parts_is_reported() {
    let zip = to_power_automate(
        &source("create-team.json"),
        "f",
        &connector(Profile::Typed),
        &ExportOptions::default(),
    )
    .unwrap();
    let all: Vec<_> = parts(&zip)
        .into_iter()
        .map(|(n, b)| {
            if n.ends_with("/apisMap.json") {
                (n, br#"{"shared_ms-graph-batch-connector": "not-a-resource"}"#.to_vec())
            } else {
                (n, b)
            }
        })
        .collect();
    let report = check_bytes(&rezip(&all), "p.zip", None);
    assert_eq!(report.rules(), ["package.manifest"], "{report}");
    assert!(report.findings[0].file.ends_with("/apisMap.json"), "{report}");
    assert!(report.findings[0].message.contains("'not-a-resource'"), "{report}");
}

/// Runs `workflow` from `value` as `name` on a fresh emulator: the action
/// statuses and the Graph answers.
async fn run_export(
    value: &Value,
    profile: Profile,
    team: &str,
) -> (Vec<(String, String)>, Vec<Value>, usize) {
    let lab = Lab::start(None).await;
    let engine = lab.engine(profile);
    let workflow = from_value(value, "flow").unwrap();
    let run = run_named(&engine, &workflow, team).await;
    assert_eq!(run.status, Status::Succeeded, "{:#}", run.to_json());
    let statuses = run
        .actions
        .iter()
        .map(|(k, v)| (k.clone(), v.status.as_str().to_owned()))
        .collect();
    let mut answers = Vec::new();
    for action in run.actions.keys().filter(|k| k.starts_with("Batch")) {
        for r in responses(&run, action) {
            answers.push(json!({"action": action, "status": r["status"],
                "displayName": r["body"]["displayName"]}));
        }
    }
    (statuses, answers, lab.groups_named(team))
}

#[tokio::test]
async fn exports_run_like_their_source_against_the_emulator() {
    for name in FLOWS {
        let c = connector(Profile::Typed);
        let src = source(name);
        let template =
            to_logic_app(&src, name, &c, &ExportOptions::default()).unwrap().template;
        let zip = to_power_automate(&src, name, &c, &ExportOptions::default()).unwrap();
        let package = read_package(&zip, "p.zip").unwrap().flow;
        let expected = run_export(&src, Profile::Typed, "ExportTeam").await;
        assert_eq!(expected.2, 1);
        assert!(!expected.1.is_empty());
        assert_eq!(
            run_export(&template, Profile::Typed, "ExportTeam").await,
            expected,
            "{name}: template"
        );
        assert_eq!(
            run_export(&package, Profile::Typed, "ExportTeam").await,
            expected,
            "{name}: package"
        );
    }
}

/// Every GUID in `value` (keys and strings) replaced by `[guid]`.
fn normalise(value: &Value) -> Value {
    fn text(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let is_guid = b.len() - i >= 36
                && b[i..i + 36].iter().enumerate().all(|(j, c)| match j {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_hexdigit(),
                });
            if is_guid {
                out.push_str("[guid]");
                i += 36;
            } else {
                let c = s[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (text(k), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn exported_files_match_their_snapshots() {
    for name in FLOWS {
        let c = connector(Profile::Typed);
        let export =
            to_logic_app(&source(name), name, &c, &ExportOptions::default()).unwrap();
        let stem = name.trim_end_matches(".json");
        let mut template = export.template.clone();
        assert_eq!(template["resources"][0]["properties"]["swagger"], c.swagger);
        template["resources"][0]["properties"]["swagger"] =
            json!("[the connector's swagger]");
        insta::assert_json_snapshot!(
            format!("{stem}.logicapp.template"),
            normalise(&template)
        );
        insta::assert_json_snapshot!(
            format!("{stem}.logicapp.parameters"),
            normalise(&export.parameters)
        );
        let zip = to_power_automate(&source(name), name, &c, &ExportOptions::default())
            .unwrap();
        let listing: Vec<Value> = parts(&zip)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".json") && !n.ends_with("apiDefinition.swagger.json"))
            .map(|(n, b)| json!({"part": n, "json": serde_json::from_slice::<Value>(&b).unwrap()}))
            .collect();
        insta::assert_json_snapshot!(
            format!("{stem}.powerautomate"),
            normalise(&json!(listing))
        );
    }
}
