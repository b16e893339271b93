//! Step 6 — the "Create Team" flow.
//!
//! The flow the lab builds in Power Automate, as its definition
//! (`lab-steps/flows/create-team.json`), run by graphlab-flow with Logic
//! Apps' semantics through the connector of step 3 and the cached
//! connection of step 4: `Batch POST-groups` creates a Microsoft 365 group
//! named after the flow's `Name` input, `Delay` waits one minute for the
//! group to replicate (5 seconds against the embedded tenant:
//! `--time-scale`), and `Batch PUT-team` turns the group into a team, whose
//! item answers `201`. Run again with the same name, the step finds the
//! group and its team and runs nothing.
//!
//! ```console
//! cargo run -p lab-steps --bin step06-create-flow -- --name LabTeam
//! ```

use std::time::Duration;

use anyhow::{Context, ensure};
use clap::Parser;
use graphlab_batch::{BatchItem, Version};
use lab_steps::{
    Lab, LabArgs, call,
    flow::{CREATE_TEAM, item_body, item_statuses, run_flow},
};
use serde_json::{Value, json};

/// Run the "Create Team" flow: a group, a one-minute Delay, its team.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    lab: LabArgs,
    /// The flow's `Name` input: the group's display name and mail nickname
    /// (no spaces).
    #[arg(long, default_value = "GraphBatchLab")]
    name: String,
    /// Divide the flow's waits by N (default: 12 against the embedded
    /// tenant, 1 against a real one).
    #[arg(long, value_name = "N")]
    time_scale: Option<f64>,
}

fn main() -> std::process::ExitCode {
    lab_steps::run(step(Args::parse()))
}

async fn step(args: Args) -> anyhow::Result<()> {
    let name = lab_steps::check_group_name(&args.name)?;
    let lab = Lab::open(&args.lab)?;
    let tokens = lab.connection().await?;
    let graph = lab.graph(tokens.clone(), Version::V1);

    // ANCHOR: existing
    let existing = lab_steps::find_group(&graph, name).await?;
    let has_team = match &existing {
        Some(id) => {
            let team = graph.run(vec![BatchItem::get("team", format!("/teams/{id}"))]);
            team.await?.outcomes[0].1.is_success()
        }
        None => false,
    };
    // ANCHOR_END: existing

    // ANCHOR: flow
    let (group_id, status, changed) = match existing {
        Some(id) if has_team => {
            lab.say(format!("Group '{name}' and its team already exist"));
            (id, 200, false)
        }
        // A group left without a team (an earlier run stopped between the
        // two requests): add the team, retrying while Graph answers 404.
        Some(id) => {
            let put = BatchItem::put("1", format!("/groups/{id}/team"), team_settings())
                .retry_while(&[404], Duration::from_secs(120));
            let response = call(&graph, put).await.context("Batch PUT-team")?;
            lab.say(format!(
                "Batch PUT-team: {}, team '{name}' created",
                response.status
            ));
            (id, response.status, true)
        }
        None => {
            let run = run_flow(&lab, tokens, CREATE_TEAM, name, args.time_scale).await?;
            let group = item_body(&run, "Batch_POST-groups", "1").unwrap_or(Value::Null);
            let team = item_statuses(&run, "Batch_PUT-team");
            let status = team.first().map_or(0, |(_, s)| *s);
            ensure!(
                status == 201,
                "Batch PUT-team's item answered {status}, not 201 (the run succeeded: a \
                 $batch action succeeds whatever its items answer)"
            );
            let id = group["id"].as_str().context("Batch POST-groups: no group id")?;
            (id.to_owned(), 201, true)
        }
    };
    // ANCHOR_END: flow

    lab.report(&json!({
        "step": "step06-create-flow",
        "changed": changed,
        "name": name,
        "groupId": group_id,
        "teamStatus": status,
    }));
    Ok(())
}

/// The body of the lab's `PUT /groups/{id}/team`.
fn team_settings() -> Value {
    json!({
        "memberSettings": { "allowCreateUpdateChannels": true },
        "messagingSettings": {
            "allowUserEditMessages": true,
            "allowUserDeleteMessages": true,
        },
        "funSettings": { "allowGiphy": true, "giphyContentRating": "strict" },
    })
}
