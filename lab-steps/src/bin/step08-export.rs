//! Step 8 — take the flows to Azure and Power Automate.
//!
//! The lab's flows (`lab-steps/flows/*.json`) with the connector of step 3
//! (`.lab/connector/lab`), exported both ways into `.lab/export/`: for Logic
//! Apps, an ARM template (`NAME.json`: the custom API, its connection and the
//! workflow) and its parameters file (`NAME.parameters.json`); for Power
//! Automate, an import package (`NAME.zip`). Each export is checked as
//! `graphlab flow check` would check it. Exports are reproducible (the same
//! flows and connector give the same bytes), so a second run writes nothing.
//! The client secret is never written: it is given at deployment.
//!
//! ```console
//! cargo run -p lab-steps --bin step08-export
//! ```

use std::{fs, path::PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use graphlab_flow::export::{
    ConnectorPackage, ExportOptions, Target, to_logic_app, to_power_automate, validate,
};
use graphlab_fs::{Access, write_atomically};
use lab_steps::{Lab, LabArgs, flow, shown};
use serde_json::{Value, json};

/// Export every lab flow as an ARM template and a Power Automate package.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
}

/// One export of one flow: its files (path, bytes), and the check's report.
struct Export {
    flow: &'static str,
    target: Target,
    files: Vec<(PathBuf, Vec<u8>)>,
    report: graphlab_flow::check::Report,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let lab = Lab::open(&args.lab)?;
    let files = lab.files();

    // ANCHOR: connector
    let package = files.connector("lab");
    if !package.is_dir() {
        bail!(
            "no connector package in {}: run step03-create-connector first",
            shown(&package)
        );
    }
    let connector = ConnectorPackage::read_dir(&package)?;
    // ANCHOR_END: connector

    // ANCHOR: export
    let out = files.export();
    let mut exports = Vec::new();
    for flow in flow::ALL {
        let source: Value = serde_json::from_str(flow.text)
            .with_context(|| format!("{} is not JSON", flow.path))?;
        let stem =
            flow.path.rsplit('/').next().unwrap_or(flow.path).trim_end_matches(".json");
        // No name and no creation time: both come from the flow, so that
        // the same flow and connector give the same bytes.
        let options = ExportOptions::default();

        let template = to_logic_app(&source, flow.path, &connector, &options)?;
        let path = out.join(format!("{stem}.json"));
        let report = validate::check_template(&template.template, &shown(&path), None);
        exports.push(Export {
            flow: flow.path,
            target: Target::LogicApp,
            files: template.files(&path),
            report,
        });

        let zip = to_power_automate(&source, flow.path, &connector, &options)?;
        let path = out.join(format!("{stem}.zip"));
        let report = validate::check_package(&zip, &shown(&path), None);
        exports.push(Export {
            flow: flow.path,
            target: Target::PowerAutomate,
            files: vec![(path, zip)],
            report,
        });
    }
    // ANCHOR_END: export

    // ANCHOR: check
    for export in &exports {
        if let Some(error) = export
            .report
            .findings
            .iter()
            .find(|f| f.severity == graphlab_flow::check::Severity::Error)
        {
            bail!(
                "the {} export of {} does not pass the check ({} error(s)), nothing written: {error}",
                export.target,
                export.flow,
                export.report.errors()
            );
        }
    }
    // ANCHOR_END: check

    // ANCHOR: write
    let mut changed = false;
    fs::create_dir_all(&out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    for (path, bytes) in exports.iter().flat_map(|e| &e.files) {
        if fs::read(path).is_ok_and(|old| old == *bytes) {
            continue;
        }
        // No secret inside (the template asks for it at deployment), so
        // readable by others, and replaced whole or not at all.
        write_atomically(path, bytes, Access::Shared)
            .with_context(|| format!("cannot write {}", path.display()))?;
        changed = true;
    }
    // ANCHOR_END: write

    let name =
        |path: &PathBuf| path.strip_prefix(&out).unwrap_or(path).display().to_string();
    lab.say(format!(
        "{} {} export(s) of {} flow(s) in {}:",
        if changed { "Wrote" } else { "Up to date:" },
        exports.len(),
        flow::ALL.len(),
        shown(&out)
    ));
    for export in &exports {
        let what = match export.target {
            Target::LogicApp => "Logic Apps template + parameters",
            Target::PowerAutomate => "Power Automate package",
        };
        let names: Vec<String> = export
            .files
            .iter()
            // Names only: a zip's size varies with how the client id compresses.
            .map(|(path, _)| name(path))
            .collect();
        lab.say(format!(
            "  {}: {what}, checked: {} error(s), {} warning(s)",
            names.join(", "),
            export.report.errors(),
            export.report.warnings()
        ));
    }
    lab.say(
        "Deploy the templates with az deployment group create (give clientSecret then),",
    );
    lab.say("import the packages in Power Automate (My flows, Import, Import Package (Legacy)).");

    lab.report(&json!({
        "step": "step08-export",
        "changed": changed,
        "dir": shown(&out),
        "exports": exports.iter().map(|e| json!({
            "flow": e.flow,
            "to": e.target.to_string(),
            "files": e.files.iter().map(|(p, _)| name(p)).collect::<Vec<_>>(),
            "errors": e.report.errors(),
            "warnings": e.report.warnings(),
        })).collect::<Vec<_>>(),
    }));
    Ok(())
}
